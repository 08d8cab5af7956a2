// Restricted Mode: the launch commands stay visible and say why they do nothing, with the way out.
import * as vscode from 'vscode';

export const TRUST_MESSAGE =
  'Fact-RLHF: Trust this folder to launch training. In Restricted Mode configs are checked, but no run is launched and no model is loaded.';
export const TRUST_ACTION = 'Manage Workspace Trust';

/** True when launching is allowed; otherwise shows why, with an action that opens the trust editor. */
export function launchAllowed(): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window.showWarningMessage(TRUST_MESSAGE, TRUST_ACTION).then((pick) => {
    if (pick === TRUST_ACTION) void vscode.commands.executeCommand('workbench.trust.manage');
  });
  return false;
}
