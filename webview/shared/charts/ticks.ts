// Axis ticks at "nice" numbers (1, 2, 5 × 10^k) and compact number formatting for labels.

export function niceTicks(min: number, max: number, maxCount: number): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max) || maxCount < 1) return [];
  if (max <= min) return [min];
  const rough = (max - min) / maxCount;
  const mag = Math.pow(10, Math.floor(Math.log10(rough)));
  const norm = rough / mag;
  const step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
  const ticks: number[] = [];
  const start = Math.ceil(min / step - 1e-9);
  const end = Math.floor(max / step + 1e-9);
  // toPrecision drops float noise (0.6000000000000001); `+ 0` turns -0 into 0.
  for (let k = start; k <= end; k++) ticks.push(Number((k * step).toPrecision(12)) + 0);
  return ticks;
}

/** Nice ticks, at least three of them inside [min, max] when the range allows (a lone tick says
 * nothing about scale): tries finer steps until three fit. */
export function axisTicks(min: number, max: number, maxCount: number): number[] {
  let ticks = niceTicks(min, max, maxCount);
  for (let n = Math.max(maxCount, 2) + 1; ticks.length < 3 && n <= 24 && max > min; n++) ticks = niceTicks(min, max, n);
  return ticks;
}

/** Value label: up to 4 significant digits, scientific for very large or small magnitudes. */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return '–';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-3) return v.toExponential(2).replace('e+', 'e');
  const s = v.toPrecision(4);
  return s.includes('.') && !s.includes('e') ? s.replace(/\.?0+$/, '') : s;
}

/** Step label: integers, with k/M suffixes once they get long. */
export function formatStep(s: number): string {
  const a = Math.abs(s);
  if (a >= 1e6) return `${trim(s / 1e6)}M`;
  if (a >= 1e4) return `${trim(s / 1e3)}k`;
  return Number.isInteger(s) ? String(s) : s.toFixed(1);
}

function trim(v: number): string {
  return v.toFixed(2).replace(/\.?0+$/, '');
}

/** Seconds → "1h 02m", "3m 05s", "42s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(sec).padStart(2, '0')}s`;
  return `${sec}s`;
}
