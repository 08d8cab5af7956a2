// A columnar cache of a run's metric series beside its log: `<run>/.cache/series-v1.bin` holds, per
// metric key, a Float64 steps column and a Float64 values column (NaN for null); `series-v1.json`
// says where each column lies, how far into events.jsonl the cache reaches, and checksums of that
// part of the log. Opening a long finished run reads the columns straight into typed arrays (no
// JSON parse), then the reader goes on from the cached byte offset.
//
// Trust: the cache is used only when its format and protocol version match, the log is at least as
// long as the cached offset, and SHA-1s of the log's first and last 4 KiB up to that offset match —
// anything else (a rewritten, truncated or replaced log, a torn cache) rebuilds it from the log.
//
// Writes are incremental: each column is a chain of extents in the .bin (each twice the size of the
// one before, so a column has O(log n) extents); new points go into the free end of a column's last
// extent or into a new extent at the end of the file, and the small header is rewritten atomically
// (temp file + rename) after the data. A failed write (read-only folder, full disk) switches the
// cache off for this reader: it costs speed, never correctness.
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { endianness } from 'node:os';
import { dirname, join } from 'node:path';
import { PROTOCOL_VERSION, type RunStatus, type RunSummary } from '../protocol';
import { EventFileReader, type AsyncReadOptions, type ReaderCheckpoint, type ReadOptions, type ReadResult } from './eventReader';
import { RunSeries, SeriesColumn } from './runSeries';
import { eventsPath } from './runDirectory';

export const CACHE_FORMAT = 'fact-rlhf-series-cache';
export const CACHE_VERSION = 1;
/** Bytes of the log, before the cached offset (and from its start), whose checksums must match. */
export const CHECKSUM_BYTES = 4096;
const FIRST_EXTENT = 1024;

export function cacheDir(runDir: string): string {
  return join(runDir, '.cache');
}

/** [byte offset in the .bin, capacity in points]: `capacity` steps, then `capacity` values. */
type Extent = [number, number];

interface CachedKey {
  key: string;
  count: number;
  extents: Extent[];
  /** The last point, checked on load: a header that got ahead of its data is not trusted. */
  last: [number, number | null] | null;
  /** The largest step in the column (a resumed run's steps need not ascend). */
  maxStep: number;
}

interface CacheHeader {
  format: string;
  version: number;
  protocol: number;
  endian: string;
  validated: boolean;
  log: { offset: number; head: string; tail: string };
  reader: ReaderCheckpoint;
  run: {
    status: RunStatus;
    error?: string;
    progress?: RunSummary['progress'];
    sampleFiles: { step: number; path: string }[];
  };
  binBytes: number;
  keys: CachedKey[];
  /** Who wrote this header, and its sequence number: a second writer of the same cache is noticed. */
  writer: string;
  seq: number;
}

export type CacheLoad = { ok: true; series: RunSeries; reader: ReaderCheckpoint } | { ok: false; reason: string };

function sha1(bytes: Uint8Array): string {
  return createHash('sha1').update(bytes).digest('hex');
}

/** Checksums of the log's first and last CHECKSUM_BYTES before `offset`. */
function logChecksums(logPath: string, offset: number): { head: string; tail: string } {
  const fd = openSync(logPath, 'r');
  try {
    const read = (from: number, length: number): Buffer => {
      const buf = Buffer.alloc(length);
      let got = 0;
      while (got < length) {
        const n = readSync(fd, buf, got, length - got, from + got);
        if (n <= 0) break;
        got += n;
      }
      return buf.subarray(0, got);
    };
    const n = Math.min(CHECKSUM_BYTES, offset);
    return { head: sha1(read(0, n)), tail: sha1(read(offset - n, n)) };
  } finally {
    closeSync(fd);
  }
}

function readExactly(fd: number, target: Uint8Array, position: number): boolean {
  let got = 0;
  while (got < target.length) {
    const n = readSync(fd, target, got, target.length - got, position + got);
    if (n <= 0) return false;
    got += n;
  }
  return true;
}

function writeExactly(fd: number, source: Uint8Array, position: number): void {
  let put = 0;
  while (put < source.length) put += writeSync(fd, source, put, source.length - put, position + put);
}

const bytesOf = (a: Float64Array, from: number, to: number): Uint8Array =>
  new Uint8Array(a.buffer, a.byteOffset + from * 8, (to - from) * 8);

export class SeriesCache {
  readonly binPath: string;
  readonly headerPath: string;
  /** Why the cache is off for this reader (a write failed); undefined while it works. */
  disabled: string | undefined;
  /** Header writes (each after an append of new points). */
  saves = 0;
  private keys = new Map<string, CachedKey>();
  private binBytes = 0;
  private readonly writer = randomBytes(8).toString('hex');
  /** The header last loaded or written by this reader (writer and seq), to notice another writer. */
  private lastHeader: { writer: string; seq: number } | undefined;

