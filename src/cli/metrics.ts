// `fact-rlhf metrics PATH [--json]`: each metric key of a run folder, TensorBoard log or JSONL log with
// its count and first/last value — our key names, and the source's own name where it was mapped.
import { RunSeries } from '../runs/runSeries';
import { SourceError, openMetricSource } from '../runs/readers';
import { parseSourceArgs } from './health';

export interface MetricRow {
  key: string;
  source?: string;
  count: number;
  first: { step: number; value: number | null };
  last: { step: number; value: number | null };
}

export function runMetrics(argv: string[], out = process.stdout, err = process.stderr): number {
  const args = parseSourceArgs('metrics', argv);
  if (typeof args === 'string') {
    err.write(`error: ${args}\n`);
    return 2;
  }
  try {
    const reader = openMetricSource(args.path);
    const { events, corrupt } = reader.readNew();
    const series = new RunSeries();
    series.apply(events);
    const rows: MetricRow[] = series
      .keys()
      .sort()
      .map((key) => {
        const s = series.get(key)!;
        const n = s.steps.length;
        const row: MetricRow = {
          key,
          count: n,
          first: { step: s.steps[0], value: s.values[0] },
          last: { step: s.steps[n - 1], value: s.values[n - 1] },
        };
        const source = reader.renamed.get(key);
        if (source) row.source = source;
        return row;
      });
    if (args.json) {
      out.write(`${JSON.stringify({ path: args.path, format: reader.format, corrupt, metrics: rows })}\n`);
      return 0;
    }
    out.write(`${args.path} (${reader.format}): ${rows.length} metrics${corrupt ? `, ${corrupt} corrupt records skipped` : ''}\n`);
    const fmt = (v: number | null): string => (v === null ? 'NaN/null' : String(Number(v.toPrecision(6))));
    const width = Math.max(3, ...rows.map((r) => r.key.length + (r.source ? r.source.length + 3 : 0)));
    out.write(`${'key'.padEnd(width)}  ${'count'.padStart(7)}  ${'first (step)'.padStart(20)}  ${'last (step)'.padStart(20)}\n`);
    for (const r of rows) {
      const name = r.source ? `${r.key} (${r.source})` : r.key;
      out.write(
        `${name.padEnd(width)}  ${String(r.count).padStart(7)}  ${`${fmt(r.first.value)} (${r.first.step})`.padStart(20)}  ${`${fmt(r.last.value)} (${r.last.step})`.padStart(20)}\n`,
      );
    }
    return 0;
  } catch (e) {
    if (e instanceof SourceError) {
      err.write(`error: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
