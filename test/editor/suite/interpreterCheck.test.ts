// Start PPO on an interpreter without torch (Debian's system python3): refused before launch with
// the first import error, the set-up and select actions offered, and no run folder created.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import * as vscode from 'vscode';
import { activateApi, extension, workspaceFile } from './helpers';

const NO_TORCH_PYTHON = '/usr/bin/python3';

function runFolders(): string[] {
  const dir = workspaceFile('runs').fsPath;
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

describe('interpreter check before a launch', () => {
  it('Start PPO with an interpreter that lacks torch shows the first error, offers set-up, creates no run folder', async function () {
    this.timeout(120_000);
    if (!existsSync(NO_TORCH_PYTHON) || spawnSync(NO_TORCH_PYTHON, ['-c', 'import torch']).status === 0) {
      this.skip(); // this machine's system python3 has torch: nothing to refuse
    }
    const api = await activateApi();
    const settings = vscode.workspace.getConfiguration('factRlhf');
    const before = settings.inspect<string>('pythonPath')?.workspaceValue;
    await settings.update('pythonPath', NO_TORCH_PYTHON, vscode.ConfigurationTarget.Workspace);
    try {
      const foldersBefore = runFolders();
      const config = workspaceFile('tiny-ppo.rlhf.yaml');
      const started = await vscode.commands.executeCommand<unknown>('factRlhf.startPpo', config);
      assert.equal(started, undefined, 'the launch was not refused');
      const notice = api.lastInterpreterNotice();
      assert.ok(notice, 'no interpreter notice was shown');
      assert.equal(notice.firstError, "ModuleNotFoundError: No module named 'torch'");
      assert.ok(notice.message.includes(NO_TORCH_PYTHON), notice.message);
      assert.ok(notice.message.includes('factRlhf.pythonPath'), `the notice does not name the setting: ${notice.message}`);
      assert.deepEqual(notice.actions, ['Set Up Trainer Environment', 'Select Interpreter']);
      // No hint into the extension's install folder (scripts/setup-python.sh there is nowhere to run).
      assert.ok(!notice.message.includes(extension().extensionUri.fsPath), notice.message);
      assert.ok(!/setup-python/.test(notice.message), notice.message);
      assert.deepEqual(runFolders(), foldersBefore, 'a launch that never started left a run folder');
    } finally {
      await settings.update('pythonPath', before, vscode.ConfigurationTarget.Workspace);
    }
  });
});
