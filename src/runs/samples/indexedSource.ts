// The one SampleSource over any format's table: steps come from the index, records are parsed only
// for the page asked for (kept in a bounded cache), and a query that filters or sorts parses the
// records in its scope once, keeping what it needs (RecordKeys). The last query's order is kept, so
// scrolling through it costs only the page's records.
import {
  MAX_PAGE,
  type InspectorRecord,
  type QueryParams,
  type QueryResult,
  type SampleFormat,
  type TimelinePoint,
} from '../../protocol/webviews/sampleInspector';
import { Lru } from './lru';
import { CORRUPT, OK, RecordKeys, UNKNOWN, type KeyedSort } from './recordKeys';
import { MAX_CORRUPT_AT, type RawTable, type RowMapper } from './table';
import type { SampleSource, SampleSourceInfo } from './types';

export interface SourceOptions {
  /**
   * Parse every record in the background after opening, in small slices between other work, so that
   * `captionTypes` and `corrupt` become complete and the first all-steps sort is already keyed.
   * Without it they fill in as queries parse records. `onChange` says when the pass has finished.
   */
  backgroundScan?: boolean;
  onChange?: () => void;
  /** Parsed records kept (default 4096). */
  cacheSize?: number;
}

export interface SourceMeta {
  format: SampleFormat;
  path: string;
  runDir: string | null;
  title: string;
  /** Relative image paths resolve against this folder (the run folder, else the file's). */
  baseDir: string;
}

/** Records parsed per batch when a query or the background pass goes through many. */
const BATCH = 512;
const SCAN_SLICE = 1024;

/** Needles that appear verbatim in JSON text (no character a writer may escape). */
const PREFILTERABLE = /^[\x20\x21\x23-\x2e\x30-\x5b\x5d-\x7e]+$/;

const matchesText = (r: InspectorRecord, needle: string): boolean =>
  r.response.toLowerCase().includes(needle) ||
  (r.prompt !== null && r.prompt.toLowerCase().includes(needle)) ||
  (r.facts !== null && r.facts.some((f) => f.toLowerCase().includes(needle)));

export class IndexedSampleSource implements SampleSource {
  private readonly keys = new RecordKeys();
  private readonly cache: Lru<number, InspectorRecord>;
  private readonly byStep = new Map<number, number[]>();
  private steps: number[] = [];
  private taken = 0;
  private readonly corruptAt: string[] = [];
  private order: { key: string; indices: number[] } | undefined;
  private scanning = false;
  private scanCursor = 0;
  private closed = false;

  constructor(
    private readonly table: RawTable,
    private readonly mapper: RowMapper,
    private readonly meta: SourceMeta,
    private readonly opts: SourceOptions = {},
  ) {
    this.cache = new Lru(opts.cacheSize ?? 4096);
    this.take();
    if (opts.backgroundScan) void this.scan();
  }

  info(): SampleSourceInfo {
    return {
      format: this.meta.format,
      path: this.meta.path,
      runDir: this.meta.runDir,
      title: this.meta.title,
      total: this.table.size - this.keys.corrupt,
      steps: this.steps.slice(),
      captionTypes: [...this.keys.captionTypes].sort((a, b) => a - b),
      corrupt: this.table.skipped.count + this.keys.corrupt,
      corruptAt: [...this.table.skipped.at, ...this.corruptAt].slice(0, MAX_CORRUPT_AT),
    };
  }

  async refresh(): Promise<boolean> {
    if (this.closed) return false;
    const grew = await this.table.refresh();
    if (grew) {
      this.take();
      if (this.opts.backgroundScan) void this.scan();
    }
    return grew;
  }

  async query(p: QueryParams): Promise<QueryResult> {
    const limit = Math.max(0, Math.min(Math.floor(p.limit), MAX_PAGE));
    const offset = Math.max(0, Math.floor(p.offset));
    // A record first read for this page may turn out corrupt: it leaves the order, which is then
    // computed again (a couple of rounds at most: such lines are rare and each is found once).
    for (let round = 0; ; round++) {
      const order = await this.matching(p);
      const page = await this.records(order.slice(offset, offset + limit));
      if (page.every((r) => r !== undefined) || round === 2)
        return { matching: order.length, offset, records: page.filter((r): r is InspectorRecord => r !== undefined) };
    }
  }

