// The runs that were live when the window went away, remembered per workspace for re-attaching.
import type * as vscode from 'vscode';

export const LIVE_RUNS_KEY = 'factRlhf.liveRunDirs';

/** A remembered live run: its folder and the nonce it was launched with (older entries are bare folders). */
export interface LiveRun {
  dir: string;
  nonce?: string;
}

export function hasRememberedLiveRuns(context: vscode.ExtensionContext): boolean {
  return context.workspaceState.get<unknown[]>(LIVE_RUNS_KEY, []).length > 0;
}
