// Restricted Mode: the launch and scoring commands stay visible and say why they do nothing, with the way out.
import * as vscode from 'vscode';

export const TRUST_MESSAGE =
  'Fact-RLHF: Trust this folder to launch training. In Restricted Mode configs are checked, but no run is launched and no model is loaded.';
export const MODEL_TRUST_MESSAGE =
  "Fact-RLHF: Trust this folder to score with a reward model. In Restricted Mode no model is loaded: loading one reads the workspace's model files and may run its Python interpreter (to export an rm run).";
export const TRUST_ACTION = 'Manage Workspace Trust';

/** Every Restricted Mode explanation shown so far (for the editor tests, which cannot read toasts). */
const shown: string[] = [];

export function restrictedModeNotices(): string[] {
  return [...shown];
}

/**
 * True when the workspace is trusted; otherwise shows `message` (why nothing happens) with an action
 * that opens the trust editor, and returns false.
 */
export function trustedOrExplain(message: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  shown.push(message);
  void vscode.window.showWarningMessage(message, TRUST_ACTION).then((pick) => {
    if (pick === TRUST_ACTION) void vscode.commands.executeCommand('workbench.trust.manage');
  });
  return false;
}

/** True when launching is allowed; otherwise shows why, with an action that opens the trust editor. */
export function launchAllowed(): boolean {
  return trustedOrExplain(TRUST_MESSAGE);
}

/** True when a reward model may be loaded (and exported); otherwise shows why, as launchAllowed does. */
export function modelLoadAllowed(): boolean {
  return trustedOrExplain(MODEL_TRUST_MESSAGE);
}
