// The reward-trace WebviewView: hosts the webview app, answers `ready` with a snapshot and forwards
// the TraceHub's batched deltas.
import * as vscode from 'vscode';
import type { HostToTraceWebview, TraceWebviewToHost } from '../../protocol';
import { TraceHub } from '../../viewModels/traceHub';
import { renderWebviewHtml, makeNonce } from './webviewHtml';

export const REWARD_TRACES_VIEW_ID = 'factRlhf.rewardTraces';

export interface TraceViewStats {
  resolved: boolean;
  snapshotsSent: number;
  deltasSent: number;
  lastRendered?: { runs: number; points: number };
}

export class RewardTraceViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  readonly hub: TraceHub;
  private view: vscode.WebviewView | undefined;
  private ready = false;
  private lastRendered: TraceViewStats['lastRendered'];
  private readonly disposables: vscode.Disposable[] = [];
  private readonly onSelectStepEmitter = new vscode.EventEmitter<{ runId: string; step: number }>();
  readonly onSelectStep = this.onSelectStepEmitter.event;

  constructor(
    private readonly extensionUri: vscode.Uri,
    maxUpdatesPerSecond: number,
    private readonly runFolders: () => vscode.Uri[],
  ) {
    this.hub = new TraceHub((m) => this.post(m), maxUpdatesPerSecond);
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.ready = false;
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview');
    const media = vscode.Uri.joinPath(this.extensionUri, 'media');
    view.webview.options = {
      enableScripts: true,
      localResourceRoots: [dist, media, ...this.runFolders()],
    };
    view.webview.html = renderWebviewHtml({
      title: 'Reward Traces',
      scriptUri: view.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'reward-traces.js')).toString(),
      styleUris: [view.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'reward-traces.css')).toString()],
      cspSource: view.webview.cspSource,
      nonce: makeNonce(),
    });
    this.disposables.push(
      view.webview.onDidReceiveMessage((m: TraceWebviewToHost) => this.onMessage(m)),
      view.onDidDispose(() => {
        this.view = undefined;
        this.ready = false;
      }),
    );
  }

  stats(): TraceViewStats {
    return {
      resolved: this.view !== undefined,
      snapshotsSent: this.hub.snapshotsSent,
      deltasSent: this.hub.deltasSent,
      lastRendered: this.lastRendered,
    };
  }

  async reveal(): Promise<void> {
    if (this.view) this.view.show(true);
    else await vscode.commands.executeCommand(`${REWARD_TRACES_VIEW_ID}.focus`);
  }

  dispose(): void {
    this.hub.dispose();
    this.onSelectStepEmitter.dispose();
    for (const d of this.disposables) d.dispose();
  }

  private onMessage(m: TraceWebviewToHost): void {
    switch (m.type) {
      case 'ready':
        this.ready = true;
        this.hub.sendSnapshot();
        break;
      case 'rendered':
        this.lastRendered = { runs: m.runs, points: m.points };
        break;
      case 'selectStep':
        this.onSelectStepEmitter.fire({ runId: m.runId, step: m.step });
        break;
    }
  }

  private post(message: HostToTraceWebview): void {
    // Before `ready` the webview would drop messages; the snapshot on `ready` carries everything.
    if (this.view && this.ready) void this.view.webview.postMessage(message);
  }
}
