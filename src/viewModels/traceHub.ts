// The host-side model behind the reward-trace view: every tracked run's series, turned into one
// snapshot (on the webview's `ready`) and then batched deltas, at most `maxUpdatesPerSecond`.
// Each run's events also go through the health rules (AlarmTracker): alarms reach the view at once
// and `onAlarm` once per run and rule, for the editor's notification.
import type { HostToTraceWebview, RunEvent, RunStatus, RunSummary, RunTraces, TraceAlarm } from '../protocol';
import { TERMINAL_STATUSES } from '../protocol';
import { basename } from 'node:path';
import { EventFileReader } from '../runs/eventReader';
import { eventsPath, readManifest, resolveRunPath } from '../runs/runDirectory';
import { RunSeries } from '../runs/runSeries';
import { AlarmTracker, flattenConfig } from './alarmTracker';
import { runLabels } from '../runs/runLabels';
import type { RunManifest } from '../protocol';

interface TrackedRun {
  summary: Omit<RunSummary, 'status' | 'error' | 'progress'>;
  series: RunSeries;
  statusDirty: boolean;
  /** run.json's config has been looked for (it appears once the trainer has started). */
  configRead: boolean;
  /** run.json, once the trainer has written it (names the run and its config). */
  manifest?: RunManifest;
}

export class TraceHub {
  private readonly runs = new Map<string, TrackedRun>();
  private timer: NodeJS.Timeout | undefined;
  private lastFlush = 0;
  snapshotsSent = 0;
  deltasSent = 0;
  readonly alarms: AlarmTracker;
  /** Called once per run and rule, when its alarm is first raised. */
  onAlarm: ((runId: string, alarm: TraceAlarm) => void) | undefined;

  constructor(
    private readonly post: (message: HostToTraceWebview) => void,
    private maxUpdatesPerSecond = 4,
    /** Runs kept in the view (oldest dropped first). */
    private readonly maxRuns = 8,
    log: (line: string) => void = () => undefined,
  ) {
    this.alarms = new AlarmTracker(log);
  }

  setMaxUpdatesPerSecond(n: number): void {
    this.maxUpdatesPerSecond = Math.max(1, n);
  }

  track(runId: string, runDir: string, stage: string): void {
    this.adopt(runId, runDir, stage, new RunSeries());
  }

  /**
   * Opens a run folder that nobody is watching (a finished run, another machine's run): reads its
   * whole events file, judges it with the health rules, and shows it. Returns its id. The file is
   * read in slices that yield to the event loop: a finished run can be hundreds of MB, and this runs
   * on the extension host.
   */
  async open(runDir: string): Promise<string> {
    const manifest = readManifest(runDir);
    const runId = manifest?.id ?? basename(runDir);
    if (this.runs.has(runId)) {
      this.runs.delete(runId);
      this.alarms.forget(runId);
    }
    this.track(runId, runDir, manifest?.stage ?? 'ppo');
    // final: a finished run's last line counts even without its newline.
    await new EventFileReader(eventsPath(runDir)).readNewAsync({ final: true, onBatch: (batch) => this.apply(runId, batch.events) });
    const run = this.runs.get(runId);
    // A run without a closing status line is still judged on its last step.
    if (run && !TERMINAL_STATUSES.includes(run.series.status) && manifest) this.setStatus(runId, manifest.status as RunStatus);
    return runId;
  }

  /** Drops a run (its folder is about to be re-read from the start, e.g. by a resume); the view gets a fresh snapshot. */
  untrack(runId: string): boolean {
    if (!this.runs.delete(runId)) return false;
    this.sendSnapshot();
    return true;
  }

  has(runId: string): boolean {
    return this.runs.has(runId);
  }

  /**
   * Tracks a run whose series are already loaded (e.g. from the series cache); later apply() calls
   * add to them. A run already tracked keeps its series.
   */
  adopt(runId: string, runDir: string, stage: string, series: RunSeries): void {
    if (this.runs.has(runId)) return;
    this.runs.set(runId, { summary: { runId, runDir, stage }, series, statusDirty: true, configRead: false });
    this.alarms.track(runId, runDir);
    while (this.runs.size > this.maxRuns) {
      const oldest = this.runs.keys().next().value as string;
      this.runs.delete(oldest);
      this.alarms.forget(oldest);
    }
    this.relabel();
    this.schedule();
  }

  apply(runId: string, events: readonly RunEvent[]): void {
    const run = this.runs.get(runId);
    if (!run) return;
    const before = run.series.status;
    run.series.apply(events);
    // Phases (data, reward warm-up...) come with no metric points, so no delta carries them: the
    // status message does, from the run's first second.
    const phased = events.some((e) => e.type === 'progress' && e.phase !== undefined);
    if (run.series.status !== before || phased || events.some((e) => e.type === 'status')) run.statusDirty = true;
    if (!run.configRead && events.some((e) => e.type === 'metric')) this.readConfig(run);
    this.announce(runId, this.alarms.apply(runId, events));
    if (TERMINAL_STATUSES.includes(run.series.status)) this.finishAlarms(runId);
    this.schedule();
  }

