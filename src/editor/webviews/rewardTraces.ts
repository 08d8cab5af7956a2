// The reward-trace WebviewView: hosts the webview app through the shared webview host, answers
// `ready` with a snapshot and forwards the TraceHub's batched deltas.
import * as vscode from 'vscode';
import { rewardTracesContract, type RewardTracesContract } from '../../protocol/webviews/rewardTraces';
import { TraceHub } from '../../viewModels/traceHub';
import { HostChannel } from './channel';
import { attachWebview } from './webviewHost';

export const REWARD_TRACES_VIEW_ID = 'factRlhf.rewardTraces';

export interface TraceViewStats {
  resolved: boolean;
  snapshotsSent: number;
  deltasSent: number;
  lastRendered?: { runs: number; points: number };
  /** Messages from the webview dropped as malformed. */
  messagesDropped: number;
}

export class RewardTraceViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  readonly hub: TraceHub;
  private view: vscode.WebviewView | undefined;
  private lastRendered: TraceViewStats['lastRendered'];
  private readonly channel: HostChannel<RewardTracesContract>;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly onSelectStepEmitter = new vscode.EventEmitter<{ runId: string; step: number }>();
  readonly onSelectStep = this.onSelectStepEmitter.event;

  constructor(
    private readonly extensionUri: vscode.Uri,
    maxUpdatesPerSecond: number,
    private readonly runFolders: () => vscode.Uri[],
    log: (line: string) => void,
  ) {
    this.channel = new HostChannel({
      contract: rewardTracesContract,
      post: (m) => this.view?.webview.postMessage(m),
      // The snapshot that answers `ready` carries everything: nothing needs queueing before it.
      beforeReady: 'drop',
      onReady: () => this.hub.sendSnapshot(),
      commands: {
        rendered: (m) => {
          this.lastRendered = { runs: m.runs, points: m.points };
        },
        selectStep: (m) => this.onSelectStepEmitter.fire({ runId: m.runId, step: m.step }),
      },
      requests: {},
      log,
    });
    this.hub = new TraceHub((m) => this.channel.notify(m), maxUpdatesPerSecond);
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.disposables.push(
      attachWebview(view.webview, this.channel, {
        extensionUri: this.extensionUri,
        app: 'reward-traces',
        title: 'Reward Traces',
        extraRoots: this.runFolders(),
      }),
      view.onDidDispose(() => {
        this.view = undefined;
        this.channel.reset();
      }),
    );
  }

  stats(): TraceViewStats {
    return {
      resolved: this.view !== undefined,
      snapshotsSent: this.hub.snapshotsSent,
      deltasSent: this.hub.deltasSent,
      lastRendered: this.lastRendered,
      messagesDropped: this.channel.stats.dropped,
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
}
