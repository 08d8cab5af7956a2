// The runs that were live when the window went away, remembered per workspace for re-attaching.
import type * as vscode from 'vscode';

export const LIVE_RUNS_KEY = 'factRlhf.liveRunDirs';

export function hasRememberedLiveRuns(context: vscode.ExtensionContext): boolean {
  return context.workspaceState.get<string[]>(LIVE_RUNS_KEY, []).length > 0;
}
