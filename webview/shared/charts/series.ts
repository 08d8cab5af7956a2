// A growable metric series held in typed arrays: steps ascending, values with NaN for "no value".
// Typed arrays keep a million points per series compact and fast to scan when drawing.

export class Series {
  private stepBuf: Float64Array;
  private valueBuf: Float64Array;
  private n = 0;

  constructor(capacity = 256) {
    this.stepBuf = new Float64Array(capacity);
    this.valueBuf = new Float64Array(capacity);
  }

  get length(): number {
    return this.n;
  }

  /** Views over the filled part; valid until the next append. */
  get steps(): Float64Array {
    return this.stepBuf.subarray(0, this.n);
  }

  get values(): Float64Array {
    return this.valueBuf.subarray(0, this.n);
  }

  lastStep(): number {
    return this.n > 0 ? this.stepBuf[this.n - 1] : Number.NaN;
  }

  lastValue(): number {
    return this.n > 0 ? this.valueBuf[this.n - 1] : Number.NaN;
  }

  /**
   * Appends points (null → NaN). A step at or before the last one held means the run was resumed
   * from an earlier checkpoint: the points from that step on are replaced, as the trainer rewrites them.
   * Returns the index of the first point that changed, so derived data (smoothing) can update from there.
   */
  append(steps: ArrayLike<number>, values: ArrayLike<number | null>): number {
    const count = Math.min(steps.length, values.length);
    if (this.n === 0 && steps instanceof Float64Array && values instanceof Float64Array && count > 0 && this.adopt(steps, values, count))
      return 0;
    let firstChanged = this.n;
    for (let i = 0; i < count; i++) {
      const step = steps[i];
      if (this.n > 0 && step <= this.stepBuf[this.n - 1]) {
        this.n = this.lowerBound(step);
        firstChanged = Math.min(firstChanged, this.n);
      }
      if (this.n === this.stepBuf.length) this.grow(this.n + (count - i));
      const v = values[i];
      this.stepBuf[this.n] = step;
      this.valueBuf[this.n] = v === null || v === undefined ? Number.NaN : v;
      this.n++;
    }
    return firstChanged;
  }

  /**
   * Takes typed columns over as storage when they need no rewriting (steps strictly ascending): a
   * snapshot of a million points becomes a series without a per-point copy. The arrays are the
   * message's own (structured clone made them for this page), so nothing else holds them.
   */
  private adopt(steps: Float64Array, values: Float64Array, count: number): boolean {
    for (let i = 1; i < count; i++) if (!(steps[i] > steps[i - 1])) return false;
    if (steps[0] !== steps[0]) return false;
    this.stepBuf = steps.length === count ? steps : steps.subarray(0, count);
    this.valueBuf = values.length === count ? values : values.subarray(0, count);
    this.n = count;
    return true;
  }

  /** First index whose step is >= step (n when none). */
  lowerBound(step: number): number {
    let lo = 0;
    let hi = this.n;
    const s = this.stepBuf;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (s[mid] < step) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First index whose step is > step (n when none). */
  upperBound(step: number): number {
    let lo = 0;
    let hi = this.n;
    const s = this.stepBuf;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (s[mid] <= step) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the point whose step is nearest to step (-1 when empty). */
  nearestIndex(step: number): number {
    if (this.n === 0) return -1;
    const i = this.lowerBound(step);
    if (i === 0) return 0;
    if (i === this.n) return this.n - 1;
    return step - this.stepBuf[i - 1] <= this.stepBuf[i] - step ? i - 1 : i;
  }

  private grow(minCapacity: number): void {
    let cap = Math.max(16, this.stepBuf.length * 2);
    while (cap < minCapacity) cap *= 2;
    const s = new Float64Array(cap);
    const v = new Float64Array(cap);
    s.set(this.stepBuf.subarray(0, this.n));
    v.set(this.valueBuf.subarray(0, this.n));
    this.stepBuf = s;
    this.valueBuf = v;
  }
}
