// The VS Code end of every webview: loads an app's page (strict CSP with a fresh nonce, the app's
// bundle and stylesheet from dist/webview) and feeds what the view posts into its HostChannel, which
// validates and dispatches. Thin on purpose: the logic lives in channel.ts, VS Code-free.
import * as vscode from 'vscode';
import type { AnyContract } from '../../protocol/ipc';
import type { HostChannel } from './channel';
import { makeNonce, renderWebviewHtml } from './webviewHtml';

export interface WebviewPage {
  extensionUri: vscode.Uri;
  /** App folder under webview/: its bundle is dist/webview/<app>.js, its stylesheet <app>.css. */
  app: string;
  title: string;
  /** Folders the page may load from besides dist/webview and media/ (e.g. run folders for images). */
  extraRoots?: vscode.Uri[];
}

/** Renders the page into `webview` and connects its messages to `channel`, which waits for a new `ready`. */
export function attachWebview<T extends AnyContract>(
  webview: vscode.Webview,
  channel: HostChannel<T>,
  page: WebviewPage,
): vscode.Disposable {
  channel.reset();
  const dist = vscode.Uri.joinPath(page.extensionUri, 'dist', 'webview');
  const media = vscode.Uri.joinPath(page.extensionUri, 'media');
  webview.options = { enableScripts: true, localResourceRoots: [dist, media, ...(page.extraRoots ?? [])] };
  const subscription = webview.onDidReceiveMessage((data: unknown) => channel.receive(data));
  webview.html = renderWebviewHtml({
    title: page.title,
    scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, `${page.app}.js`)).toString(),
    styleUris: [webview.asWebviewUri(vscode.Uri.joinPath(dist, `${page.app}.css`)).toString()],
    cspSource: webview.cspSource,
    nonce: makeNonce(),
  });
  return subscription;
}
