// What every sample format looks like to the query layer: a growing table of raw records, each known
// by its position (index) and step without being read; a record is read only when asked for.
import type { InspectorRecord } from '../../protocol/webviews/sampleInspector';

/** One raw record as read from its file: the parsed value, or why it could not be read. */
export type RawRow = { ok: true; value: unknown } | { ok: false; error: string };

export interface RawTable {
  /** Records indexed so far (indices 0..size-1 are stable: growth only appends). */
  readonly size: number;
  /** The step of record i, known from the index (the file it is in), or null. */
  stepOf(index: number): number | null;
  /** Where record i is, for messages: `file:line` (JSONL) or `file#k` (one record of a JSON list or table). */
  where(index: number): string;
  /** The raw records at these indices, in the same order. */
  load(indices: readonly number[]): Promise<RawRow[]>;
  /**
   * The indices whose raw text may contain `needle` (lower case, printable ASCII without `"`, `\\` or
   * `/`, which JSON writers may escape): a superset of the records whose fields contain it, found
   * without parsing. Formats that cannot look at raw text leave it out.
   */
  prefilter?(indices: readonly number[], needle: string): Promise<number[]>;
  /** Indexes appended lines and new files; true when records were added. */
  refresh(): Promise<boolean>;
  /** Lines rejected while indexing (never entered in the table), and where the first few were. */
  readonly skipped: { count: number; at: string[] };
  close(): void;
}

/** Where a record came from, for a format's mapping (paths resolve against `baseDir`). */
export interface RowContext {
  step: number | null;
  /** The run folder, else the folder of the file: relative image paths resolve against it. */
  baseDir: string;
}

/** A format's mapping of one raw record into the one model; a string says why it is not a record. */
export type RowMapper = (raw: unknown, ctx: RowContext) => Omit<InspectorRecord, 'index'> | string;

/** How many `where` strings a source keeps (the count goes on; the list is for a first look). */
export const MAX_CORRUPT_AT = 20;

export function noteCorrupt(skipped: { count: number; at: string[] }, where: string): void {
  skipped.count++;
  if (skipped.at.length < MAX_CORRUPT_AT) skipped.at.push(where);
}
