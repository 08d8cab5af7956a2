// Status-bar item for the active run: stage, progress, reward; click shows the traces.
import * as vscode from 'vscode';
import { phaseLabel, type RunStatus } from '../protocol';
import { formatDuration } from '../runs/duration';

export class RunStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('factRlhf.run', vscode.StatusBarAlignment.Left, 50);

  constructor() {
    this.item.name = 'Fact-RLHF run';
    this.item.command = 'factRlhf.showRewardTraces';
  }

  /** What the item shows now (the editor tests read it). */
  get text(): string {
    return this.item.text;
  }

  showProgress(
    runId: string,
    stage: string,
    step: number,
    total: number,
    eta: number | null,
    reward: number | null | undefined,
    phase?: string,
  ): void {
    if (phase) {
      // A phase before the main steps (data, reward-model warm-up): its name, and its own count when it has one.
      const count = total > 0 ? ` ${step}/${total}` : '…';
      const left = eta === null || total === 0 ? '' : `  ${formatDuration(eta)} left`;
      this.showStarting(runId, stage, `${phaseLabel(phase)}${count}${left}`);
      return;
    }
    const pct = total > 0 ? Math.floor((100 * step) / total) : 0;
    const r = reward === null || reward === undefined ? '' : `  r=${reward.toFixed(2)}`;
    const e = eta === null ? '' : `  ${formatDuration(eta)} left`;
    this.item.text = `$(sync~spin) ${stage.toUpperCase()} ${step}/${total} (${pct}%)${r}${e}`;
    this.item.tooltip = `Fact-RLHF run ${runId} — click to show reward traces`;
    this.item.backgroundColor = undefined;
    this.item.show();
  }

  /** A run just launched: replaces whatever the previous run left, before the trainer says anything. */
  showStarting(runId: string, stage: string, phase?: string): void {
    this.item.text = `$(sync~spin) ${stage.toUpperCase()} ${phase ?? 'starting…'}`;
    this.item.tooltip = `Fact-RLHF run ${runId}: ${phase ?? 'starting the trainer'} — click to show reward traces`;
    this.item.backgroundColor = undefined;
    this.item.show();
  }

  showStatus(runId: string, status: RunStatus): void {
    const icon =
      status === 'finished' ? '$(check)' : status === 'failed' ? '$(error)' : status === 'stopped' ? '$(debug-stop)' : '$(sync~spin)';
    this.item.text = `${icon} Fact-RLHF: ${status}`;
    this.item.tooltip = `Run ${runId}: ${status}`;
    this.item.backgroundColor = status === 'failed' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
