// Shared by the editor tests: the extension under test, its automation API and small waits.
import * as vscode from 'vscode';
import type { FactRlhfApi } from '../../../src/extension';

export const EXTENSION_ID = 'fact-rlhf.fact-rlhf-studio';

/** The extension's own handle; fails the test with a clear message when it is not loaded. */
export function extension(): vscode.Extension<FactRlhfApi> {
  const ext = vscode.extensions.getExtension<FactRlhfApi>(EXTENSION_ID);
  if (!ext) throw new Error(`extension ${EXTENSION_ID} is not loaded in this VS Code`);
  return ext;
}

export async function activateApi(): Promise<FactRlhfApi> {
  return extension().activate();
}

/** A file of the opened test workspace (test/editor/workspace, as copied by the runner). */
export function workspaceFile(name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('no workspace folder is open: the runner opens test/editor/workspace');
  return vscode.Uri.joinPath(folder.uri, name);
}

/** Polls `probe` until it returns a value other than undefined; rejects after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => T | undefined | Promise<T | undefined>,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
