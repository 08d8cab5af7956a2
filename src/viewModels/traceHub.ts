// The host-side model behind the reward-trace view: every tracked run's series, turned into one
// snapshot (on the webview's `ready`) and then batched deltas, at most `maxUpdatesPerSecond`.
import type { HostToTraceWebview, RunEvent, RunStatus, RunSummary, RunTraces } from '../protocol';
import { join } from 'node:path';
import { RunSeries } from '../runs/runSeries';

interface TrackedRun {
  summary: Omit<RunSummary, 'status' | 'error' | 'progress'>;
  series: RunSeries;
  statusDirty: boolean;
}

export class TraceHub {
  private readonly runs = new Map<string, TrackedRun>();
  private timer: NodeJS.Timeout | undefined;
  private lastFlush = 0;
  snapshotsSent = 0;
  deltasSent = 0;

  constructor(
    private readonly post: (message: HostToTraceWebview) => void,
    private maxUpdatesPerSecond = 4,
    /** Runs kept in the view (oldest dropped first). */
    private readonly maxRuns = 8,
  ) {}

  setMaxUpdatesPerSecond(n: number): void {
    this.maxUpdatesPerSecond = Math.max(1, n);
  }

  track(runId: string, runDir: string, stage: string): void {
    if (this.runs.has(runId)) return;
    this.runs.set(runId, { summary: { runId, runDir, stage }, series: new RunSeries(), statusDirty: true });
    while (this.runs.size > this.maxRuns) this.runs.delete(this.runs.keys().next().value as string);
    this.schedule();
  }

  /**
   * Tracks a run whose series are already loaded (e.g. from the series cache); later apply() calls
   * add to them. A run already tracked keeps its series.
   */
  adopt(runId: string, runDir: string, stage: string, series: RunSeries): void {
    if (this.runs.has(runId)) return;
    this.runs.set(runId, { summary: { runId, runDir, stage }, series, statusDirty: true });
    while (this.runs.size > this.maxRuns) this.runs.delete(this.runs.keys().next().value as string);
    this.schedule();
  }

  apply(runId: string, events: readonly RunEvent[]): void {
    const run = this.runs.get(runId);
    if (!run) return;
    const before = run.series.status;
    run.series.apply(events);
    if (run.series.status !== before || events.some((e) => e.type === 'status')) run.statusDirty = true;
    this.schedule();
  }

  setStatus(runId: string, status: RunStatus, error?: string): void {
    const run = this.runs.get(runId);
    if (!run) return;
    run.series.status = status;
    if (error) run.series.error = error;
    run.statusDirty = true;
    this.schedule();
  }

  lastValue(runId: string, key: string): number | null | undefined {
    return this.runs.get(runId)?.series.last(key);
  }

  /** Absolute path of the sample records nearest to a clicked step, with the step they hold. */
  sampleFileNear(runId: string, step: number): { step: number; path: string } | undefined {
    const run = this.runs.get(runId);
    const f = run?.series.nearestSampleFile(step);
    return run && f ? { step: f.step, path: join(run.summary.runDir, f.path) } : undefined;
  }

  runIds(): string[] {
    return [...this.runs.keys()];
  }

  /** Everything, for a webview that just said `ready`; later deltas continue from here. */
  sendSnapshot(): void {
    const runs: RunTraces[] = [...this.runs.values()].map((r) => ({
      ...this.summaryOf(r),
      series: r.series.snapshot(),
    }));
    for (const r of this.runs.values()) r.statusDirty = false;
    this.post({ type: 'snapshot', runs });
    this.snapshotsSent++;
  }

  /** Sends what is pending now (also called by the throttle timer). */
  flush(): void {
    this.timer = undefined;
    this.lastFlush = Date.now();
    for (const r of this.runs.values()) {
      const series = r.series.takeDelta();
      if (series) {
        this.post({ type: 'delta', runId: r.summary.runId, series, progress: r.series.progress });
        this.deltasSent++;
      }
      if (r.statusDirty) {
        r.statusDirty = false;
        this.post({ type: 'status', run: this.summaryOf(r) });
      }
    }
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private summaryOf(r: TrackedRun): RunSummary {
    return { ...r.summary, status: r.series.status, error: r.series.error, progress: r.series.progress };
  }

  private schedule(): void {
    if (this.timer) return;
    const interval = 1000 / this.maxUpdatesPerSecond;
    const wait = Math.max(0, this.lastFlush + interval - Date.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }
}
