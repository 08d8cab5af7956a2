// Before a launch: can the chosen interpreter run the trainer? If not, say why (the first error)
// and offer the two ways on — set up the trainer environment, or select another interpreter.
import * as vscode from 'vscode';
import type { PythonChoice } from '../runs/pythonResolver';
import { probeInterpreter, type ProbeResult } from '../runs/interpreterProbe';

/** Implemented by the "Configure and launch" work; offered here, never registered here. */
export const SET_UP_COMMAND = 'factRlhf.setUpTrainerEnvironment';
export const SET_UP_ACTION = 'Set Up Trainer Environment';
export const SELECT_ACTION = 'Select Interpreter';
/** Shown in the trainer's own missing-package messages when the editor launches it. */
export const SETUP_HINT = `run "Fact-RLHF: ${SET_UP_ACTION}"`;

export interface InterpreterNotice {
  message: string;
  actions: string[];
  firstError: string;
}

/** Thrown by a launch refused before it started; the command shows it with its actions. */
export class InterpreterProblem extends Error {
  constructor(readonly notice: InterpreterNotice) {
    super(notice.message);
  }
}

let lastNotice: InterpreterNotice | undefined;

/** The last interpreter problem shown (for the editor tests, which cannot read toasts). */
export function lastInterpreterNotice(): InterpreterNotice | undefined {
  return lastNotice;
}

const SOURCE_WORDS: Record<PythonChoice['source'], string> = {
  setting: 'from the setting factRlhf.pythonPath',
  'python-extension': "the Python extension's interpreter; factRlhf.pythonPath is not set",
  venv: 'a .venv in the workspace; factRlhf.pythonPath is not set',
  path: 'python3 on PATH; factRlhf.pythonPath is not set',
};

export function noticeFor(choice: PythonChoice, probe: Extract<ProbeResult, { ok: false }>): InterpreterNotice {
  const what =
    probe.reason === 'missing'
      ? `cannot import ${probe.missing.join(', ')}`
      : probe.reason === 'not-found'
        ? 'was not found'
        : 'could not be checked';
  return {
    message: `Fact-RLHF: the trainer cannot start: ${choice.path} (${SOURCE_WORDS[choice.source]}) ${what}. First error: ${probe.firstError}`,
    actions: [SET_UP_ACTION, SELECT_ACTION],
    firstError: probe.firstError,
  };
}

/** Throws InterpreterProblem when the interpreter cannot import the trainer's packages. */
export async function ensureInterpreter(choice: PythonChoice, log: vscode.LogOutputChannel): Promise<void> {
  const probe = await probeInterpreter(choice.path);
  if (probe.ok) return;
  if (probe.reason === 'broken' && /did not finish/.test(probe.firstError)) {
    // A slow disk or a cold cache is no reason to refuse: the trainer reports its own errors.
    log.warn(`interpreter check of ${choice.path}: ${probe.firstError}; launching anyway`);
    return;
  }
  const notice = noticeFor(choice, probe);
  log.error(notice.message);
  throw new InterpreterProblem(notice);
}

/** Shows the notice with its actions; the actions run when picked. */
export function showInterpreterNotice(notice: InterpreterNotice, resource: vscode.Uri | undefined): void {
  lastNotice = notice;
  void vscode.window.showErrorMessage(notice.message, ...notice.actions).then(async (pick) => {
    if (pick === SET_UP_ACTION) await runSetUp();
    else if (pick === SELECT_ACTION) await selectInterpreter(resource);
  });
}

/** Runs the set-up command when it is registered, else says what to install. */
export async function runSetUp(): Promise<void> {
  const commands = await vscode.commands.getCommands(true);
  if (commands.includes(SET_UP_COMMAND)) {
    await vscode.commands.executeCommand(SET_UP_COMMAND);
    return;
  }
  void vscode.window.showInformationMessage(
    'Fact-RLHF: install the trainer packages into a Python ≥ 3.10 environment (pip install torch transformers peft accelerate safetensors tokenizers pillow pyyaml jsonschema), then select it.',
  );
}

/** The Python extension's picker when it is installed, else a file picker that writes factRlhf.pythonPath. */
export async function selectInterpreter(resource: vscode.Uri | undefined): Promise<string | undefined> {
  if (vscode.extensions.getExtension('ms-python.python')) {
    await vscode.commands.executeCommand('python.setInterpreter');
    return undefined;
  }
  const picked = await vscode.window.showOpenDialog({
    title: 'Python interpreter for the Fact-RLHF trainer',
    openLabel: 'Use this interpreter',
    canSelectMany: false,
    canSelectFolders: false,
    defaultUri: vscode.workspace.getWorkspaceFolder(resource ?? vscode.Uri.file('/'))?.uri,
  });
  const path = picked?.[0]?.fsPath;
  if (!path) return undefined;
  // Per workspace: an interpreter belongs to a project's environment and to the machine it runs on.
  const target = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await vscode.workspace.getConfiguration('factRlhf', resource).update('pythonPath', path, target);
  return path;
}
