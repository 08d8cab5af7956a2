// Exponential moving average kept in step with a Series, TensorBoard-style: debiased, so the first
// points are not dragged towards zero, and NaN (missing) values are skipped without breaking it.
import type { Series } from './series';

export class EmaCache {
  private out = new Float64Array(0);
  private n = 0;
  private weight = -1;
  private acc = 0;
  private norm = 0;

  /** Smoothed values for series with weight in [0, 1); recomputes only what changed. */
  values(series: Series, weight: number, firstChanged = 0): Float64Array {
    const w = Math.min(Math.max(weight, 0), 0.999);
    let from = firstChanged < this.n ? 0 : this.n;
    if (w !== this.weight) from = 0;
    if (from === 0) {
      this.acc = 0;
      this.norm = 0;
    }
    this.weight = w;
    const len = series.length;
    if (this.out.length < len) {
      const next = new Float64Array(Math.max(len, this.out.length * 2));
      next.set(this.out.subarray(0, Math.min(this.n, from)));
      this.out = next;
    }
    const src = series.values;
    // Locals, so the loop over millions of points does not reload fields on every iteration.
    const out = this.out;
    const u = 1 - w;
    let acc = this.acc;
    let norm = this.norm;
    for (let i = from; i < len; i++) {
      const v = src[i];
      if (v !== v) {
        out[i] = Number.NaN;
        continue;
      }
      acc = acc * w + u * v;
      norm = norm * w + u;
      out[i] = acc / norm;
    }
    this.acc = acc;
    this.norm = norm;
    this.n = len;
    return this.out.subarray(0, len);
  }
}

/** Plain function form for one-off use (and tests): same maths as EmaCache. */
export function ema(values: ArrayLike<number>, weight: number): Float64Array {
  const w = Math.min(Math.max(weight, 0), 0.999);
  const out = new Float64Array(values.length);
  let acc = 0;
  let norm = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== v) {
      out[i] = Number.NaN;
      continue;
    }
    acc = acc * w + (1 - w) * v;
    norm = norm * w + (1 - w);
    out[i] = acc / norm;
  }
  return out;
}