  constructor(
    readonly runDir: string,
    readonly logPath = eventsPath(runDir),
    readonly validated = true,
  ) {
    this.binPath = join(cacheDir(runDir), `series-v${CACHE_VERSION}.bin`);
    this.headerPath = join(cacheDir(runDir), `series-v${CACHE_VERSION}.json`);
  }

  /** Reads the cache, if it is there and still matches the log; otherwise says why not. */
  load(): CacheLoad {
    let header: CacheHeader;
    try {
      header = JSON.parse(readFileSync(this.headerPath, 'utf8')) as CacheHeader;
    } catch (err) {
      return {
        ok: false,
        reason: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no cache' : `unreadable header: ${(err as Error).message}`,
      };
    }
    const reason = this.checkHeader(header);
    if (reason) return { ok: false, reason };
    let fd: number;
    try {
      fd = openSync(this.binPath, 'r');
    } catch (err) {
      return { ok: false, reason: `no column file: ${(err as Error).message}` };
    }
    try {
      if (fstatSync(fd).size < header.binBytes) return { ok: false, reason: 'column file shorter than its header says' };
      const series = new RunSeries();
      for (const k of header.keys) {
        // Headroom for the points a live run adds next: an exact-size column would be copied whole
        // by its first push. Untouched pages of a fresh array cost no time.
        const capacity = k.count + Math.max(1024, k.count >>> 3);
        const steps = new Float64Array(capacity);
        const values = new Float64Array(capacity);
        let filled = 0;
        for (const [offset, capacity] of k.extents) {
          const n = Math.min(capacity, k.count - filled);
          if (n <= 0) break;
          if (offset + capacity * 16 > header.binBytes) return { ok: false, reason: `extent of ${k.key} outside the column file` };
          if (!readExactly(fd, bytesOf(steps, filled, filled + n), offset)) return { ok: false, reason: 'column file ended early' };
          if (!readExactly(fd, bytesOf(values, filled, filled + n), offset + capacity * 8))
            return { ok: false, reason: 'column file ended early' };
          filled += n;
        }
        if (filled !== k.count) return { ok: false, reason: `column ${k.key} holds ${filled} of ${k.count} points` };
        if (!sameLast(k, steps, values)) return { ok: false, reason: `column ${k.key} does not end with the point its header records` };
        series.setColumn(k.key, SeriesColumn.from(steps, values, k.count), typeof k.maxStep === 'number' ? k.maxStep : undefined);
      }
      series.status = header.run.status;
      series.error = header.run.error;
      series.progress = header.run.progress;
      series.sampleFiles.push(...header.run.sampleFiles);
      this.keys = new Map(header.keys.map((k) => [k.key, { ...k, extents: k.extents.map((e) => [e[0], e[1]] as Extent) }]));
      this.binBytes = header.binBytes;
      this.lastHeader = { writer: header.writer, seq: header.seq };
      return { ok: true, series, reader: header.reader };
    } catch (err) {
      return { ok: false, reason: `unreadable columns: ${(err as Error).message}` };
    } finally {
      closeSync(fd);
    }
  }

  private checkHeader(h: CacheHeader): string | undefined {
    if (typeof h !== 'object' || h === null || h.format !== CACHE_FORMAT) return 'not a series cache';
    if (h.version !== CACHE_VERSION) return `cache version ${String(h.version)}, this reader writes ${CACHE_VERSION}`;
    if (h.protocol !== PROTOCOL_VERSION) return `protocol version ${String(h.protocol)}, this reader reads ${PROTOCOL_VERSION}`;
    if (h.endian !== endianness()) return `written on a ${String(h.endian)} machine`;
    if (h.validated !== this.validated) return h.validated ? 'built with schema validation' : 'built without schema validation';
    if (!h.log || !h.reader || !h.run || !Array.isArray(h.keys) || typeof h.binBytes !== 'number') return 'incomplete header';
    if (h.reader.offset !== h.log.offset) return 'incomplete header';
    let size: number;
    try {
      size = statSync(this.logPath).size;
    } catch {
      return 'the log is gone';
    }
    if (size < h.log.offset) return `the log is shorter (${size} bytes) than the cached ${h.log.offset}`;
    const sums = logChecksums(this.logPath, h.log.offset);
    if (sums.tail !== h.log.tail) return 'the log changed before the cached offset (tail checksum differs)';
    if (sums.head !== h.log.head) return 'the log changed before the cached offset (head checksum differs)';
    return undefined;
  }

