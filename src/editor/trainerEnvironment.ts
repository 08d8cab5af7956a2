// "Fact-RLHF: Set Up Trainer Environment": runs the extension's own scripts/setup-python.sh with a
// progress notification that streams its lines (cancellable), into the workspace's `.venv` (or, with
// no folder open and the user's consent, the extension's global storage), then points
// factRlhf.pythonPath at the new interpreter. Refused in an untrusted workspace.
import * as vscode from 'vscode';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runTrainerSetup, venvInterpreter } from '../runs/trainerSetup';
import { pythonFromExtension } from './pythonExtension';
import { trustedOrExplain } from './trust';

export const SET_UP_TRAINER_ENVIRONMENT = 'factRlhf.setUpTrainerEnvironment';

export interface TrainerEnvironmentResult {
  python: string;
  venv: string;
  /** Where factRlhf.pythonPath was written. */
  target: 'workspace' | 'workspaceFolder' | 'global';
}

async function chooseTarget(context: vscode.ExtensionContext): Promise<{ venv: string; folder?: vscode.WorkspaceFolder } | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length === 0) {
    const pick = await vscode.window.showInformationMessage(
      "Fact-RLHF: no folder is open. Create the trainer environment in the extension's own storage (used by every window)?",
      { modal: true },
      'Create There',
    );
    if (pick !== 'Create There') return undefined;
    mkdirSync(context.globalStorageUri.fsPath, { recursive: true });
    return { venv: join(context.globalStorageUri.fsPath, '.venv') };
  }
  const folder =
    folders.length === 1
      ? folders[0]
      : await vscode.window.showWorkspaceFolderPick({ placeHolder: 'Folder to create the trainer environment (.venv) in' });
  return folder ? { venv: join(folder.uri.fsPath, '.venv'), folder } : undefined;
}

export async function setUpTrainerEnvironment(
  context: vscode.ExtensionContext,
  log: () => vscode.LogOutputChannel,
): Promise<TrainerEnvironmentResult | undefined> {
  if (!trustedOrExplain('Fact-RLHF: setting up the trainer environment installs and runs code; trust the workspace first.'))
    return undefined;
  const target = await chooseTarget(context);
  if (!target) return undefined;
  const script = vscode.Uri.joinPath(context.extensionUri, 'scripts', 'setup-python.sh').fsPath;
  // The Python extension's interpreter (if any) creates the venv; the script's python3 otherwise.
  const selected = await pythonFromExtension(target.folder?.uri);
  const basePython = selected && selected !== venvInterpreter(target.venv) ? selected : undefined;
  const out = log();
  out.info(
    `setting up the trainer environment: bash ${script} (FACT_RLHF_VENV=${target.venv}${basePython ? `, PYTHON=${basePython}` : ''})`,
  );

  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Fact-RLHF: setting up the trainer environment', cancellable: true },
    async (progress, token) => {
      const abort = new AbortController();
      const sub = token.onCancellationRequested(() => abort.abort());
      try {
        return await runTrainerSetup({
          script,
          venv: target.venv,
          basePython,
          signal: abort.signal,
          onLine: (line) => {
            out.info(`[setup] ${line}`);
            progress.report({ message: line.slice(0, 200) });
          },
        });
      } finally {
        sub.dispose();
      }
    },
  );
  if (result.cancelled) {
    void vscode.window.showWarningMessage('Fact-RLHF: trainer environment set-up cancelled; factRlhf.pythonPath is unchanged.');
    return undefined;
  }
  if (!result.ok) {
    const why = result.tail.filter((l) => /error/i.test(l)).pop() ?? result.tail[result.tail.length - 1] ?? `exit code ${result.exitCode}`;
    void vscode.window
      .showErrorMessage(`Fact-RLHF: the trainer environment could not be set up: ${why}`, 'Show Log')
      .then((p) => p && out.show(true));
    return undefined;
  }
  const settings = vscode.workspace.getConfiguration('factRlhf', target.folder?.uri);
  // A workspace setting; per folder only in a multi-root workspace (each folder may have its own .venv).
  const multiRoot = (vscode.workspace.workspaceFolders?.length ?? 0) > 1;
  const where = !target.folder
    ? vscode.ConfigurationTarget.Global
    : multiRoot
      ? vscode.ConfigurationTarget.WorkspaceFolder
      : vscode.ConfigurationTarget.Workspace;
  await settings.update('pythonPath', result.python, where);
  out.info(`trainer environment ready: factRlhf.pythonPath = ${result.python}`);
  void vscode.window.showInformationMessage(`Fact-RLHF: trainer environment ready. factRlhf.pythonPath now points at ${result.python}.`);
  return { python: result.python, venv: target.venv, target: !target.folder ? 'global' : multiRoot ? 'workspaceFolder' : 'workspace' };
}
