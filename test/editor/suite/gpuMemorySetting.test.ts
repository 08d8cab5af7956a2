// The GPU-size setting was renamed (factRlhf.gpuMemoryGiB → factRlhf.memoryPerGPU, for its title in
// the Settings editor): the old key still takes effect while the new one is unset, and the new one
// wins once set. Seen through the language server's gpu-memory warning on the 13B recipe.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activateApi, waitFor, workspaceFile } from './helpers';

function gpuMemoryWarning(uri: vscode.Uri): vscode.Diagnostic | undefined {
  return vscode.languages
    .getDiagnostics(uri)
    .find((d) => d.source === 'fact-rlhf' && (typeof d.code === 'object' ? d.code.value : d.code) === 'gpu-memory');
}

describe('GPU memory setting (renamed)', () => {
  it('the old factRlhf.gpuMemoryGiB applies while factRlhf.memoryPerGPU is unset; the new key wins once set', async function () {
    this.timeout(90_000);
    const api = await activateApi();
    await api.languageClientReady();
    const settings = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('factRlhf');
    assert.equal(settings().inspect('memoryPerGPU')?.workspaceValue, undefined, 'the runner leaves the new key unset');
    const uri = workspaceFile('gpu-memory.rlhf.yaml');
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    try {
      await settings().update('gpuMemoryGiB', 24, vscode.ConfigurationTarget.Workspace);
      const warning = await waitFor('the gpu-memory warning for a 24 GiB GPU (old key)', 30_000, () => gpuMemoryWarning(uri));
      assert.match(warning.message, /than the 24 GiB GPU/);

      await settings().update('memoryPerGPU', 80, vscode.ConfigurationTarget.Workspace);
      await waitFor('the warning to go with an 80 GiB GPU (new key)', 30_000, () => (gpuMemoryWarning(uri) ? undefined : true));
    } finally {
      await settings().update('memoryPerGPU', undefined, vscode.ConfigurationTarget.Workspace);
      await settings().update('gpuMemoryGiB', undefined, vscode.ConfigurationTarget.Workspace);
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    }
  });
});
