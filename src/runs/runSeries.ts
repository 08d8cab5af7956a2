// Accumulates one run's metric series from events and hands out what is new since the last delta,
// so the trace view gets one snapshot then small batched deltas.
import type { RunEvent, SeriesData, SeriesTimes, RunSummary, RunStatus } from '../protocol';

export class RunSeries {
  private readonly series = new Map<string, SeriesData>();
  /** Per key: wall time (`t`) of each point, index for index with its series. */
  private readonly times = new Map<string, number[]>();
  /** Per key: how many points were already handed out by takeDelta(). */
  private readonly sent = new Map<string, number>();
  status: RunStatus = 'starting';
  error: string | undefined;
  progress: RunSummary['progress'];
  lastStep = -1;
  pointCount = 0;
  /** Sample-record files by step (relative to the run directory), in arrival order. */
  readonly sampleFiles: { step: number; path: string }[] = [];

  apply(events: readonly RunEvent[]): void {
    for (const e of events) {
      switch (e.type) {
        case 'metric':
          for (const key in e.values) {
            let s = this.series.get(key);
            let t = this.times.get(key);
            if (!s || !t) {
              s = { steps: [], values: [] };
              t = [];
              this.series.set(key, s);
              this.times.set(key, t);
            }
            s.steps.push(e.step);
            s.values.push(e.values[key]);
            t.push(e.t);
            this.pointCount++;
          }
          if (e.step > this.lastStep) this.lastStep = e.step;
          break;
        case 'status':
          this.status = e.status;
          if (e.error) this.error = e.error;
          break;
        case 'progress':
          this.progress = e.phase ? { step: e.step, total: e.total, eta: e.eta ?? null, phase: e.phase } : { step: e.step, total: e.total, eta: e.eta ?? null };
          break;
        case 'sample':
          this.sampleFiles.push({ step: e.step, path: e.path });
          break;
        default:
          break;
      }
    }
  }

  keys(): string[] {
    return [...this.series.keys()];
  }

  get(key: string): SeriesData | undefined {
    return this.series.get(key);
  }

  /** All points, and marks them as sent. */
  snapshot(): Record<string, SeriesData> {
    const out: Record<string, SeriesData> = {};
    for (const [key, s] of this.series) {
      out[key] = { steps: s.steps.slice(), values: s.values.slice() };
      this.sent.set(key, s.steps.length);
    }
    return out;
  }

  /** snapshot() with each key's wall-time column beside it. */
  snapshotWithTimes(): { series: Record<string, SeriesData>; times: SeriesTimes } {
    const series = this.snapshot();
    const times: SeriesTimes = {};
    for (const key in series) times[key] = (this.times.get(key) ?? []).slice(0, series[key].steps.length);
    return { series, times };
  }

  /** takeDelta() with the wall-time column of the same points. */
  takeDeltaWithTimes(): { series: Record<string, SeriesData>; times: SeriesTimes } | undefined {
    const from = new Map(this.sent);
    const series = this.takeDelta();
    if (!series) return undefined;
    const times: SeriesTimes = {};
    for (const key in series) {
      const start = from.get(key) ?? 0;
      times[key] = (this.times.get(key) ?? []).slice(start, start + series[key].steps.length);
    }
    return { series, times };
  }

  /** Points appended since the last snapshot()/takeDelta(); undefined when nothing is new. */
  takeDelta(): Record<string, SeriesData> | undefined {
    let out: Record<string, SeriesData> | undefined;
    for (const [key, s] of this.series) {
      const from = this.sent.get(key) ?? 0;
      if (from < s.steps.length) {
        out ??= {};
        out[key] = { steps: s.steps.slice(from), values: s.values.slice(from) };
        this.sent.set(key, s.steps.length);
      }
    }
    return out;
  }

  /** The sample file of the step closest to `step` (ties go to the earlier step). */
  nearestSampleFile(step: number): { step: number; path: string } | undefined {
    let best: { step: number; path: string } | undefined;
    for (const f of this.sampleFiles) {
      if (!best || Math.abs(f.step - step) < Math.abs(best.step - step)) best = f;
    }
    return best;
  }

  /** The last value of a metric, if any. */
  last(key: string): number | null | undefined {
    const s = this.series.get(key);
    return s && s.values.length ? s.values[s.values.length - 1] : undefined;
  }
}
