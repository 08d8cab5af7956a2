// Incremental reader of a run's events.jsonl. It reads only the bytes appended since the last call
// (byte offsets, never a re-read), keeps a torn last line until its newline arrives, skips and counts
// corrupt lines, and never drops a complete valid line. It notices a replaced or regrown file and
// starts over (`reset`), skips lines over a documented length limit instead of wedging on them, and
// has an asynchronous form that reads in slices so a large finished run does not block its caller.
import { openSync, readSync, closeSync, fstatSync, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';
import * as bufferModule from 'node:buffer';
import type { RunEvent } from '../protocol';
import { checkRunEvent, takeMetricEventFast } from './schemaValidation';

export interface CorruptLine {
  /** 1-based line number in events.jsonl. */
  line: number;
  error: string;
}

export interface ReadResult {
  events: RunEvent[];
  /** Corrupt lines found in this read. */
  corrupt: CorruptLine[];
  /**
   * True when the file was replaced, truncated or rewritten since the last read: everything read
   * before belongs to another file, and `events` start again from its first line.
   */
  reset?: boolean;
}

export interface ReadOptions {
  /** The writer is gone: a last line without its newline is complete, deliver it. */
  final?: boolean;
  /** Read no further than this byte offset (the rest stays for the next call). */
  limit?: number;
  /**
   * Called with each slice's events as soon as it is parsed; the returned result then holds none.
   * A consumer that folds events into columns (RunSeries) lets them die young instead of holding a
   * whole long run's event objects at once.
   */
  onBatch?: (batch: ReadResult) => void;
  /** Bytes per slice (default 4 MiB for readNew, 1 MiB between yields for readNewAsync). */
  sliceBytes?: number;
}

export type AsyncReadOptions = ReadOptions;

/**
 * Where a reader stands, so a later reader can go on from there without re-reading (the series cache
 * stores it). `offset` is the first byte not consumed: a torn last line is not part of it and is read
 * again by the reader that resumes.
 */
export interface ReaderCheckpoint {
  offset: number;
  lineNumber: number;
  /** Inside an over-long line that is being skipped up to its newline. */
  skipping: boolean;
  /** The last line was delivered by a final read without its newline. */
  endedWithoutNewline: boolean;
  corruptCount: number;
  nonFiniteCount: number;
  corruptSamples: CorruptLine[];
}

export interface EventFileReaderOptions {
  /** Longest line accepted, in bytes (default MAX_LINE_BYTES); a longer one is skipped and counted. */
  maxLineBytes?: number;
}

/**
 * The longest events.jsonl line the reader accepts: 64 MiB. The trainer's lines are a few hundred
 * bytes; a longer line is skipped as corrupt (its bytes are not kept), so one runaway line cannot
 * exhaust memory or exceed the engine's string limit (~512 MB) and wedge every later read.
 */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

const NEWLINE = 0x0a;
const CHUNK = 4 * 1024 * 1024;
const ASYNC_SLICE = 1024 * 1024;
/** Bytes at the start of the file remembered to recognise a rewritten file with the same inode. */
const HEAD_BYTES = 256;

export class EventFileReader {
  /** Byte offset of the first byte not yet consumed (the start of a torn line, if any). */
  private offset = 0;
  private lineNumber = 0;
  /** A torn last line, kept as the chunks it arrived in (joined once, when its newline arrives). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Inside an over-long line: discard bytes up to the next newline. */
  private skipping = false;
  /** The last line was delivered by a final read without its newline; a newline that follows ends it. */
  private endedWithoutNewline = false;
  private identity: string | undefined;
  private head: Buffer = Buffer.alloc(0);
  private busy = false;
  private readonly maxLineBytes: number;
  corruptCount = 0;
  /** Metric values (and progress ETAs) that were not finite numbers (e.g. `1e999`), read as null. */
  nonFiniteCount = 0;
  /** How many times the file was found replaced or rewritten and reading started over. */
  resetCount = 0;
  readonly corruptSamples: CorruptLine[] = [];

  constructor(
    readonly path: string,
    private readonly validate = true,
    options: EventFileReaderOptions = {},
  ) {
    this.maxLineBytes = Math.max(1, options.maxLineBytes ?? MAX_LINE_BYTES);
  }

  get bytesConsumed(): number {
    return this.offset;
  }

  /** Where this reader stands (see ReaderCheckpoint). */
  checkpoint(): ReaderCheckpoint {
    return {
      offset: this.offset,
      lineNumber: this.lineNumber,
      skipping: this.skipping,
      endedWithoutNewline: this.endedWithoutNewline,
      corruptCount: this.corruptCount,
      nonFiniteCount: this.nonFiniteCount,
      corruptSamples: this.corruptSamples.slice(),
    };
  }

  /**
   * Goes on from a checkpoint of the same file instead of its first byte. Only before the first read;
   * the caller has checked that the file still holds the bytes the checkpoint covered (the series
   * cache checks size and a checksum of the tail). A later replaced file still starts over.
   */
  resume(c: ReaderCheckpoint): void {
    if (this.offset !== 0 || this.pendingBytes !== 0 || this.identity !== undefined)
      throw new Error(`${this.path}: resume() before the first read only`);
    this.offset = c.offset;
    this.lineNumber = c.lineNumber;
    this.skipping = c.skipping;
    this.endedWithoutNewline = c.endedWithoutNewline;
    this.corruptCount = c.corruptCount;
    this.nonFiniteCount = c.nonFiniteCount;
    this.corruptSamples.length = 0;
    this.corruptSamples.push(...c.corruptSamples.slice(0, 20));
    // Remember the file as it is now, so a log replaced after this point is noticed by the next read.
    try {
      const fd = openSync(this.path, 'r');
      try {
        const stat = fstatSync(fd);
        const head = Buffer.alloc(Math.min(HEAD_BYTES, stat.size));
        if (head.length) readSync(fd, head, 0, head.length, 0);
        this.identity = `${stat.dev}:${stat.ino}`;
        this.head = head;
      } finally {
        closeSync(fd);
      }
    } catch {
      // No file now: the first read that finds one checks it then.
    }
  }

  /** Reads what was appended since the last call. A missing file reads as empty. */
  readNew(options: ReadOptions = {}): ReadResult {
    const result: ReadResult = { events: [], corrupt: [] };
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return result;
      throw err;
    }
    this.enter();
    try {
      const stat = fstatSync(fd);
      const head = Buffer.alloc(Math.min(HEAD_BYTES, stat.size));
      if (head.length) readSync(fd, head, 0, head.length, 0);
      this.checkIdentity(stat, head, result);
      const onBatch = options.onBatch;
      if (result.reset && onBatch) onBatch({ events: [], corrupt: [], reset: true });
      let position = this.position;
      const end = Math.min(stat.size, options.limit ?? Infinity);
      const chunkBytes = Math.max(1, Math.min(options.sliceBytes ?? CHUNK, this.maxLineBytes));
      let chunk: Buffer | undefined;
      while (position < end) {
        const length = Math.min(chunkBytes, end - position);
        // One buffer for every slice: consume() keeps no reference into it (a torn line is copied).
        if (!chunk || chunk.length < length) chunk = Buffer.allocUnsafe(length);
        const got = readSync(fd, chunk, 0, length, position);
        if (got <= 0) break;
        position += got;
        const target: ReadResult = onBatch ? { events: [], corrupt: [] } : result;
        this.consume(chunk.subarray(0, got), target);
        if (onBatch && (target.events.length || target.corrupt.length)) onBatch(target);
      }
      if (options.final && position >= stat.size) {
        const target: ReadResult = onBatch ? { events: [], corrupt: [] } : result;
        this.flushPending(target);
        if (onBatch && (target.events.length || target.corrupt.length)) onBatch(target);
      }
    } finally {
      this.busy = false;
      closeSync(fd);
    }
    return result;
  }

  /**
   * The same read in slices, yielding to the event loop between them, so opening a large finished
   * run does not block the caller's thread; with `onBatch`, the first events arrive after one slice.
   */
  async readNewAsync(options: AsyncReadOptions = {}): Promise<ReadResult> {
    const total: ReadResult = { events: [], corrupt: [] };
    let file: FileHandle;
    try {
      file = await open(this.path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return total;
      throw err;
    }
    this.enter();
    try {
      const stat = await file.stat();
      const head = Buffer.alloc(Math.min(HEAD_BYTES, stat.size));
      if (head.length) await file.read(head, 0, head.length, 0);
      this.checkIdentity(stat, head, total);
      const deliver = (batch: ReadResult): void => {
        if (options.onBatch) {
          if (batch.events.length || batch.corrupt.length || batch.reset) options.onBatch(batch);
        } else {
          for (const e of batch.events) total.events.push(e);
          for (const c of batch.corrupt) total.corrupt.push(c);
        }
      };
      if (total.reset && options.onBatch) {
        options.onBatch({ events: [], corrupt: [], reset: true });
      }
      let position = this.position;
      const end = Math.min(stat.size, options.limit ?? Infinity);
      const sliceBytes = Math.max(1, Math.min(options.sliceBytes ?? ASYNC_SLICE, this.maxLineBytes));
      let first = true;
      while (position < end) {
        if (!first) await new Promise<void>((resolve) => setImmediate(resolve));
        first = false;
        const length = Math.min(sliceBytes, end - position);
        const chunk = Buffer.allocUnsafe(length);
        const { bytesRead } = await file.read(chunk, 0, length, position);
        if (bytesRead <= 0) break;
        position += bytesRead;
        const batch: ReadResult = { events: [], corrupt: [] };
        this.consume(bytesRead === length ? chunk : chunk.subarray(0, bytesRead), batch);
        deliver(batch);
      }
      if (options.final && position >= stat.size) {
        const batch: ReadResult = { events: [], corrupt: [] };
        this.flushPending(batch);
        deliver(batch);
      }
    } finally {
      this.busy = false;
      await file.close();
    }
    return total;
  }

  private get position(): number {
    return this.offset + this.pendingBytes;
  }

  private enter(): void {
    // One read at a time: two interleaved reads would consume the same bytes twice.
    if (this.busy) throw new Error(`${this.path}: a read is already in progress`);
    this.busy = true;
  }

  /** A different file (inode), a shorter one, or other first bytes: the log was replaced; start over. */
  private checkIdentity(stat: Stats, head: Buffer, result: ReadResult): void {
    const identity = `${stat.dev}:${stat.ino}`;
    const seen = Math.min(this.head.length, head.length);
    const replaced =
      (this.identity !== undefined && identity !== this.identity) ||
      stat.size < this.position ||
      (this.position > 0 && !head.subarray(0, seen).equals(this.head.subarray(0, seen)));
    if (replaced) {
      this.offset = 0;
      this.lineNumber = 0;
      this.pending = [];
      this.pendingBytes = 0;
      this.skipping = false;
      this.endedWithoutNewline = false;
      this.resetCount++;
      result.reset = true;
      this.head = head;
    }
    this.identity = identity;
    if (head.length > this.head.length) this.head = head;
  }

  private consume(chunk: Buffer, result: ReadResult): void {
    let start = 0;
    if (this.endedWithoutNewline) {
      // The line a final read delivered has now got its newline: it ends that line, not a new one.
      this.endedWithoutNewline = false;
      if (chunk[0] === NEWLINE) {
        this.offset++;
        start = 1;
      }
    }
    if (this.skipping) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl < 0) {
        this.offset += chunk.length - start;
        return;
      }
      this.offset += nl + 1 - start;
      this.skipping = false;
      start = nl + 1;
    }
    if (this.pendingBytes > 0 && start < chunk.length) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl < 0) {
        this.keepPending(chunk.subarray(start), result);
        return;
      }
      const bytes = this.pendingBytes + nl - start;
      this.lineNumber++;
      if (bytes > this.maxLineBytes) this.recordOverlong(bytes, result);
      else this.parseLine(Buffer.concat([...this.pending, chunk.subarray(start, nl)], bytes).toString('utf8'), result);
      this.pending = [];
      this.pendingBytes = 0;
      this.offset += bytes + 1;
      start = nl + 1;
    }
    const lastNewline = chunk.lastIndexOf(NEWLINE);
    if (lastNewline >= start) {
      // Decode the complete lines at once (one string conversion per chunk, then split). A chunk is
      // never longer than the line limit, so no line inside it can exceed the limit.
      const text = decode(chunk, start, lastNewline);
      this.offset += lastNewline + 1 - start;
      let from = 0;
      while (from <= text.length) {
        let end = text.indexOf('\n', from);
        if (end < 0) end = text.length;
        this.lineNumber++;
        this.parseLine(text.slice(from, end), result);
        from = end + 1;
      }
      start = lastNewline + 1;
    }
    if (start < chunk.length) this.keepPending(chunk.subarray(start), result);
  }

  /** Holds a torn line's bytes (a list of chunks: appending stays linear), or gives up on an over-long one. */
  private keepPending(bytes: Buffer, result: ReadResult): void {
    const total = this.pendingBytes + bytes.length;
    if (total > this.maxLineBytes) {
      this.lineNumber++;
      this.recordOverlong(total, result);
      this.offset += total;
      this.pending = [];
      this.pendingBytes = 0;
      this.skipping = true;
      return;
    }
    // A copy: the slice buffer is reused for the next read.
    this.pending.push(Buffer.from(bytes));
    this.pendingBytes = total;
  }

  /** The run has ended: a last line without its newline will never get one; take it as it is. */
  private flushPending(result: ReadResult): void {
    if (this.skipping) {
      this.skipping = false;
      return;
    }
    if (this.pendingBytes === 0) return;
    const text = Buffer.concat(this.pending, this.pendingBytes).toString('utf8');
    this.offset += this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    this.lineNumber++;
    this.endedWithoutNewline = true;
    this.parseLine(text, result);
  }

  private recordOverlong(bytes: number, result: ReadResult): void {
    const mib = (n: number): string => `${(n / (1024 * 1024)).toFixed(n < 1024 * 1024 ? 3 : 1)} MiB`;
    this.recordCorrupt(
      { line: this.lineNumber, error: `line longer than the ${mib(this.maxLineBytes)} limit (${mib(bytes)} so far): skipped` },
      result,
    );
  }

  private parseLine(line: string, result: ReadResult): void {
    // A UTF-8 byte order mark (some editors write one) is not part of the first event.
    if (this.lineNumber === 1 && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    // A line that starts with `{` is not blank; only others need the trim.
    if (line.charCodeAt(0) !== 0x7b && line.trim().length === 0) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      this.recordCorrupt({ line: this.lineNumber, error: `not JSON: ${(err as Error).message}` }, result);
      return;
    }
    // Metric lines (nearly all of a run): one check that is the schema's and the sanitising's at once.
    const nonFinite = takeMetricEventFast(value);
    if (nonFinite >= 0) {
      this.nonFiniteCount += nonFinite;
      result.events.push(value as RunEvent);
      return;
    }
    if (this.validate) {
      const checked = checkRunEvent(value);
      if (!checked.ok) {
        this.recordCorrupt({ line: this.lineNumber, error: checked.error }, result);
        return;
      }
    }
    const problem = this.sanitize(value);
    if (problem) {
      this.recordCorrupt({ line: this.lineNumber, error: problem }, result);
      return;
    }
    result.events.push(value as RunEvent);
  }

  /**
   * What the schema cannot say: JSON.parse reads `1e999` as Infinity, which no metric can be (the
   * trainer writes null for a non-finite value; so does this reader, and counts it), and the paths
   * an event names must stay inside the run folder. Returns why the event is corrupt, if it is.
   */
  private sanitize(value: unknown): string | undefined {
    if (typeof value !== 'object' || value === null) return undefined;
    const e = value as Record<string, unknown>;
    for (const field of ['t', 'step', 'count', 'total']) {
      const x = e[field];
      if (typeof x === 'number' && !Number.isFinite(x)) return `${field}: not a finite number`;
    }
    if (e.type === 'metric' && typeof e.values === 'object' && e.values !== null) {
      const values = e.values as Record<string, unknown>;
      for (const key in values) {
        const x = values[key];
        if (typeof x === 'number' && !Number.isFinite(x)) {
          values[key] = null;
          this.nonFiniteCount++;
        }
      }
    }
    if (e.type === 'progress' && typeof e.eta === 'number' && !Number.isFinite(e.eta)) {
      e.eta = null;
      this.nonFiniteCount++;
    }
    if ((e.type === 'sample' || e.type === 'checkpoint') && typeof e.path === 'string' && !isRunRelativePath(e.path)) {
      return `path: ${JSON.stringify(e.path.slice(0, 200))} is not inside the run folder`;
    }
    return undefined;
  }

  private recordCorrupt(c: CorruptLine, result: ReadResult): void {
    this.corruptCount++;
    if (this.corruptSamples.length < 20) this.corruptSamples.push(c);
    result.corrupt.push(c);
  }
}

const isAscii: ((input: Uint8Array) => boolean) | undefined = (bufferModule as { isAscii?: (input: Uint8Array) => boolean }).isAscii;

/**
 * UTF-8 text of bytes [start, end). A run's log is nearly always ASCII, and for ASCII latin1 gives the
 * same string with a plain copy (a native check first, where Node has one: ≥ 18.15 / 19.6).
 */
function decode(chunk: Buffer, start: number, end: number): string {
  if (isAscii && isAscii(chunk.subarray(start, end))) return chunk.toString('latin1', start, end);
  return chunk.toString('utf8', start, end);
}

/**
 * Whether a path an event names is a relative path that stays inside the run folder: not absolute
 * (POSIX, drive letter or UNC), no NUL, and no `..` that climbs out after normalising.
 */
export function isRunRelativePath(path: string): boolean {
  if (path.length === 0 || path.includes('\0')) return false;
  const slashed = path.replace(/\\/g, '/');
  if (slashed.startsWith('/') || /^[A-Za-z]:/.test(slashed)) return false;
  const normal = posix.normalize(slashed);
  return normal !== '..' && !normal.startsWith('../') && normal !== '.';
}
