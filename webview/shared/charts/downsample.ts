// Per-pixel-column reduction of a line: for every column that holds points keep the first, the
// lowest, the highest and the last value. Drawing first→min→max→last per column reproduces the
// line's exact envelope, so spikes survive no matter how many points share a pixel, and the cost of
// drawing is bounded by the canvas width instead of the number of points. With a MinMaxPyramid the
// reduction itself also stops depending on the number of points: whole blocks that fall inside one
// column are merged from the index; only blocks that straddle a column edge are opened up.
import type { MinMaxPyramid } from './minMaxPyramid';
import { BRANCH } from './minMaxPyramid';

/** `count` columns of 5 numbers each: x (integer column), first, min, max, last. */
export interface Columns {
  data: Float64Array;
  count: number;
}

export const COLUMN_STRIDE = 5;

/** Accumulates points and pre-reduced blocks, in ascending x, into columns. */
class ColumnWriter {
  data: Float64Array;
  count = 0;
  private col = Number.NaN;
  private first = 0;
  private lo = 0;
  private hi = 0;
  private last = 0;
  private open = false;

  constructor(reuse: Float64Array | undefined) {
    this.data = reuse ?? new Float64Array(64 * COLUMN_STRIDE);
  }

  point(x: number, v: number): void {
    if (v !== v) return;
    if (this.open && x === this.col) {
      if (v < this.lo) this.lo = v;
      if (v > this.hi) this.hi = v;
      this.last = v;
      return;
    }
    this.flush();
    this.col = x;
    this.first = this.lo = this.hi = this.last = v;
    this.open = true;
  }

  block(x: number, first: number, lo: number, hi: number, last: number): void {
    if (this.open && x === this.col) {
      if (lo < this.lo) this.lo = lo;
      if (hi > this.hi) this.hi = hi;
      this.last = last;
      return;
    }
    this.flush();
    this.col = x;
    this.first = first;
    this.lo = lo;
    this.hi = hi;
    this.last = last;
    this.open = true;
  }

  finish(): Columns {
    this.flush();
    return { data: this.data, count: this.count };
  }

  private flush(): void {
    if (!this.open) return;
    let o = this.count * COLUMN_STRIDE;
    if (o + COLUMN_STRIDE > this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    const d = this.data;
    d[o++] = this.col;
    d[o++] = this.first;
    d[o++] = this.lo;
    d[o++] = this.hi;
    d[o] = this.last;
    this.count++;
    this.open = false;
  }
}

/**
 * Reduces points i in [from, to) of (steps, values) into pixel columns: x = floor((step - x0) * scale).
 * NaN values are skipped. `out` buffers are reused when given.
 */
export function downsample(
  steps: Float64Array,
  values: Float64Array,
  from: number,
  to: number,
  x0: number,
  scale: number,
  out?: Columns,
): Columns {
  const w = new ColumnWriter(out?.data);
  for (let i = from; i < to; i++) w.point(Math.floor((steps[i] - x0) * scale), values[i]);
  return w.finish();
}

/**
 * Same result as downsample(), using the pyramid built over `values`: each pixel column's index range
 * is found by binary search, and its extremes by a range query that reads whole blocks wherever
 * they fit (≤ 7 items per level at each end). Falls back to the plain scan when there are few
 * points per pixel.
 */
export function downsampleLod(
  steps: Float64Array,
  values: Float64Array,
  pyramid: MinMaxPyramid,
  from: number,
  to: number,
  x0: number,
  scale: number,
  out?: Columns,
): Columns {
  if (to - from < 2 || pyramid.levels === 0) return downsample(steps, values, from, to, x0, scale, out);
  const spanPx = Math.max(1, (steps[to - 1] - steps[from]) * scale);
  if ((to - from) / spanPx < 2 * BRANCH) return downsample(steps, values, from, to, x0, scale, out);
  const w = new ColumnWriter(out?.data);
  const range = { lo: 0, hi: 0 };
  let a = from;
  while (a < to) {
    const col = Math.floor((steps[a] - x0) * scale);
    // b: first index after a whose column is past col.
    let lo = a + 1;
    let hi = to;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (Math.floor((steps[mid] - x0) * scale) <= col) lo = mid + 1;
      else hi = mid;
    }
    const b = lo;
    rangeExtremes(values, pyramid, a, b, range);
    if (range.lo <= range.hi) {
      let i = a;
      while (values[i] !== values[i]) i++;
      let j = b - 1;
      while (values[j] !== values[j]) j--;
      w.block(col, values[i], range.lo, range.hi, values[j]);
    }
    a = b;
  }
  return w.finish();
}

/** Min and max of values[a..b) (NaN ignored; lo > hi when none): raw items at the ragged ends, blocks in between. */
export function rangeExtremes(values: Float64Array, pyramid: MinMaxPyramid, a: number, b: number, out: { lo: number; hi: number }): void {
  let lo = Infinity;
  let hi = -Infinity;
  let i = a;
  let e = b;
  // Level -1 is the raw values; level k holds blocks of 8^(k+1).
  let mins: Float64Array = values;
  let maxs: Float64Array = values;
  let k = -1;
  for (;;) {
    if (e - i <= 2 * BRANCH || k + 1 >= pyramid.levels) {
      for (let t = i; t < e; t++) {
        if (mins[t] < lo) lo = mins[t];
        if (maxs[t] > hi) hi = maxs[t];
      }
      break;
    }
    // Integer bit operations (BRANCH is 8): `%` and `/` would run as float maths here.
    for (; (i & 7) !== 0; i++) {
      if (mins[i] < lo) lo = mins[i];
      if (maxs[i] > hi) hi = maxs[i];
    }
    for (; (e & 7) !== 0;) {
      e--;
      if (mins[e] < lo) lo = mins[e];
      if (maxs[e] > hi) hi = maxs[e];
    }
    i >>>= 3;
    e >>>= 3;
    k++;
    mins = pyramid.mins[k];
    maxs = pyramid.maxs[k];
  }
  out.lo = lo;
  out.hi = hi;
}
