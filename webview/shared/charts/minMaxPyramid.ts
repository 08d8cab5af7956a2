// Level-of-detail index for one value array: min and max over blocks of 8, 64, 512, ... points.
// With it, reducing a million points to pixel columns visits a few blocks per column instead of
// every point, so a fully zoomed-out chart redraws in well under a millisecond per line. Updates
// are incremental: appending points recomputes only the last block of each level.

/** Children per block. downsample.ts relies on it being 8 (it uses `& 7` and `>>> 3`). */
export const BRANCH = 8;

export class MinMaxPyramid {
  /** mins[k][j] / maxs[k][j]: extremes of points [j·8^(k+1), (j+1)·8^(k+1)). NaN points are ignored. */
  readonly mins: Float64Array[] = [];
  readonly maxs: Float64Array[] = [];
  /** Number of valid blocks per level. */
  readonly lengths: number[] = [];
  private built = 0;

  /** Brings the index up to date with `values`, where values[changedFrom..] may differ from before. */
  update(values: Float64Array, changedFrom: number): void {
    const n = values.length;
    let from = Math.max(0, Math.min(this.built, changedFrom, n));
    let srcMin = values;
    let srcMax = values;
    let srcLen = n;
    let k = 0;
    while (srcLen > 1) {
      const len = Math.ceil(srcLen / BRANCH);
      if (!this.mins[k] || this.mins[k].length < len) this.growLevel(k, len);
      const mins = this.mins[k];
      const maxs = this.maxs[k];
      const j0 = Math.floor(from / BRANCH);
      if (srcMin === srcMax) {
        // The first level reads the values themselves: one load per point (NaN fails both tests).
        for (let j = j0; j < len; j++) {
          let lo = Infinity;
          let hi = -Infinity;
          const end = Math.min((j + 1) * BRANCH, srcLen);
          for (let t = j * BRANCH; t < end; t++) {
            const a = srcMin[t];
            if (a < lo) lo = a;
            if (a > hi) hi = a;
          }
          mins[j] = lo;
          maxs[j] = hi;
        }
      } else {
        for (let j = j0; j < len; j++) {
          let lo = Infinity;
          let hi = -Infinity;
          const end = Math.min((j + 1) * BRANCH, srcLen);
          for (let t = j * BRANCH; t < end; t++) {
            const a = srcMin[t];
            const b = srcMax[t];
            if (a < lo) lo = a;
            if (b > hi) hi = b;
          }
          mins[j] = lo;
          maxs[j] = hi;
        }
      }
      this.lengths[k] = len;
      from = j0;
      srcMin = mins;
      srcMax = maxs;
      srcLen = len;
      k++;
    }
    this.lengths.length = k;
    this.built = n;
  }

  get levels(): number {
    return this.lengths.length;
  }

  private growLevel(k: number, len: number): void {
    const cap = Math.max(len, 16, (this.mins[k]?.length ?? 0) * 2);
    const mins = new Float64Array(cap);
    const maxs = new Float64Array(cap);
    if (this.mins[k]) {
      mins.set(this.mins[k]);
      maxs.set(this.maxs[k]);
    }
    this.mins[k] = mins;
    this.maxs[k] = maxs;
  }
}
