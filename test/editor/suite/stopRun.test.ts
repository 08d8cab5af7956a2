// Stop Run when the last run has already ended says nothing is running instead of "stopping" it.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activateApi } from './helpers';

describe('Stop Run', () => {
  it('says nothing is running when no run is live', async () => {
    await activateApi();
    // After the PPO run test the last run has finished; run alone, there is no run at all.
    const result = await vscode.commands.executeCommand<unknown>('factRlhf.stopRun');
    assert.equal(typeof result, 'string', `the command resolved with ${String(result)}`);
    assert.match(result as string, /^Fact-RLHF: nothing is running/);
  });
});
