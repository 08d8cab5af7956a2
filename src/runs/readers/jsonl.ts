// JSON-lines metric logs of other trainers, read incrementally (byte offsets, torn last line kept):
// - veRL's file logger (`trainer.logger=[file]`, VERL_FILE_LOGGER_PATH): {"step": N, "data": {...}}
//   per line (newer versions add "elapsed_seconds");
// - flat records with a step, as TRL/HF `log_history` rows or wandb-style exports are dumped:
//   {"step"|"global_step"|"_step": N, "<metric>": value, ...}.
// Python's json writes NaN/Infinity as bare tokens, which JSON.parse rejects: such a line is re-read
// with them as null (our spelling of a non-finite value). Other unparsable lines are skipped and counted.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { MetricEvent, RunEvent } from '../../protocol';
import { PROTOCOL_VERSION } from '../../protocol';
import { applyAliases } from './aliases';
import type { MetricReader, ReaderBatch } from './types';

const STEP_KEYS = ['step', 'global_step', '_step', 'iteration'];
/** Bookkeeping fields of those records that are not metrics. */
const NOT_METRICS = new Set([...STEP_KEYS, 'epoch', 'elapsed_seconds', '_timestamp', '_runtime', 'total_flos', 'timestamp']);

/** The metric event of one foreign record, or undefined when it carries no numbers. */
export function recordToEvent(rec: unknown, index: number, renamed: Map<string, string>, useAliases = true): MetricEvent | undefined {
  if (!rec || typeof rec !== 'object' || Array.isArray(rec)) return undefined;
  const r = rec as Record<string, unknown>;
  const source = r.data && typeof r.data === 'object' && !Array.isArray(r.data) ? (r.data as Record<string, unknown>) : r;
  let step = index;
  for (const k of STEP_KEYS)
    if (typeof r[k] === 'number') {
      step = r[k] as number;
      break;
    }
  const raw: Record<string, number | null> = {};
  let any = false;
  for (const [k, v] of Object.entries(source)) {
    if (NOT_METRICS.has(k)) continue;
    if (typeof v === 'number') raw[k] = Number.isFinite(v) ? v : null;
    else if (v === null) raw[k] = null;
    else continue;
    any = true;
  }
  if (!any) return undefined;
  const t = typeof r._timestamp === 'number' ? r._timestamp : 0;
  return { v: PROTOCOL_VERSION, t, type: 'metric', step, values: useAliases ? applyAliases(raw, renamed) : raw } as MetricEvent;
}

/** The first line of a file without reading the rest (up to `max` bytes), or undefined when there is
 * no complete first line (empty, or still being written). */
export function readFirstLine(file: string, max = 1 << 20): string | undefined {
  const fd = openSync(file, 'r');
  try {
    const chunk = Buffer.allocUnsafe(Math.min(max, 64 * 1024));
    const parts: Buffer[] = [];
    for (let pos = 0; pos < max;) {
      const n = readSync(fd, chunk, 0, Math.min(chunk.length, max - pos), pos);
      if (n <= 0) return undefined;
      const nl = chunk.subarray(0, n).indexOf(0x0a);
      if (nl >= 0) {
        parts.push(Buffer.from(chunk.subarray(0, nl)));
        return Buffer.concat(parts).toString('utf8');
      }
      parts.push(Buffer.from(chunk.subarray(0, n)));
      pos += n;
    }
    return undefined;
  } finally {
    closeSync(fd);
  }
}

export function parseLenient(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch (err) {
    if (!/\b(NaN|Infinity)\b/.test(line)) throw err;
    return JSON.parse(line.replace(/-?\bInfinity\b|\bNaN\b/g, 'null'));
  }
}

export class JsonlMetricReader implements MetricReader {
  readonly format = 'jsonl' as const;
  readonly renamed = new Map<string, string>();
  corruptCount = 0;
  private offset = 0;
  private index = 0;

  constructor(
    readonly path: string,
    private readonly useAliases = true,
  ) {}

  readNew(): ReaderBatch {
    const events: RunEvent[] = [];
    let corrupt = 0;
    const fd = openSync(this.path, 'r');
    let buf: Buffer;
    try {
      const size = fstatSync(fd).size;
      if (size < this.offset) this.offset = 0;
      buf = Buffer.allocUnsafe(size - this.offset);
      const got = buf.length ? readSync(fd, buf, 0, buf.length, this.offset) : 0;
      buf = buf.subarray(0, got);
    } finally {
      closeSync(fd);
    }
    const last = buf.lastIndexOf(0x0a);
    if (last < 0) return { events, corrupt };
    this.offset += last + 1;
    for (const line of buf.toString('utf8', 0, last).split('\n')) {
      if (!line.trim()) continue;
      let rec: unknown;
      try {
        rec = parseLenient(line);
      } catch {
        corrupt++;
        continue;
      }
      const e = recordToEvent(rec, this.index++, this.renamed, this.useAliases);
      if (e) events.push(e);
    }
    this.corruptCount += corrupt;
    return { events, corrupt };
  }
}
