// The reward-trace WebviewView: hosts the webview app through the shared webview host, answers
// `ready` with a snapshot and forwards the TraceHub's batched deltas. Health alarms become the
// view's badge and one notification each, whose action opens the samples at the alarm's step.
import * as vscode from 'vscode';
import { writeFile } from 'node:fs/promises';
import { rewardTracesContract, type RewardTracesContract, type TraceAlarm } from '../../protocol/webviews/rewardTraces';
import { alarmNotification } from '../../viewModels/alarmTracker';
import { exportBytes, safeFileName } from '../../viewModels/exports';
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
  /** The view's badge as last set (undefined: no alarms). */
  badge?: { value: number; tooltip: string };
}

/** A notification shown for an alarm, as recorded for the editor tests. */
export interface AlarmNotice {
  runId: string;
  rule: string;
  step: number;
  message: string;
  actions: string[];
}

export class RewardTraceViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  readonly hub: TraceHub;
  private view: vscode.WebviewView | undefined;
  private lastRendered: TraceViewStats['lastRendered'];
  private readonly channel: HostChannel<RewardTracesContract>;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly onSelectStepEmitter = new vscode.EventEmitter<{ runId: string; step: number }>();
  readonly onSelectStep = this.onSelectStepEmitter.event;
  /** Every alarm notification shown, in order (one per run and rule). */
  readonly alarmNotices: AlarmNotice[] = [];
  private badge: TraceViewStats['badge'];

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
      requests: {
        saveExport: async (p) => {
          const name = safeFileName(p.suggestedName, p.format);
          const bytes = exportBytes(p);
          const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
          const target = await vscode.window.showSaveDialog({
            defaultUri: folder ? vscode.Uri.joinPath(folder, name) : vscode.Uri.file(name),
            filters: p.format === 'csv' ? { CSV: ['csv'] } : { 'PNG image': ['png'] },
            saveLabel: `Export ${p.format.toUpperCase()}`,
          });
          if (!target) return { saved: false };
          if (target.scheme === 'file') await writeFile(target.fsPath, bytes);
          else await vscode.workspace.fs.writeFile(target, bytes);
          return { saved: true, path: target.scheme === 'file' ? target.fsPath : target.toString() };
        },
      },
      log,
    });
    this.hub = new TraceHub((m) => this.channel.notify(m), maxUpdatesPerSecond, 8, log);
    this.hub.onAlarm = (runId, alarm) => this.alarmRaised(runId, alarm);
  }

  /** Opens a run's samples at a step: the sample inspector's openAt, set when it is registered. */
  samplesOpener: (runDir: string, step: number) => Promise<string | undefined> = () => Promise.resolve(undefined);

  /** Opens the sample records nearest a step of a run: what a chart click and an alarm's action do. */
  async openSamplesAt(runId: string, step: number): Promise<string | undefined> {
    const runDir = this.hub.runDirOf(runId);
    if (!runDir || !this.hub.sampleFileNear(runId, step)) {
      void vscode.window.showInformationMessage(`Fact-RLHF: run ${runId} has no sample records yet.`);
      return undefined;
    }
    return this.samplesOpener(runDir, step);
  }

  /** A message as the trace webview would post it (editor tests: a chart click without a mouse). */
  receiveFromView(data: unknown): void {
    this.channel.receive(data);
  }

  private alarmRaised(runId: string, alarm: TraceAlarm): void {
    this.updateBadge();
    const { message, action } = alarmNotification(runId, alarm);
    this.alarmNotices.push({ runId, rule: alarm.rule, step: alarm.step, message, actions: [action] });
    const show = alarm.severity === 'error' ? vscode.window.showErrorMessage : vscode.window.showWarningMessage;
    void show(message, action).then((pick) => {
      if (pick === action) void this.openSamplesAt(runId, alarm.step);
    });
  }

  private updateBadge(): void {
    this.badge = this.hub.alarms.badge();
    if (this.view) this.view.badge = this.badge;
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.badge = this.badge;
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
      badge: this.badge,
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
