// What the queries need of each record once it has been parsed, kept as typed arrays so that
// sorting or filtering every step parses each record once, not once per query: the sort keys
// (NaN = the record lacks it), the caption type, the prompt id, and whether the record is corrupt.
import type { InspectorRecord, SortKey } from '../../protocol/webviews/sampleInspector';

export const UNKNOWN = 0;
export const OK = 1;
export const CORRUPT = 2;

const NO_CAPTION = -1;

export type KeyedSort = Exclude<SortKey, 'index'>;

export class RecordKeys {
  state = new Uint8Array(0);
  private readonly sortKeys: Record<KeyedSort, Float64Array> = {
    total: new Float64Array(0),
    rm: new Float64Array(0),
    halluc: new Float64Array(0),
    length: new Float64Array(0),
  };
  private caption = new Int16Array(0);
  private readonly promptIds: (string | null)[] = [];
  readonly captionTypes = new Set<number>();
  corrupt = 0;

  /** Room for `n` records (a refresh grows the source). */
  grow(n: number): void {
    if (n <= this.state.length) return;
    const cap = Math.max(n, this.state.length * 2, 1024);
    const state = new Uint8Array(cap);
    state.set(this.state);
    this.state = state;
    for (const k of Object.keys(this.sortKeys) as KeyedSort[]) {
      const a = new Float64Array(cap).fill(NaN);
      a.set(this.sortKeys[k]);
      this.sortKeys[k] = a;
    }
    const caption = new Int16Array(cap).fill(NO_CAPTION);
    caption.set(this.caption);
    this.caption = caption;
  }

  set(index: number, r: InspectorRecord): void {
    this.state[index] = OK;
    this.sortKeys.total[index] = r.reward.total ?? NaN;
    this.sortKeys.rm[index] = r.reward.rm ?? NaN;
    // Hallucinated spans; a record nobody judged has no count (sorted last), not 0.
    this.sortKeys.halluc[index] = r.hallucination ? r.hallucination.spans.length : NaN;
    this.sortKeys.length[index] = r.response.length;
    this.caption[index] = r.captionType ?? NO_CAPTION;
    if (r.captionType !== null) this.captionTypes.add(r.captionType);
    this.promptIds[index] = r.promptId;
  }

  /** Marks record `index` corrupt; false when it already was. */
  setCorrupt(index: number): boolean {
    if (this.state[index] === CORRUPT) return false;
    this.state[index] = CORRUPT;
    this.corrupt++;
    return true;
  }

  known(index: number): boolean {
    return this.state[index] !== UNKNOWN;
  }

  sortKey(sort: KeyedSort): Float64Array {
    return this.sortKeys[sort];
  }

  captionOf(index: number): number | null {
    const c = this.caption[index];
    return c === NO_CAPTION ? null : c;
  }

  promptIdOf(index: number): string | null {
    return this.promptIds[index] ?? null;
  }
}