  /**
   * Appends what `series` holds beyond what the cache has, and records the reader's position. When a
   * column is shorter than cached (the series was rebuilt), the cache starts over.
   */
  save(series: RunSeries, reader: ReaderCheckpoint): boolean {
    if (this.disabled) return false;
    try {
      // Two readers of one run (two windows) would interleave their extents: the one that finds a
      // header it did not write or load since stops writing (the other's cache stays good).
      const onDisk = this.peekHeader();
      if (onDisk && (!this.lastHeader || onDisk.writer !== this.lastHeader.writer || onDisk.seq !== this.lastHeader.seq)) {
        this.disabled = 'another reader is writing this series cache';
        return false;
      }
      for (const [key, k] of this.keys) {
        const c = series.column(key);
        if (!c || c.length < k.count) {
          this.discard();
          break;
        }
      }
      mkdirSync(dirname(this.binPath), { recursive: true });
      const fd = openSync(this.binPath, this.binBytes === 0 ? 'w' : 'r+');
      try {
        for (const key of series.keys()) this.append(fd, key, series.column(key)!);
        // Reserve the extents' free ends (sparse where the file system allows): the file is as long
        // as the header says, which load() checks.
        if (fstatSync(fd).size < this.binBytes) ftruncateSync(fd, this.binBytes);
      } finally {
        closeSync(fd);
      }
      const header: CacheHeader = {
        format: CACHE_FORMAT,
        version: CACHE_VERSION,
        protocol: PROTOCOL_VERSION,
        endian: endianness(),
        validated: this.validated,
        log: { offset: reader.offset, ...logChecksums(this.logPath, reader.offset) },
        reader,
        run: { status: series.status, error: series.error, progress: series.progress, sampleFiles: series.sampleFiles },
        binBytes: this.binBytes,
        keys: [...this.keys.values()],
        writer: this.writer,
        seq: (this.lastHeader?.seq ?? 0) + 1,
      };
      const tmp = `${this.headerPath}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(header));
      renameSync(tmp, this.headerPath);
      this.lastHeader = { writer: header.writer, seq: header.seq };
      this.saves++;
      return true;
    } catch (err) {
      this.disabled = `cannot write the series cache: ${(err as Error).message}`;
      return false;
    }
  }

  /** The writer and sequence number of the header on disk, if there is a readable one. */
  private peekHeader(): { writer: string; seq: number } | undefined {
    try {
      const h = JSON.parse(readFileSync(this.headerPath, 'utf8')) as Partial<CacheHeader>;
      return { writer: String(h.writer), seq: Number(h.seq) };
    } catch {
      return undefined;
    }
  }

  /** Forgets the cache on disk and in memory (the next save starts a new one). */
  discard(): void {
    this.keys.clear();
    this.binBytes = 0;
    this.lastHeader = undefined;
    for (const p of [this.headerPath, this.binPath]) {
      try {
        rmSync(p, { force: true });
      } catch {
        // A read-only folder: the stale cache stays, and is refused again by its checksums.
      }
    }
  }

  private append(fd: number, key: string, c: SeriesColumn): void {
    let k = this.keys.get(key);
    if (!k) {
      k = { key, count: 0, extents: [], last: null, maxStep: -1 };
      this.keys.set(key, k);
    }
    let written = k.count;
    for (let i = written; i < c.length; i++) if (c.steps[i] > k.maxStep) k.maxStep = c.steps[i];
    // Fill the free end of each extent in turn, adding extents at the end of the file as needed.
    let start = 0;
    for (const [offset, capacity] of k.extents) {
      if (written >= c.length) break;
      if (written < start + capacity) {
        const n = Math.min(start + capacity - written, c.length - written);
        const at = written - start;
        writeExactly(fd, bytesOf(c.steps, written, written + n), offset + at * 8);
        writeExactly(fd, bytesOf(c.values, written, written + n), offset + capacity * 8 + at * 8);
        written += n;
      }
      start += capacity;
    }
    while (written < c.length) {
      const previous = k.extents.length ? k.extents[k.extents.length - 1][1] : 0;
      const capacity = Math.max(FIRST_EXTENT, previous * 2, c.length - written);
      const offset = this.binBytes;
      this.binBytes += capacity * 16;
      k.extents.push([offset, capacity]);
      const n = c.length - written;
      writeExactly(fd, bytesOf(c.steps, written, written + n), offset);
      writeExactly(fd, bytesOf(c.values, written, written + n), offset + capacity * 8);
      written += n;
    }
    k.count = c.length;
    if (c.length) {
      const v = c.values[c.length - 1];
      k.last = [c.steps[c.length - 1], Number.isNaN(v) ? null : v];
    }
  }
}

function sameLast(k: CachedKey, steps: Float64Array, values: Float64Array): boolean {
  if (k.count === 0) return k.last === null;
  if (!k.last) return false;
  const v = values[k.count - 1];
  return steps[k.count - 1] === k.last[0] && (Number.isNaN(v) ? k.last[1] === null : v === k.last[1]);
}

export interface CachedRunOptions {
  /** Schema-validate the log's lines (default true; a cache built one way is not used the other). */
  validate?: boolean;
  /** Append to the cache after this many new bytes of log have been read (default 16 MiB)... */
  saveEveryBytes?: number;
  /** ...or this long after the last save, when anything is new (default 5 s). */
  saveEveryMs?: number;
  /** Use and write the cache (default true). */
  cache?: boolean;
}

/**
 * A run's series read through the cache: `open` loads what the cache holds (when it matches the log)
 * and each read continues from there, applying new events to `series` and appending them to the cache.
 * `events` of a read are only those read now; what the cache held is already in `series`.
 */
export class CachedRun {
  readonly series: RunSeries;
  readonly reader: EventFileReader;
  readonly cache: SeriesCache | undefined;
  /** 'hit' when the cache was used, else why not. */
  readonly cacheState: string;
  private savedOffset: number;
  private savedAt = Date.now();
  private readonly saveEveryBytes: number;
  private readonly saveEveryMs: number;

  constructor(
    readonly runDir: string,
    options: CachedRunOptions = {},
    logPath = eventsPath(runDir),
  ) {
    const validate = options.validate ?? true;
    this.reader = new EventFileReader(logPath, validate);
    this.saveEveryBytes = options.saveEveryBytes ?? 16 * 1024 * 1024;
    this.saveEveryMs = options.saveEveryMs ?? 5000;
    if (options.cache === false) {
      this.series = new RunSeries();
      this.cacheState = 'off';
      this.savedOffset = 0;
      return;
    }
    this.cache = new SeriesCache(runDir, logPath, validate);
    const loaded = this.cache.load();
    if (loaded.ok) {
      this.series = loaded.series;
      this.reader.resume(loaded.reader);
      this.cacheState = 'hit';
    } else {
      this.series = new RunSeries();
      if (loaded.reason !== 'no cache') this.cache.discard();
      this.cacheState = loaded.reason;
    }
    this.savedOffset = this.reader.bytesConsumed;
  }

  /**
   * Reads what the log gained, slice by slice, into `series` (and the cache as it goes). The events
   * come back in the result, or to `onBatch` per slice, which keeps a long cold read from holding
   * every event object at once.
   */
  readNew(options: ReadOptions = {}): ReadResult {
    const total: ReadResult = { events: [], corrupt: [] };
    this.reader.readNew({ ...options, onBatch: this.batches(options.onBatch, total) });
    this.maybeSave(options.final === true);
    return total;
  }

  /** The same, yielding to the event loop between slices. */
  async readNewAsync(options: AsyncReadOptions = {}): Promise<ReadResult> {
    const total: ReadResult = { events: [], corrupt: [] };
    await this.reader.readNewAsync({ ...options, onBatch: this.batches(options.onBatch, total) });
    this.maybeSave(options.final === true);
    return total;
  }

  private batches(onBatch: ((batch: ReadResult) => void) | undefined, total: ReadResult): (batch: ReadResult) => void {
    return (batch) => {
      this.take(batch);
      this.maybeSave(false);
      if (onBatch) {
        onBatch(batch);
        return;
      }
      if (batch.reset) {
        total.reset = true;
        total.events.length = 0;
      }
      for (const e of batch.events) total.events.push(e);
      for (const c of batch.corrupt) total.corrupt.push(c);
    };
  }

  /** Writes what is new to the cache now. */
  save(): boolean {
    if (!this.cache) return false;
    this.savedOffset = this.reader.bytesConsumed;
    this.savedAt = Date.now();
    return this.cache.save(this.series, this.reader.checkpoint());
  }

  private take(result: ReadResult): void {
    if (result.reset) {
      this.series.clear();
      this.cache?.discard();
      this.savedOffset = 0;
    }
    this.series.apply(result.events);
  }

  private maybeSave(force: boolean): void {
    const fresh = this.reader.bytesConsumed - this.savedOffset;
    if (fresh <= 0 && !force) return;
    const terminal = this.series.status !== 'starting' && this.series.status !== 'running';
    if (force || terminal || fresh >= this.saveEveryBytes || Date.now() - this.savedAt >= this.saveEveryMs) this.save();
  }
}
