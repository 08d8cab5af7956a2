// Pure helpers of the trace view (no DOM): the CSV of the visible series, and which config keys
// differ between overlaid runs.
import type { StepRange } from '../shared/charts/chartSync';
import type { PreparedTrack, RunState, Track } from './store';

export interface CsvInput {
  /** Shown runs, in legend order. */
  runs: [string, RunState][];
  /** Shown metrics, in panel order. */
  metrics: string[];
  xAxis: 'step' | 'wall';
  /** Visible x range in the axis's units (null: everything). */
  range: StepRange | null;
  smoothing: number;
  prepare(track: Track): PreparedTrack;
  /** The track against wall time (TraceStore.wallTrack). */
  wallTrack(track: Track): Track | undefined;
}

export const CSV_HEADER = 'run,metric,step,wall_time,value,smoothed';

/**
 * One row per point that is on screen: run, metric, step, wall time (unix seconds; empty when the
 * source had none), raw value (empty for NaN/null) and the smoothed value drawn (empty when off).
 */
export function tracesCsv(input: CsvInput): string {
  const rows = [CSV_HEADER];
  const wall = input.xAxis === 'wall';
  for (const [runId, run] of input.runs) {
    for (const metric of input.metrics) {
      const stepTrack = run.tracks.get(metric);
      const track = wall && stepTrack ? input.wallTrack(stepTrack) : stepTrack;
      if (!stepTrack || !track) continue;
      const prepared = input.prepare(track);
      const xs = track.series.steps;
      const values = track.series.values;
      const smoothed = input.smoothing > 0 ? prepared.smoothed : null;
      // Wall times index for index with the step series (unless a resumed run rewrote steps).
      const ws = stepTrack.wallSteps;
      const wallXs = ws && ws.length === stepTrack.series.length ? ws.steps : null;
      const t0 = run.t0 ?? 0;
      for (let i = 0; i < xs.length; i++) {
        const x = xs[i];
        if (input.range && (x < input.range.min || x > input.range.max)) continue;
        const step = wall ? (stepTrack.wallSteps?.values[i] ?? Number.NaN) : x;
        const time = wall ? t0 + x : wallXs ? t0 + wallXs[i] : Number.NaN;
        rows.push([csvField(runId), csvField(metric), num(step), num(time), num(values[i]), smoothed ? num(smoothed[i]) : ''].join(','));
      }
    }
  }
  return `${rows.join('\n')}\n`;
}

/** Keys whose values are not the same in every config (a key missing from some counts as different), sorted. */
export function configDifferences(configs: Record<string, string>[]): string[] {
  const keys = new Set<string>();
  for (const c of configs) for (const k of Object.keys(c)) keys.add(k);
  return [...keys].filter((k) => configs.some((c) => c[k] !== configs[0][k])).sort();
}

function num(v: number): string {
  return Number.isFinite(v) ? String(v) : '';
}

/** RFC 4180 quoting for text fields. */
function csvField(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
