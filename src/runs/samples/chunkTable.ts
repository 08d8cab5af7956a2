// A table over sample files that can only be read whole (LLaVA-RLHF's step_N.json lists, TRL's
// completions_N.parquet tables): opening only counts each file's records (a key count, a parquet
// footer); a file is parsed when one of its records is first asked for, and the last few parsed
// files are kept.
import { basename } from 'node:path';
import type { StepFile } from './jsonlTable';
import { Lru } from './lru';
import { noteCorrupt, type RawRow, type RawTable } from './table';

export interface ChunkReader {
  /** Records in the file; undefined while it is still being written (it is looked at again on refresh). */
  count(path: string): Promise<number | undefined>;
  /** Every record of the file, in order. */
  rows(path: string): Promise<unknown[]>;
}

interface CountedFile extends StepFile {
  name: string;
  /** undefined: not complete yet. */
  count: number | undefined;
}

const KEPT_FILES = 4;

export class ChunkTable implements RawTable {
  readonly skipped = { count: 0, at: [] as string[] };
  private readonly files: CountedFile[] = [];
  private readonly known = new Map<string, number>();
  private readonly fileOf: number[] = [];
  private readonly pos: number[] = [];
  private readonly parsed = new Lru<number, Promise<unknown[] | Error>>(KEPT_FILES);

  private constructor(
    private readonly list: () => StepFile[],
    private readonly reader: ChunkReader,
  ) {}

  static async open(list: () => StepFile[], reader: ChunkReader): Promise<ChunkTable> {
    const t = new ChunkTable(list, reader);
    await t.index();
    return t;
  }

  get size(): number {
    return this.fileOf.length;
  }

  stepOf(index: number): number | null {
    return this.files[this.fileOf[index]]?.step ?? null;
  }

  where(index: number): string {
    const f = this.files[this.fileOf[index]];
    return f ? `${f.name}#${this.pos[index]}` : `#${index}`;
  }

  refresh(): Promise<boolean> {
    return this.index();
  }

  close(): void {
    this.parsed.clear();
  }

  private async index(): Promise<boolean> {
    const before = this.size;
    for (const sf of this.list()) {
      let fi = this.known.get(sf.path);
      if (fi === undefined) {
        fi = this.files.push({ ...sf, name: basename(sf.path), count: undefined }) - 1;
        this.known.set(sf.path, fi);
      }
      const file = this.files[fi];
      if (file.count !== undefined) continue; // each file is written once, whole
      try {
        file.count = await this.reader.count(file.path);
      } catch (err) {
        file.count = 0;
        noteCorrupt(this.skipped, `${file.name}: ${(err as Error).message}`);
      }
      for (let k = 0; k < (file.count ?? 0); k++) {
        this.fileOf.push(fi);
        this.pos.push(k);
      }
    }
    return this.size > before;
  }

  private rowsOf(fi: number): Promise<unknown[] | Error> {
    let p = this.parsed.get(fi);
    if (!p) {
      p = this.reader.rows(this.files[fi].path).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
      this.parsed.set(fi, p);
    }
    return p;
  }

  async load(indices: readonly number[]): Promise<RawRow[]> {
    const out: RawRow[] = new Array(indices.length);
    const byFile = new Map<number, number[]>();
    indices.forEach((index, k) => {
      const fi = this.fileOf[index];
      if (fi === undefined) out[k] = { ok: false, error: `no record ${index}` };
      else {
        let ks = byFile.get(fi);
        if (!ks) byFile.set(fi, (ks = []));
        ks.push(k);
      }
    });
    // One file at a time, so a page spread over many files parses each once.
    for (const [fi, ks] of byFile) {
      const rows = await this.rowsOf(fi);
      const name = this.files[fi].name;
      for (const k of ks) {
        const pos = this.pos[indices[k]];
        if (rows instanceof Error) out[k] = { ok: false, error: `${name}: ${rows.message}` };
        else if (pos >= rows.length) out[k] = { ok: false, error: `${name}: record ${pos} is missing` };
        else out[k] = { ok: true, value: rows[pos] };
      }
    }
    return out;
  }
}
