// A command whose feature has not landed says so, and returns the message it showed.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activateApi } from './helpers';

describe('commands not built yet', () => {
  it('factRlhf.openSamples answers "not available yet"', async () => {
    await activateApi();
    const result = await vscode.commands.executeCommand<unknown>('factRlhf.openSamples');
    assert.equal(typeof result, 'string', `the command resolved with ${String(result)}`);
    assert.match(result as string, /not available yet/);
    assert.match(result as string, /Open Samples/);
  });
});
