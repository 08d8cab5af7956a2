// Restricted Mode: the launch and scoring commands stay visible and say why they do nothing, with the way out.
import * as vscode from 'vscode';

export const TRUST_MESSAGE =
  'Fact-RLHF: Trust this folder to launch training. In Restricted Mode configs are checked, but no run is launched and no model is loaded.';
export const MODEL_TRUST_MESSAGE =
  "Fact-RLHF: Trust this folder to score with a reward model. In Restricted Mode no model is loaded: loading one reads the workspace's model files and may run its Python interpreter (to export an rm run).";
export const TRUST_ACTION = 'Manage Workspace Trust';

function allowedOr(message: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window.showWarningMessage(message, TRUST_ACTION).then((pick) => {
    if (pick === TRUST_ACTION) void vscode.commands.executeCommand('workbench.trust.manage');
  });
  return false;
}

/** True when launching is allowed; otherwise shows why, with an action that opens the trust editor. */
export function launchAllowed(): boolean {
  return allowedOr(TRUST_MESSAGE);
}

/** True when a reward model may be loaded (and exported); otherwise shows why, as launchAllowed does. */
export function modelLoadAllowed(): boolean {
  return allowedOr(MODEL_TRUST_MESSAGE);
}
