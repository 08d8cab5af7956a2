// Between a field's control and the value it writes. The form does not judge a value: what the
// user types is sent as the kind's natural reading (a number when it reads as one), and anything
// else as the text itself, so the language server reports it like it would in the text editor.
import type { FieldState, FormField, FormValue } from '../../src/protocol/webviews/experimentForm';

/** What a text control shows for a value. */
export function displayValue(_field: FormField, state: FieldState | undefined): string {
  const v = state?.value;
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) return v.map((x) => String(x)).join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function readScalar(text: string): string | number | boolean {
  const t = text.trim();
  if (t !== '' && Number.isFinite(Number(t))) return Number(t);
  if (t === 'true' || t === 'false') return t === 'true';
  return t;
}

/** The value a text control's content writes for `field`. */
export function parseInput(field: FormField, text: string): FormValue {
  const t = text.trim();
  if (field.nullable && (t === '' || t === 'null')) return null;
  switch (field.kind) {
    case 'number':
    case 'integer':
      return t !== '' && Number.isFinite(Number(t)) ? Number(t) : t;
    case 'list':
      return t === '' ? [] : t.split(',').map((part) => (field.choices ? part.trim() : readScalar(part)));
    case 'enum': {
      const hit = field.choices?.find((c) => String(c) === t);
      return hit ?? t;
    }
    case 'boolean':
      return t === 'true' ? true : t === 'false' ? false : t;
    default:
      return text;
  }
}

/** "≥ 0", "(0, 1]", "≥ 1" — the schema's range in one glance. */
export function rangeText(field: FormField): string | undefined {
  const lo = field.minimum !== undefined ? `≥ ${field.minimum}` : field.exclusiveMinimum !== undefined ? `> ${field.exclusiveMinimum}` : '';
  const hi = field.maximum !== undefined ? `≤ ${field.maximum}` : field.exclusiveMaximum !== undefined ? `< ${field.exclusiveMaximum}` : '';
  const parts = [lo, hi].filter((p) => p !== '');
  return parts.length ? parts.join(', ') : undefined;
}

export function formatValue(v: FormValue | undefined): string {
  if (v === undefined) return '';
  if (Array.isArray(v)) return `[${v.join(', ')}]`;
  return v === null ? 'null' : String(v);
}
