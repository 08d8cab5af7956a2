// An eval run's results in the editor: a read-only Markdown document (a virtual document, so it
// cannot be edited or saved over the run) shown with VS Code's Markdown preview when there is one.
import * as vscode from 'vscode';
import { basename } from 'node:path';
import { formatEvalResults, readEvalResults } from '../runs/evalResults';

export const EVAL_RESULTS_SCHEME = 'fact-rlhf-results';

let registered: vscode.Disposable | undefined;

class ResultsProvider implements vscode.TextDocumentContentProvider {
  provideTextDocumentContent(uri: vscode.Uri): string {
    const runDir = decodeURIComponent(uri.query);
    const results = readEvalResults(runDir);
    return results
      ? formatEvalResults(runDir, results)
      : `# ${basename(runDir)}\n\nNo results.json in \`${runDir}\` (a stopped or failed evaluation writes none).\n`;
  }
}

/** Registered on first use: the run machinery it reads loads lazily (activation stays light). */
function ensureProvider(context: vscode.ExtensionContext): void {
  if (registered) return;
  registered = vscode.workspace.registerTextDocumentContentProvider(EVAL_RESULTS_SCHEME, new ResultsProvider());
  context.subscriptions.push(registered);
}

/** The read-only document of `runDir`'s results. */
export function evalResultsUri(runDir: string): vscode.Uri {
  return vscode.Uri.from({ scheme: EVAL_RESULTS_SCHEME, path: `/${basename(runDir)}-results.md`, query: encodeURIComponent(runDir) });
}

/** Opens the results; false when the run wrote none. */
export async function showEvalResults(context: vscode.ExtensionContext, runDir: string): Promise<boolean> {
  if (!readEvalResults(runDir)) return false;
  ensureProvider(context);
  const uri = evalResultsUri(runDir);
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.languages.setTextDocumentLanguage(doc, 'markdown');
  try {
    // The rendered table; the source document stays open beneath it as the fallback.
    await vscode.window.showTextDocument(doc, { preview: true, preserveFocus: true });
    await vscode.commands.executeCommand('markdown.showPreview', uri);
  } catch {
    // no Markdown extension (a trimmed build): the Markdown source is still readable
  }
  return true;
}
