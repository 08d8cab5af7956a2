// "New Experiment from the Tiny Example": copies the extension's tiny CPU configs into the opened
// folder (a new user has no config yet, and the examples live inside the installed extension).
// "New Experiment…": a preset (tiny CPU, LLaVA-RLHF 7B, 13B) → a file name in the folder → a new
// `*.rlhf.yaml` (../viewModels/newExperiment.ts says why a copy), opened as the experiment form.
import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import {
  EXPERIMENT_PRESETS,
  experimentFileNameProblem,
  normaliseExperimentFileName,
  presetText,
  type ExperimentPreset,
} from '../viewModels/newExperiment';
import { EXPERIMENT_FORM_VIEW_TYPE } from './experimentForm';

export const NEW_EXPERIMENT_COMMAND = 'factRlhf.newExperiment';
export const NEW_EXPERIMENT_FROM_PRESET_COMMAND = 'factRlhf.newExperimentFromPreset';
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

/** The workspace folder a new experiment goes to (asked when there are several); undefined: none. */
async function targetFolder(): Promise<vscode.Uri | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length === 1) return folders[0].uri;
  if (folders.length > 1) return (await vscode.window.showWorkspaceFolderPick({ placeHolder: 'Folder for the new experiment' }))?.uri;
  void vscode.window
    .showInformationMessage('Fact-RLHF: open a folder first; the experiment and its runs go inside it.', 'Open Folder')
    .then((pick) => {
      if (pick) void vscode.commands.executeCommand('workbench.action.files.openFolder');
    });
  return undefined;
}

/** Copies the tiny examples (never over an existing file) and opens the PPO one; returns its URI. */
export async function newExperiment(extensionUri: vscode.Uri): Promise<vscode.Uri | undefined> {
  const target = await targetFolder();
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

/** What a caller (the editor tests) may pass to skip the two prompts. */
export interface NewExperimentArgs {
  preset?: ExperimentPreset['id'];
  fileName?: string;
}

/** "New Experiment…": preset → file name → the new file, opened as the form; returns its URI. */
export async function newExperimentFromPreset(
  context: vscode.ExtensionContext,
  args: NewExperimentArgs = {},
): Promise<vscode.Uri | undefined> {
  let preset = EXPERIMENT_PRESETS.find((p) => p.id === args.preset);
  if (args.preset && !preset) throw new Error(`unknown preset ${args.preset}: one of ${EXPERIMENT_PRESETS.map((p) => p.id).join(', ')}`);
  preset ??= (
    await vscode.window.showQuickPick(
      EXPERIMENT_PRESETS.map((p) => ({ label: p.label, detail: p.detail, preset: p })),
      { title: 'New Experiment', placeHolder: 'Start from a preset' },
    )
  )?.preset;
  if (!preset) return undefined;
  const folder = await targetFolder();
  if (!folder) return undefined;
  const exists = (relative: string): boolean => existsSync(vscode.Uri.joinPath(folder, relative).fsPath);
  let typed = args.fileName;
  if (typed === undefined) {
    let suggestion = preset.defaultFileName;
    for (let i = 2; exists(suggestion); i++) suggestion = preset.defaultFileName.replace(/\.rlhf\.yaml$/, `-${i}.rlhf.yaml`);
    typed = await vscode.window.showInputBox({
      title: `New Experiment: ${preset.label}`,
      prompt: 'File name in the folder (runs go to runs/ beside it)',
      value: suggestion,
      valueSelection: [0, suggestion.length - '.rlhf.yaml'.length],
      validateInput: (v) => experimentFileNameProblem(v, exists),
    });
    if (typed === undefined) return undefined;
  }
  const problem = experimentFileNameProblem(typed, exists);
  if (problem) throw new Error(problem);
  const fileName = normaliseExperimentFileName(typed);
  const example = vscode.Uri.joinPath(context.extensionUri, 'examples', preset.example);
  const exampleText = new TextDecoder().decode(await vscode.workspace.fs.readFile(example));
  const version = String((context.extension.packageJSON as { version?: unknown }).version ?? '');
  const uri = vscode.Uri.joinPath(folder, fileName);
  await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(presetText(preset, exampleText, fileName, version)));
  await vscode.commands.executeCommand('vscode.openWith', uri, EXPERIMENT_FORM_VIEW_TYPE);
  return uri;
}
