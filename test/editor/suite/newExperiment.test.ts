// "New Experiment from the Tiny Example" (the walkthrough's second step) copies the tiny configs
// out of the installed extension into the opened folder and opens the PPO one. "New Experiment…"
// writes a preset (here the tiny one) under the name given and opens it as the experiment form.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import * as vscode from 'vscode';
import { activateApi, extension, workspaceFile } from './helpers';

describe('new experiment', () => {
  it('copies tiny-sft/rm and opens tiny-ppo, keeping an existing tiny-ppo.rlhf.yaml', async () => {
    await activateApi();
    const existing = readFileSync(workspaceFile('tiny-ppo.rlhf.yaml').fsPath, 'utf8');
    const added = ['tiny-sft.rlhf.yaml', 'tiny-rm.rlhf.yaml'].map((n) => workspaceFile(n).fsPath);
    try {
      const opened = await vscode.commands.executeCommand<vscode.Uri | undefined>('factRlhf.newExperiment');
      assert.equal(opened?.fsPath, workspaceFile('tiny-ppo.rlhf.yaml').fsPath);
      assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, opened?.fsPath);
      assert.equal(readFileSync(opened!.fsPath, 'utf8'), existing, 'an existing config was overwritten');
      for (const file of added) {
        assert.ok(existsSync(file), `${file} was not copied`);
        const shipped = vscode.Uri.joinPath(extension().extensionUri, 'examples', file.split('/').pop()!).fsPath;
        assert.equal(readFileSync(file, 'utf8'), readFileSync(shipped, 'utf8'));
        assert.match(readFileSync(file, 'utf8'), /^output_dir: runs\b/m, 'runs go inside the opened folder');
      }
    } finally {
      for (const file of added) rmSync(file, { force: true });
    }
  });

  it('New Experiment… writes the tiny preset under the given name and opens it as the form; an existing name is refused', async () => {
    await activateApi();
    const file = workspaceFile('preset-study.rlhf.yaml').fsPath;
    try {
      const made = await vscode.commands.executeCommand<vscode.Uri | undefined>('factRlhf.newExperimentFromPreset', {
        preset: 'tiny',
        fileName: 'preset-study',
      });
      assert.equal(made?.fsPath, file);
      const text = readFileSync(file, 'utf8');
      assert.match(text, /^# preset-study: made by "Fact-RLHF: New Experiment…" from the preset/);
      assert.match(text, /^name: preset-study$/m);
      assert.match(text, /^output_dir: runs\b/m);
      const tab = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
      assert.ok(tab instanceof vscode.TabInputCustom && tab.viewType === 'factRlhf.experimentForm', 'opened as the form');
      assert.equal(tab.uri.fsPath, file);
      // The same name again: nothing is overwritten.
      const again = await vscode.commands.executeCommand<vscode.Uri | undefined>('factRlhf.newExperimentFromPreset', {
        preset: 'tiny',
        fileName: 'preset-study.rlhf.yaml',
      });
      assert.equal(again, undefined);
      assert.equal(readFileSync(file, 'utf8'), text);
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      rmSync(file, { force: true });
    }
  });
});
