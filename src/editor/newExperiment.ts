// "New Experiment from the Tiny Example": copies the extension's tiny CPU configs into the opened
// folder (a new user has no config yet, and the examples live inside the installed extension).
import * as vscode from 'vscode';

export const NEW_EXPERIMENT_COMMAND = 'factRlhf.newExperiment';
/** Self-contained configs on the built-in world; PPO is the one opened. */
const TINY_EXAMPLES = ['tiny-ppo.rlhf.yaml', 'tiny-sft.rlhf.yaml', 'tiny-rm.rlhf.yaml'];

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}

/** Copies the tiny examples (never over an existing file) and opens the PPO one; returns its URI. */
export async function newExperiment(extensionUri: vscode.Uri): Promise<vscode.Uri | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  let target = folders.length === 1 ? folders[0].uri : undefined;
  if (folders.length > 1) target = (await vscode.window.showWorkspaceFolderPick({ placeHolder: 'Folder for the new experiment' }))?.uri;
  if (!target && folders.length === 0) {
    void vscode.window
      .showInformationMessage('Fact-RLHF: open a folder first; the experiment and its runs go inside it.', 'Open Folder')
      .then((pick) => {
        if (pick) void vscode.commands.executeCommand('workbench.action.files.openFolder');
      });
    return undefined;
  }
  if (!target) return undefined;
  const copied: string[] = [];
  for (const name of TINY_EXAMPLES) {
    const dest = vscode.Uri.joinPath(target, name);
    if (await exists(dest)) continue;
    await vscode.workspace.fs.copy(vscode.Uri.joinPath(extensionUri, 'examples', name), dest);
    copied.push(name);
  }
  const ppo = vscode.Uri.joinPath(target, TINY_EXAMPLES[0]);
  await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(ppo));
  if (copied.length) void vscode.window.showInformationMessage(`Fact-RLHF: added ${copied.join(', ')}. Runs go to runs/ beside them.`);
  return ppo;
}
