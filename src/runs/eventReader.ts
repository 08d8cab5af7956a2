// Incremental reader of a run's events.jsonl. It reads only the bytes appended since the last call
// (byte offsets, never a re-read), keeps a torn last line until its newline arrives, skips and counts
// corrupt lines, and never drops a complete valid line.
import { openSync, readSync, closeSync, fstatSync } from 'node:fs';
import type { RunEvent } from '../protocol';
import { checkRunEvent } from './schemaValidation';

export interface CorruptLine {
  /** 1-based line number in events.jsonl. */
  line: number;
  error: string;
}

export interface ReadResult {
  events: RunEvent[];
  /** Corrupt lines found in this read. */
  corrupt: CorruptLine[];
}

const NEWLINE = 0x0a;
const CHUNK = 4 * 1024 * 1024;

export class EventFileReader {
  /** Byte offset of the first byte not yet consumed (the start of a torn line, if any). */
  private offset = 0;
  private lineNumber = 0;
  private pending: Buffer | null = null;
  corruptCount = 0;
  readonly corruptSamples: CorruptLine[] = [];

  constructor(
    readonly path: string,
    private readonly validate = true,
  ) {}

  get bytesConsumed(): number {
    return this.offset;
  }

  /** Reads what was appended since the last call. A missing file reads as empty. */
  readNew(): ReadResult {
    const result: ReadResult = { events: [], corrupt: [] };
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return result;
      throw err;
    }
    try {
      const size = fstatSync(fd).size;
      let position = this.offset + (this.pending?.length ?? 0);
      if (size < position) {
        // The file was truncated or replaced: start over rather than read garbage.
        this.offset = 0;
        this.lineNumber = 0;
        this.pending = null;
        position = 0;
      }
      while (position < size) {
        const length = Math.min(CHUNK, size - position);
        const chunk = Buffer.allocUnsafe(length);
        const got = readSync(fd, chunk, 0, length, position);
        if (got <= 0) break;
        position += got;
        this.consume(got === length ? chunk : chunk.subarray(0, got), result);
      }
    } finally {
      closeSync(fd);
    }
    return result;
  }

  private consume(chunk: Buffer, result: ReadResult): void {
    const data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    const lastNewline = data.lastIndexOf(NEWLINE);
    if (lastNewline < 0) {
      this.pending = data;
      return;
    }
    // Decode all complete lines at once (one string conversion per chunk, then split).
    const text = data.toString('utf8', 0, lastNewline);
    this.pending = lastNewline + 1 < data.length ? Buffer.from(data.subarray(lastNewline + 1)) : null;
    this.offset += lastNewline + 1;
    let start = 0;
    while (start <= text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      const line = text.slice(start, end);
      this.lineNumber++;
      if (line.trim().length > 0) this.parseLine(line, result);
      start = end + 1;
    }
  }

  private parseLine(line: string, result: ReadResult): void {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      this.recordCorrupt({ line: this.lineNumber, error: `not JSON: ${(err as Error).message}` }, result);
      return;
    }
    if (this.validate) {
      const checked = checkRunEvent(value);
      if (!checked.ok) {
        this.recordCorrupt({ line: this.lineNumber, error: checked.error }, result);
        return;
      }
    }
    result.events.push(value as RunEvent);
  }

  private recordCorrupt(c: CorruptLine, result: ReadResult): void {
    this.corruptCount++;
    if (this.corruptSamples.length < 20) this.corruptSamples.push(c);
    result.corrupt.push(c);
  }
}
