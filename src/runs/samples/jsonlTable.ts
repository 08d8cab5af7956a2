// A table over JSONL sample files (ours: samples/step-N.jsonl; veRL: <step>.jsonl), indexed by byte
// offset: opening records where each complete line starts and ends, nothing is parsed; `load` reads
// just the requested lines (one read per file when many lines of it are asked for) and parses them.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { parseLenient } from '../readers/jsonl';
import { scanLines } from './lineScan';
import { noteCorrupt, type RawRow, type RawTable } from './table';

export interface StepFile {
  path: string;
  /** The step the file name gives, or null. */
  step: number | null;
}

interface IndexedFile extends StepFile {
  name: string;
  /** Bytes indexed so far: the next scan starts here (a torn last line waits beyond it). */
  offset: number;
  /** Lines seen so far (blank and corrupt ones included: line numbers are the editor's). */
  lines: number;
}

/** Above this many lines of one file in one load, the lines' whole byte range is read at once. */
const BULK_LINES = 32;

export class JsonlTable implements RawTable {
  readonly skipped = { count: 0, at: [] as string[] };
  private readonly files: IndexedFile[] = [];
  private readonly known = new Map<string, number>();
  private readonly fileOf: number[] = [];
  private readonly start: number[] = [];
  private readonly end: number[] = [];
  private readonly lineNo: number[] = [];

  /** `list`: the step files present now, in the order they are to be indexed (by step). */
  constructor(private readonly list: () => StepFile[]) {
    this.index();
  }

  get size(): number {
    return this.fileOf.length;
  }

  stepOf(index: number): number | null {
    return this.files[this.fileOf[index]]?.step ?? null;
  }

  where(index: number): string {
    const f = this.files[this.fileOf[index]];
    return f ? `${f.name}:${this.lineNo[index]}` : `#${index}`;
  }

  async refresh(): Promise<boolean> {
    return this.index();
  }

  close(): void {}

  private index(): boolean {
    const before = this.size;
    for (const sf of this.list()) {
      let fi = this.known.get(sf.path);
      if (fi === undefined) {
        fi = this.files.push({ ...sf, name: basename(sf.path), offset: 0, lines: 0 }) - 1;
        this.known.set(sf.path, fi);
      }
      const file = this.files[fi];
      let size: number;
      try {
        size = statSync(file.path).size;
      } catch {
        continue; // gone since it was listed
      }
      if (size <= file.offset) continue;
      const id = fi;
      file.offset = scanLines(file.path, file.offset, (s, e, kind) => {
        file.lines++;
        if (kind === 'object') {
          this.fileOf.push(id);
          this.start.push(s);
          this.end.push(e);
          this.lineNo.push(file.lines);
        } else if (kind === 'corrupt') noteCorrupt(this.skipped, `${file.name}:${file.lines}: not a JSON object`);
      });
    }
    return this.size > before;
  }

  async prefilter(indices: readonly number[], needle: string): Promise<number[]> {
    const keep: number[] = [];
    this.eachLine(
      indices,
      (index, text) => text.toLowerCase().includes(needle) && keep.push(index),
      (index) => keep.push(index), // unreadable now: let the parse say why
    );
    return keep.sort((a, b) => a - b);
  }

  async load(indices: readonly number[]): Promise<RawRow[]> {
    const at = new Map<number, number[]>();
    indices.forEach((index, k) => {
      const ks = at.get(index);
      if (ks) ks.push(k);
      else at.set(index, [k]);
    });
    const out: RawRow[] = new Array(indices.length);
    const put = (index: number, row: RawRow): void => {
      for (const k of at.get(index)!) out[k] = row;
    };
    this.eachLine(
      indices,
      (index, text) => put(index, parseLine(text)),
      (index, error) => put(index, { ok: false, error }),
    );
    return out;
  }

  /** The text of each indexed line, read file by file (one read for many lines of a file). */
  private eachLine(
    indices: readonly number[],
    onText: (index: number, text: string) => unknown,
    onError: (index: number, error: string) => unknown,
  ): void {
    const byFile = new Map<number, number[]>();
    for (const index of indices) {
      const fi = this.fileOf[index];
      if (fi === undefined) {
        onError(index, `no record ${index}`);
        continue;
      }
      let list = byFile.get(fi);
      if (!list) byFile.set(fi, (list = []));
      list.push(index);
    }
    for (const [fi, list] of byFile) {
      const file = this.files[fi];
      let fd: number;
      try {
        fd = openSync(file.path, 'r');
      } catch (err) {
        for (const index of list) onError(index, `${file.name}: cannot be read (${(err as Error).message})`);
        continue;
      }
      try {
        if (list.length >= BULK_LINES) {
          let from = Infinity;
          let to = 0;
          for (const index of list) {
            from = Math.min(from, this.start[index]);
            to = Math.max(to, this.end[index]);
          }
          const buf = readRange(fd, from, to);
          for (const index of list) onText(index, buf.toString('utf8', this.start[index] - from, this.end[index] - from));
        } else for (const index of list) onText(index, readRange(fd, this.start[index], this.end[index]).toString('utf8'));
      } finally {
        closeSync(fd);
      }
    }
  }
}

function readRange(fd: number, from: number, to: number): Buffer {
  const buf = Buffer.allocUnsafe(to - from);
  let got = 0;
  while (got < buf.length) {
    const n = readSync(fd, buf, got, buf.length - got, from + got);
    if (n <= 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

function parseLine(line: string): RawRow {
  try {
    return { ok: true, value: parseLenient(line) };
  } catch (err) {
    return { ok: false, error: `not valid JSON (${(err as Error).message})` };
  }
}