  /** The run's events.jsonl was replaced: drop what it showed; the events that follow rebuild it. */
  restart(runId: string): void {
    const run = this.runs.get(runId);
    if (!run) return;
    run.series = new RunSeries();
    run.statusDirty = true;
    this.alarms.forget(runId);
    // Deltas only append, so the view needs the whole (now shorter) picture again.
    this.sendSnapshot();
  }

  setStatus(runId: string, status: RunStatus, error?: string): void {
    const run = this.runs.get(runId);
    if (!run) return;
    run.series.status = status;
    if (error) run.series.error = error;
    run.statusDirty = true;
    if (TERMINAL_STATUSES.includes(status)) this.finishAlarms(runId);
    this.schedule();
  }

  /** Every alarm of a run so far. */
  alarmsOf(runId: string): TraceAlarm[] {
    return this.alarms.alarmsOf(runId);
  }

  private finishAlarms(runId: string): void {
    this.announce(runId, this.alarms.finish(runId));
  }

  private announce(runId: string, fresh: readonly TraceAlarm[]): void {
    if (fresh.length === 0) return;
    // Alarms are rare and urgent: sent now, not with the throttled deltas.
    this.post({ type: 'alarms', runId, alarms: this.alarms.alarmsOf(runId) });
    for (const a of fresh) this.onAlarm?.(runId, a);
  }

  private readConfig(run: TrackedRun): void {
    run.configRead = true;
    try {
      const config = readManifest(run.summary.runDir)?.config;
      if (config) {
        run.summary = { ...run.summary, config: flattenConfig(config) };
        run.statusDirty = true;
      }
    } catch {
      // An unreadable run.json only costs the config comparison; the run's own reader reports it.
    }
  }

  lastValue(runId: string, key: string): number | null | undefined {
    return this.runs.get(runId)?.series.last(key);
  }

  /** Absolute path of the sample records nearest to a clicked step, with the step they hold. */
  sampleFileNear(runId: string, step: number): { step: number; path: string } | undefined {
    const run = this.runs.get(runId);
    const f = run?.series.nearestSampleFile(step);
    // Confined to the run folder: an event naming `../../etc/passwd` opens nothing.
    const path = run && f ? resolveRunPath(run.summary.runDir, f.path) : undefined;
    return f && path ? { step: f.step, path } : undefined;
  }

  /** The run folder of a tracked run. */
  runDirOf(runId: string): string | undefined {
    return this.runs.get(runId)?.summary.runDir;
  }

  runIds(): string[] {
    return [...this.runs.keys()];
  }

  /** Reads the manifests not read yet and renames every run: names and differences depend on all. */
  private relabel(): boolean {
    let found = false;
    for (const r of this.runs.values()) {
      if (r.manifest) continue;
      try {
        r.manifest = readManifest(r.summary.runDir);
      } catch {
        r.manifest = undefined; // not written yet, or torn: tried again later
      }
      if (r.manifest) found = true;
    }
    const labels = runLabels([...this.runs.values()].map((r) => ({ runId: r.summary.runId, manifest: r.manifest })));
    for (const r of this.runs.values()) {
      const l = labels.get(r.summary.runId);
      if (!l) continue;
      const changed = l.name !== r.summary.name || (l.differs ?? []).join('\n') !== (r.summary.differs ?? []).join('\n');
      if (changed) {
        r.summary = { ...r.summary, name: l.name, differs: l.differs };
        r.statusDirty = true;
      }
    }
    return found;
  }

  /** Everything, for a webview that just said `ready`; later deltas continue from here. */
  sendSnapshot(): void {
    this.relabel();
    const runs: RunTraces[] = [...this.runs.values()].map((r) => {
      const { series, times } = r.series.snapshotWithTimes();
      const alarms = this.alarms.alarmsOf(r.summary.runId);
      return { ...this.summaryOf(r), series, times, ...(alarms.length ? { alarms } : {}) };
    });
    for (const r of this.runs.values()) r.statusDirty = false;
    this.post({ type: 'snapshot', runs });
    this.snapshotsSent++;
  }

  /** Sends what is pending now (also called by the throttle timer). */
  flush(): void {
    this.timer = undefined;
    this.lastFlush = Date.now();
    if ([...this.runs.values()].some((r) => !r.manifest)) this.relabel();
    for (const r of this.runs.values()) {
      const delta = r.series.takeDeltaWithTimes();
      if (delta) {
        this.post({ type: 'delta', runId: r.summary.runId, series: delta.series, times: delta.times, progress: r.series.progress });
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