  async record(index: number): Promise<InspectorRecord | undefined> {
    if (!Number.isInteger(index) || index < 0 || index >= this.table.size) return undefined;
    return (await this.records([index]))[0];
  }

  async timeline(promptId: string): Promise<TimelinePoint[]> {
    await this.ensureKeys(this.all());
    const mine = this.all().filter((i) => this.keys.state[i] === OK && this.keys.promptIdOf(i) === promptId);
    const points: TimelinePoint[] = [];
    for (const r of await this.records(mine)) {
      if (!r || r.step === null) continue;
      points.push({ index: r.index, step: r.step, response: r.response, reward: r.reward, spans: r.hallucination?.spans.length ?? 0 });
    }
    return points.sort((a, b) => a.step - b.step || a.index - b.index);
  }

  nearestStep(step: number): number | null {
    const s = this.steps;
    if (!s.length) return null;
    let lo = 0;
    let hi = s.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (s[mid] < step) lo = mid + 1;
      else hi = mid;
    }
    // s[lo] is the first step ≥ `step` (or the last one); the one before may be nearer (ties: earlier).
    if (lo > 0 && Math.abs(s[lo - 1] - step) <= Math.abs(s[lo] - step)) return s[lo - 1];
    return s[lo];
  }

  async recordsFor(step: number, promptIds: string[]): Promise<(InspectorRecord | null)[]> {
    const scope = this.byStep.get(step) ?? [];
    await this.ensureKeys(scope);
    const first = new Map<string, number>();
    for (const i of scope) {
      const id = this.keys.promptIdOf(i);
      if (this.keys.state[i] === OK && id !== null && !first.has(id)) first.set(id, i);
    }
    const wanted = promptIds.map((id) => first.get(id));
    const found = await this.records(wanted.filter((i): i is number => i !== undefined));
    let k = 0;
    return wanted.map((i) => (i === undefined ? null : (found[k++] ?? null)));
  }

  close(): void {
    this.closed = true;
    this.table.close();
    this.cache.clear();
  }

  // --- internals ---

  /** Enters the table's new records in the per-step lists. */
  private take(): void {
    this.keys.grow(this.table.size);
    let newStep = false;
    for (let i = this.taken; i < this.table.size; i++) {
      const step = this.table.stepOf(i) ?? -1;
      let list = this.byStep.get(step);
      if (!list) {
        this.byStep.set(step, (list = []));
        newStep = true;
      }
      list.push(i);
    }
    this.taken = this.table.size;
    if (newStep) this.steps = [...this.byStep.keys()].filter((s) => s >= 0).sort((a, b) => a - b);
  }

  private all(): number[] {
    return Array.from({ length: this.table.size }, (_, i) => i);
  }

  /** What an answer of `matching` depends on: the query, and the table's size and corrupt count. */
  private orderKey(p: QueryParams): string {
    const f = p.filter;
    return JSON.stringify([p.step, p.sort, p.descending, f.captionType, f.hallucinatedOnly, f.text, this.table.size, this.keys.corrupt]);
  }

  /** Indices matching the step and filter, in the asked order (the last answer is kept). */
  private async matching(p: QueryParams): Promise<number[]> {
    const f = p.filter;
    const key = this.orderKey(p);
    if (this.order?.key === key) return this.order.indices;
    let scope = p.step === null ? this.all() : (this.byStep.get(p.step) ?? []).slice();
    if (f.captionType !== null || f.hallucinatedOnly || p.sort !== 'index') await this.ensureKeys(scope);
    scope = scope.filter((i) => this.keys.state[i] !== CORRUPT);
    if (f.captionType !== null) scope = scope.filter((i) => this.keys.captionOf(i) === f.captionType);
    if (f.hallucinatedOnly) {
      const h = this.keys.sortKey('halluc');
      scope = scope.filter((i) => h[i] > 0);
    }
    if (f.text) {
      const needle = f.text.toLowerCase();
      // Lines whose raw text lacks the needle cannot match: skipped without a parse.
      if (this.table.prefilter && PREFILTERABLE.test(needle)) scope = await this.table.prefilter(scope, needle);
      const hits = new Set<number>();
      await this.visit(scope, (r) => matchesText(r, needle) && hits.add(r.index));
      scope = scope.filter((i) => hits.has(i));
    }
    if (p.sort !== 'index') sortBy(scope, this.keys.sortKey(p.sort as KeyedSort), p.descending);
    else if (p.descending) scope.reverse();
    // The corrupt count may have grown while parsing: key the answer by the state it was made in.
    const final = this.orderKey(p);
    this.order = { key: final, indices: scope };
    return scope;
  }

  /** The records at `indices` (undefined for a corrupt one), from the cache or read and parsed. */
  private async records(indices: readonly number[]): Promise<(InspectorRecord | undefined)[]> {
    const out = indices.map((i) => this.cache.get(i));
    const missing = indices.filter((i, k) => out[k] === undefined && this.keys.state[i] !== CORRUPT);
    if (missing.length) {
      const rows = await this.table.load(missing);
      const got = new Map<number, InspectorRecord>();
      missing.forEach((i, k) => {
        const r = this.parse(i, rows[k]);
        if (r) {
          got.set(i, r);
          this.cache.set(i, r);
        }
      });
      indices.forEach((i, k) => (out[k] ??= got.get(i)));
    }
    return out;
  }

  /** Calls `fn` on every readable record of `indices`, parsing the uncached ones in batches. */
  private async visit(indices: readonly number[], fn: (r: InspectorRecord) => unknown): Promise<void> {
    for (let at = 0; at < indices.length; at += BATCH) {
      const batch = indices.slice(at, at + BATCH);
      const missing: number[] = [];
      for (const i of batch) {
        const hit = this.cache.get(i);
        if (hit) fn(hit);
        else if (this.keys.state[i] !== CORRUPT) missing.push(i);
      }
      if (!missing.length) continue;
      const rows = await this.table.load(missing);
      missing.forEach((i, k) => {
        const r = this.parse(i, rows[k]);
        if (r) fn(r);
      });
    }
  }

  /** Parses what sorting and filtering need for the records of `indices` not yet seen. */
  private ensureKeys(indices: readonly number[]): Promise<void> {
    return this.visit(
      indices.filter((i) => this.keys.state[i] === UNKNOWN),
      () => undefined,
    );
  }

  private parse(index: number, row: Awaited<ReturnType<RawTable['load']>>[number]): InspectorRecord | undefined {
    const mapped = row.ok ? this.mapper(row.value, { step: this.table.stepOf(index), baseDir: this.meta.baseDir }) : row.error;
    if (typeof mapped === 'string') {
      if (this.keys.setCorrupt(index) && this.corruptAt.length < MAX_CORRUPT_AT)
        this.corruptAt.push(`${this.table.where(index)}: ${mapped}`);
      return undefined;
    }
    const r: InspectorRecord = { index, ...mapped };
    this.keys.set(index, r);
    return r;
  }

  private async scan(): Promise<void> {
    if (this.scanning) return;
    this.scanning = true;
    try {
      while (!this.closed && this.scanCursor < this.table.size) {
        const end = Math.min(this.table.size, this.scanCursor + SCAN_SLICE);
        const slice: number[] = [];
        for (let i = this.scanCursor; i < end; i++) if (this.keys.state[i] === UNKNOWN) slice.push(i);
        this.scanCursor = end;
        await this.visit(slice, () => undefined);
        await new Promise<void>((res) => setImmediate(res)); // let the host answer requests between slices
      }
    } finally {
      this.scanning = false;
    }
    if (!this.closed) this.opts.onChange?.();
  }
}

/** Sorts indices by key (NaN — the record lacks it — last in either direction; ties by index). */
function sortBy(indices: number[], key: Float64Array, descending: boolean): void {
  const dir = descending ? -1 : 1;
  indices.sort((a, b) => {
    const x = key[a];
    const y = key[b];
    const xn = Number.isNaN(x);
    const yn = Number.isNaN(y);
    if (xn || yn) return xn === yn ? a - b : xn ? 1 : -1;
    return x === y ? a - b : x < y ? -dir : dir;
  });
}
