// Accumulates one run's metric series from events and hands out what is new since the last delta,
// so the trace view gets one snapshot then small batched deltas.
import type { RunEvent, SeriesData, RunSummary, RunStatus } from '../protocol';

export class RunSeries {
  private readonly series = new Map<string, SeriesData>();
  /** Per key: how many points were already handed out by takeDelta(). */
  private readonly sent = new Map<string, number>();
  status: RunStatus = 'starting';
  error: string | undefined;
  progress: RunSummary['progress'];
  lastStep = -1;
  pointCount = 0;

  apply(events: readonly RunEvent[]): void {
    for (const e of events) {
      switch (e.type) {
        case 'metric':
          for (const key in e.values) {
            let s = this.series.get(key);
            if (!s) {
              s = { steps: [], values: [] };
              this.series.set(key, s);
            }
            s.steps.push(e.step);
            s.values.push(e.values[key]);
            this.pointCount++;
          }
          if (e.step > this.lastStep) this.lastStep = e.step;
          break;
        case 'status':
          this.status = e.status;
          if (e.error) this.error = e.error;
          break;
        case 'progress':
          this.progress = { step: e.step, total: e.total, eta: e.eta ?? null };
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

  /** The last value of a metric, if any. */
  last(key: string): number | null | undefined {
    const s = this.series.get(key);
    return s && s.values.length ? s.values[s.values.length - 1] : undefined;
  }
}
