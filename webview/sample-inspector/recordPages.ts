// The records of the current query, by page, as the host returns them. A new query starts a new
// generation: replies to an older one are dropped. A refresh that keeps the position (a live run
// grew) keeps the old pages as a fallback until their replacements arrive, so nothing flickers.
import type { InspectorRecord, QueryParams, QueryResult } from '../../src/protocol/webviews/sampleInspector';

export type QueryKey = Omit<QueryParams, 'offset' | 'limit'>;

export class RecordPages {
  private pages = new Map<number, InspectorRecord[]>();
  private stale = new Map<number, InspectorRecord[]>();
  private readonly inFlight = new Set<number>();
  private generation = 0;
  /** Rows matching the query; null until the host first answered it. */
  matching: number | null = null;

  constructor(
    readonly pageSize: number,
    private readonly fetch: (params: QueryParams) => Promise<QueryResult>,
    private readonly onChange: () => void,
    private readonly onError: (error: Error) => void,
  ) {}

  /** Starts over for a new query; `keep`: show the old records until the new ones arrive. */
  reset(keep: boolean): void {
    this.generation++;
    this.stale = keep ? new Map([...this.stale, ...this.pages]) : new Map();
    if (!keep) this.matching = null;
    this.pages = new Map();
    this.inFlight.clear();
  }

  get(row: number): InspectorRecord | undefined {
    const page = Math.floor(row / this.pageSize);
    const at = row - page * this.pageSize;
    return (this.pages.get(page) ?? this.stale.get(page))?.[at];
  }

  /** Whether row's record is from the current query (not a stale fallback). */
  isFresh(row: number): boolean {
    return this.pages.has(Math.floor(row / this.pageSize));
  }

  /** Every record held for the current query. */
  *loaded(): Iterable<[number, InspectorRecord]> {
    for (const [page, records] of this.pages) for (let i = 0; i < records.length; i++) yield [page * this.pageSize + i, records[i]];
  }

  /** Asks for the pages not yet held or asked for. */
  ensure(pages: number[], query: QueryKey): void {
    for (const page of pages) {
      if (this.pages.has(page) || this.inFlight.has(page)) continue;
      this.inFlight.add(page);
      const generation = this.generation;
      this.fetch({ ...query, offset: page * this.pageSize, limit: this.pageSize }).then(
        (result) => {
          if (generation !== this.generation) return;
          this.inFlight.delete(page);
          this.pages.set(page, result.records);
          this.stale.delete(page);
          if (this.matching !== result.matching) {
            // The list's length changed under us: stale pages past it are wrong now.
            this.matching = result.matching;
            for (const p of this.stale.keys()) if (p * this.pageSize >= result.matching) this.stale.delete(p);
          }
          this.onChange();
        },
        (error: unknown) => {
          if (generation !== this.generation) return;
          this.inFlight.delete(page);
          this.onError(error instanceof Error ? error : new Error(String(error)));
        },
      );
    }
  }
}
