// "Set Up Trainer Environment" in real VS Code: it runs the extension's own scripts/setup-python.sh
// on the workspace's .venv and points factRlhf.pythonPath at it. The workspace's .venv here is a
// link to the suite's ready environment, so the real script finds it up to date (no install) and
// the command's whole path (progress, script, setting) runs for real in seconds.
import assert from 'node:assert/strict';
import { existsSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { activateApi, workspaceFile } from './helpers';

describe('Set Up Trainer Environment', () => {
  it('runs the set-up script on the workspace .venv and points factRlhf.pythonPath at it', async function () {
    this.timeout(120_000);
    await activateApi();
    const settings = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('factRlhf');
    const before = settings().inspect<string>('pythonPath');
    const ready = before?.workspaceValue ?? before?.globalValue;
    assert.ok(ready, "the runner sets factRlhf.pythonPath to the suite's environment");
    const venv = workspaceFile('.venv').fsPath;
    assert.ok(!existsSync(venv), 'the test workspace has no .venv of its own');
    symlinkSync(dirname(dirname(ready)), venv);
    try {
      const result = await vscode.commands.executeCommand<{ python: string; venv: string; target: string } | undefined>(
        'factRlhf.setUpTrainerEnvironment',
      );
      assert.ok(result, 'the set-up failed (see the Fact-RLHF log)');
      assert.equal(result.venv, venv);
      assert.equal(result.python, join(venv, 'bin', 'python'));
      assert.equal(result.target, 'workspace');
      assert.equal(
        settings().inspect<string>('pythonPath')?.workspaceValue,
        result.python,
        'the workspace setting names the new interpreter',
      );
    } finally {
      await settings().update('pythonPath', before?.workspaceValue, vscode.ConfigurationTarget.Workspace);
      rmSync(venv, { force: true });
    }
  });
});
