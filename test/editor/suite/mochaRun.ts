// Runs Mocha inside VS Code's extension host. The suite is one esbuild bundle, so test files are
// loaded by the caller's dynamic imports after Mocha has installed its globals (describe/it).
import Mocha from 'mocha';
import { reportResults, tagReporterOutput, taggedOutputRequested } from './report';

export interface SuiteOptions {
  /** Per-test timeout; slow tests raise their own with this.timeout(). */
  timeoutMs?: number;
}

export async function runMochaSuite(loadTests: () => Promise<void>, options: SuiteOptions = {}): Promise<void> {
  const grep = process.env.FACT_RLHF_EDITOR_GREP;
  const tagged = taggedOutputRequested();
  if (tagged) tagReporterOutput();
  const mocha = new Mocha({
    ui: 'bdd',
    reporter: 'spec',
    color: false,
    timeout: options.timeoutMs ?? 30_000,
    ...(grep ? { grep } : {}),
  });
  // What mocha.loadFiles() does per file: define describe/it/before... on the global object.
  mocha.suite.emit('pre-require', globalThis, 'fact-rlhf-editor-suite', mocha);
  await loadTests();
  const failures = await new Promise<number>((resolve) => {
    const runner = mocha.run(resolve);
    if (tagged) reportResults(runner);
  });
  // VS Code's test host turns a rejected run() into exit code 1; the runner reads the count itself.
  if (failures > 0) throw new Error(`${failures} editor test(s) failed`);
}
