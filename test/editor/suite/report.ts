// Output channel to test/editor/runner.mjs. In code-server the extension host's console reaches the
// runner only through the workbench log, mixed with the workbench's own lines, so the suite tags
// its lines: Mocha's report (pre-formatted, to print) and one JSON record per test (to count
// failures and write test-results/editor-results.json even when a timeout cuts the suite short).
// Only when the runner asks for it (FACT_RLHF_EDITOR_RUNNER=1): under @vscode/test-electron the
// suite prints plain Mocha output.
import { format } from 'node:util';
import Mocha from 'mocha';

/** Prefix of a line of Mocha's report. Keep in step with test/editor/runner.mjs. */
export const OUTPUT_MARKER = '@@fact-rlhf-editor-out@@';
/** Prefix of a JSON result record. Keep in step with test/editor/runner.mjs. */
export const RESULT_MARKER = '@@fact-rlhf-editor-result@@';

export function taggedOutputRequested(): boolean {
  return process.env.FACT_RLHF_EDITOR_RUNNER === '1';
}

/** Sends Mocha's reporter output through tagged, already formatted console lines. */
export function tagReporterOutput(): void {
  Mocha.reporters.Base.consoleLog = (...args: unknown[]): void => {
    for (const line of format(...args).split('\n')) console.log(`${OUTPUT_MARKER}${line}`);
  };
}

export interface TestRecord {
  event: 'test';
  title: string;
  fullTitle: string;
  state: 'passed' | 'failed' | 'pending';
  durationMs?: number;
  error?: string;
  stack?: string;
}

export interface EndRecord {
  event: 'end';
  passes: number;
  failures: number;
  pending: number;
  durationMs: number;
}

function emit(record: TestRecord | EndRecord): void {
  // console.log reaches the runner through VS Code's remote console (the only channel that works
  // the same in code-server and in a desktop VS Code started by @vscode/test-electron).
  console.log(`${RESULT_MARKER}${JSON.stringify(record)}`);
}

function describeError(err: unknown): { error: string; stack?: string } {
  if (err instanceof Error) return { error: err.message, stack: err.stack };
  return { error: String(err) };
}

/** Emits one record per finished test (and per failed hook) and a summary at the end. */
export function reportResults(runner: Mocha.Runner): void {
  const started = Date.now();
  let passes = 0;
  let failures = 0;
  let pending = 0;
  runner.on('pass', (test: Mocha.Test) => {
    passes += 1;
    emit({ event: 'test', title: test.title, fullTitle: test.fullTitle(), state: 'passed', durationMs: test.duration });
  });
  // Also fires for failed hooks ("before all" hook ...): those count as failures too.
  runner.on('fail', (test: Mocha.Runnable, err: unknown) => {
    failures += 1;
    emit({
      event: 'test',
      title: test.title,
      fullTitle: test.fullTitle(),
      state: 'failed',
      durationMs: test.duration,
      ...describeError(err),
    });
  });
  runner.on('pending', (test: Mocha.Test) => {
    pending += 1;
    emit({ event: 'test', title: test.title, fullTitle: test.fullTitle(), state: 'pending' });
  });
  runner.on('end', () => {
    emit({ event: 'end', passes, failures, pending, durationMs: Date.now() - started });
  });
}
