// Accumulates one run's metric series from events and hands out what is new since the last delta,
// so the trace view gets one snapshot then small batched deltas. Points live in growable Float64
// columns (null → NaN): a million-step run stays compact, goes to the webview as typed arrays, and
// can be loaded from (and appended to) the columnar cache without a per-point conversion.
import type { PlainSeriesData, RunEvent, SeriesData, SeriesTimes, RunSummary, RunStatus } from '../protocol';

/** One metric's columns: the first `length` entries of `steps`/`values` are filled. */
export class SeriesColumn {
  steps: Float64Array;
  values: Float64Array;
  /** Wall time (the event's `t`, unix seconds) of each point; NaN where a source has none (the cache). */
  times: Float64Array;
  length = 0;

  constructor(capacity = 64) {
    this.steps = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
    this.times = new Float64Array(capacity);
  }

  /** Adopts filled columns (e.g. read from the cache); further pushes grow them. */
  static from(steps: Float64Array, values: Float64Array, length = Math.min(steps.length, values.length)): SeriesColumn {
    const c = new SeriesColumn(0);
    c.steps = steps;
    c.values = values;
    c.times = new Float64Array(steps.length).fill(Number.NaN);
    c.length = length;
    return c;
  }

  push(step: number, value: number | null, time = Number.NaN): void {
    if (this.length === this.steps.length) this.grow();
    this.steps[this.length] = step;
    this.values[this.length] = value === null ? Number.NaN : value;
    this.times[this.length] = time;
    this.length++;
  }

  /** Exact-size copies of points [from, length): a view would carry its whole buffer through postMessage. */
  slice(from = 0): SeriesData {
    return { steps: this.steps.slice(from, this.length), values: this.values.slice(from, this.length) };
  }

  private grow(): void {
    const cap = Math.max(64, this.steps.length * 2);
    const s = new Float64Array(cap);
    const v = new Float64Array(cap);
    const t = new Float64Array(cap);
    s.set(this.steps.subarray(0, this.length));
    v.set(this.values.subarray(0, this.length));
    t.set(this.times.subarray(0, Math.min(this.length, this.times.length)));
    this.steps = s;
    this.values = v;
    this.times = t;
  }
}

export class RunSeries {
  private readonly series = new Map<string, SeriesColumn>();
  /** Per key: how many points were already handed out by takeDelta(). */
  private readonly sent = new Map<string, number>();
  status: RunStatus = 'starting';
  error: string | undefined;
  progress: RunSummary['progress'];
  lastStep = -1;
  pointCount = 0;
  /** Sample-record files by step (relative to the run directory), in arrival order. */
  readonly sampleFiles: { step: number; path: string }[] = [];
  /** The previous metric line's keys and their columns, by position. */
  private readonly recentKeys: string[] = [];
  private readonly recentColumns: SeriesColumn[] = [];

  apply(events: readonly RunEvent[]): void {
    for (const e of events) {
      switch (e.type) {
        case 'metric': {
          // A run's lines repeat their keys in the same order: the column of the key at the same
          // position of the previous line is checked first, before the map.
          const values = e.values;
          const step = e.step;
          let i = 0;
          for (const key in values) {
            let s: SeriesColumn | undefined = this.recentKeys[i] === key ? this.recentColumns[i] : undefined;
            if (!s) {
              s = this.series.get(key);
              if (!s) {
                s = new SeriesColumn();
                this.series.set(key, s);
              }
              if (i < 256) {
                this.recentKeys[i] = key;
                this.recentColumns[i] = s;
              }
            }
            s.push(step, values[key], e.t);
            i++;
          }
          this.pointCount += i;
          if (step > this.lastStep) this.lastStep = step;
          break;
        }
        case 'status':
          this.status = e.status;
          if (e.error) this.error = e.error;
          break;
        case 'progress':
          this.progress = e.phase
            ? { step: e.step, total: e.total, eta: e.eta ?? null, phase: e.phase }
            : { step: e.step, total: e.total, eta: e.eta ?? null };
          break;
        case 'sample':
          this.sampleFiles.push({ step: e.step, path: e.path });
          break;
        default:
          break;
      }
    }
  }

  /** Forgets everything (the log was replaced and is read again from its start). */
  clear(): void {
    this.series.clear();
    this.recentKeys.length = 0;
    this.recentColumns.length = 0;
    this.sent.clear();
    this.status = 'starting';
    this.error = undefined;
    this.progress = undefined;
    this.lastStep = -1;
    this.pointCount = 0;
    this.sampleFiles.length = 0;
  }

  /** Sets a whole metric column (the cache's load path); replaces what the key held. */
  setColumn(key: string, column: SeriesColumn, lastStep?: number): void {
    const before = this.series.get(key);
    this.pointCount += column.length - (before?.length ?? 0);
    this.series.set(key, column);
    this.recentKeys.length = 0;
    this.recentColumns.length = 0;
    // The caller may know the column's largest step (the cache records it); else scan for it.
    if (lastStep !== undefined) this.lastStep = Math.max(this.lastStep, lastStep);
    else for (let i = 0; i < column.length; i++) if (column.steps[i] > this.lastStep) this.lastStep = column.steps[i];
  }

  keys(): string[] {
    return [...this.series.keys()];
  }

  /** A metric's columns (live: they grow as events arrive). */
  column(key: string): SeriesColumn | undefined {
    return this.series.get(key);
  }

  /**
   * A metric's points as plain arrays, null where the log had null (a copy: for reports and tests;
   * the trace view and the cache use column()).
   */
  get(key: string): PlainSeriesData | undefined {
    const s = this.series.get(key);
    if (!s) return undefined;
    const steps = Array.from(s.steps.subarray(0, s.length));
    const values: (number | null)[] = Array.from(s.values.subarray(0, s.length), (v) => (Number.isNaN(v) ? null : v));
    return { steps, values };
  }

  /** All points, and marks them as sent. */
  snapshot(): Record<string, SeriesData> {
    const out: Record<string, SeriesData> = {};
    for (const [key, s] of this.series) {
      out[key] = s.slice();
      this.sent.set(key, s.length);
    }
    return out;
  }

  /** snapshot() with each key's wall-time column beside it. */
  snapshotWithTimes(): { series: Record<string, SeriesData>; times: SeriesTimes } {
    const series = this.snapshot();
    const times: SeriesTimes = {};
    for (const key in series) times[key] = this.series.get(key)!.times.slice(0, series[key].steps.length);
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
      times[key] = this.series.get(key)!.times.slice(start, start + series[key].steps.length);
    }
    return { series, times };
  }

  /** Points appended since the last snapshot()/takeDelta(); undefined when nothing is new. */
  takeDelta(): Record<string, SeriesData> | undefined {
    let out: Record<string, SeriesData> | undefined;
    for (const [key, s] of this.series) {
      const from = this.sent.get(key) ?? 0;
      if (from < s.length) {
        out ??= {};
        out[key] = s.slice(from);
        this.sent.set(key, s.length);
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

  /** The last value of a metric (null where the log had null or a non-finite number), if any. */
  last(key: string): number | null | undefined {
    const s = this.series.get(key);
    if (!s || s.length === 0) return undefined;
    const v = s.values[s.length - 1];
    return Number.isNaN(v) ? null : v;
  }
}
