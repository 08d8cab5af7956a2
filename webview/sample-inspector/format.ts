// Numbers as the inspector shows them: a part a source lacks is "—", never 0.

export const MISSING = '—';

export function formatNumber(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return MISSING;
  const abs = Math.abs(value);
  if (abs !== 0 && (abs >= 1e5 || abs < 1e-3)) return value.toExponential(2);
  return value.toFixed(digits).replace(/\.?0+$/, '') || '0';
}

export function signed(value: number | null | undefined): string {
  const text = formatNumber(value);
  return value !== null && value !== undefined && value > 0 ? `+${text}` : text;
}
