// Entry point VS Code calls for the editor tests (extensionTestsPath): the standard Mocha layout,
// so the same bundle runs under code-server (test/editor/runner.mjs) and @vscode/test-electron.
import { runMochaSuite } from './mochaRun';

export function run(): Promise<void> {
  return runMochaSuite(async () => {
    await import('./activation.test');
    await import('./diagnostics.test');
    await import('./languageFeatures.test');
    await import('./interpreterCheck.test');
    await import('./ppoRun.test');
    await import('./stopRun.test');
    await import('./newExperiment.test');
    await import('./evaluate.test');
    await import('./scoreResponse.test');
    await import('./runsView.test');
    await import('./trainerEnvironment.test');
    await import('./alarms.test');
    await import('./sampleInspector.test');
    await import('./experimentForm.test');
    // Last: the language server keeps the last GPU size it was sent (a value of 0 does not reset it).
    await import('./gpuMemorySetting.test');
  });
}
