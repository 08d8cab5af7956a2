// Entry point of the Restricted Mode suite (`node test/editor/runner.mjs --restricted`): the runner
// starts code-server with Workspace Trust on and the test workspace untrusted. A suite of its own,
// because trust is fixed for a window: the ordinary suite needs a trusted one to launch training.
import { runMochaSuite } from './mochaRun';

export function run(): Promise<void> {
  return runMochaSuite(async () => {
    await import('./restrictedMode.test');
  });
}
