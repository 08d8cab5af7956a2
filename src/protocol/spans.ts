// Hallucination spans as text segments, shared by the sample inspector's view and `fact-rlhf samples`.
// Offsets are UTF-16 code units (JavaScript string indices), as the contract's `Span` says. The
// trainer's judge is Python, whose `str` indices count code points: the two differ only after an
// astral character (an emoji, say, is 1 code point but 2 UTF-16 units), so readers of the trainer's
// files convert with `codePointSpansToUtf16` (and writers back with `utf16SpansToCodePoints`).
import type { Span } from './webviews/sampleInspector';

export interface TextSegment {
  /** [start, end) in UTF-16 code units. */
  start: number;
  end: number;
  /** Labels of every span covering this segment (deduplicated, in span order); [] for plain text. */
  labels: string[];
}

export interface Segmentation {
  segments: TextSegment[];
  /** Spans that could not be placed: out of range, inverted or not [integer, integer, string]. */
  ignored: number;
}

function isPlaceable(s: unknown, length: number): s is Span | 'empty' {
  if (!Array.isArray(s) || s.length < 2) return false;
  const [start, end] = s as unknown[];
  if (!Number.isInteger(start) || !Number.isInteger(end)) return false;
  return (start as number) >= 0 && (end as number) <= length && (start as number) <= (end as number);
}

/**
 * Splits `text` into plain and marked segments that cover it end to end. Overlapping spans share the
 * overlap (its labels are both spans' labels); adjacent spans stay separate segments; an empty span
 * (start = end) marks nothing and is not counted; a span out of range, inverted or malformed is
 * ignored and counted in `ignored`. Never throws.
 */
export function segmentSpans(text: string, spans: readonly unknown[] | null | undefined): Segmentation {
  const length = typeof text === 'string' ? text.length : 0;
  const placed: Span[] = [];
  let ignored = 0;
  for (const s of Array.isArray(spans) ? spans : []) {
    if (!isPlaceable(s, length)) {
      ignored++;
      continue;
    }
    const [start, end, label] = s as unknown[] as [number, number, unknown];
    if (start === end) continue;
    placed.push([start, end, typeof label === 'string' ? label : String(label ?? '')]);
  }
  // Every span edge is a segment boundary: that keeps adjacent spans apart and cuts overlaps out.
  const cuts = new Set<number>([0, length]);
  for (const [start, end] of placed) cuts.add(start).add(end);
  const bounds = [...cuts].sort((a, b) => a - b);
  const segments: TextSegment[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const start = bounds[i];
    const end = bounds[i + 1];
    const labels: string[] = [];
    for (const [s, e, label] of placed) if (s <= start && e >= end && !labels.includes(label)) labels.push(label);
    const last = segments[segments.length - 1];
    // Plain text between two cuts that no span covers is one segment, not several.
    if (!labels.length && last && !last.labels.length) last.end = end;
    else segments.push({ start, end, labels });
  }
  return { segments, ignored };
}

const hasSurrogates = (text: string): boolean => /[\uD800-\uDFFF]/.test(text);

/** UTF-16 offset of each code-point offset 0..n (n = code points of `text`). */
function utf16Offsets(text: string): number[] {
  const offsets = [0];
  for (const ch of text) offsets.push(offsets[offsets.length - 1] + ch.length);
  return offsets;
}

function remap(spans: readonly Span[], map: (x: number) => number): Span[] {
  return spans.map((s) => {
    if (!Array.isArray(s) || !Number.isInteger(s[0]) || !Number.isInteger(s[1])) return s;
    return [map(s[0]), map(s[1]), s[2]] as Span;
  });
}

/**
 * Spans in Python `str` (code point) offsets → UTF-16 offsets of the same `text`. Unchanged when the
 * text has no astral characters (the usual case). An offset past the end stays past the end (by the
 * same amount), so `segmentSpans` still counts it as out of range.
 */
export function codePointSpansToUtf16(text: string, spans: readonly Span[]): Span[] {
  if (!hasSurrogates(text)) return spans.slice();
  const offsets = utf16Offsets(text);
  const n = offsets.length - 1;
  return remap(spans, (x) => (x < 0 ? x : x <= n ? offsets[x] : text.length + (x - n)));
}

/** The inverse of `codePointSpansToUtf16`, for labels written back to files Python reads. An offset
 * inside a surrogate pair rounds down to the pair's code point. */
export function utf16SpansToCodePoints(text: string, spans: readonly Span[]): Span[] {
  if (!hasSurrogates(text)) return spans.slice();
  const offsets = utf16Offsets(text);
  const n = offsets.length - 1;
  return remap(spans, (x) => {
    if (x < 0) return x;
    if (x > text.length) return n + (x - text.length);
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (offsets[mid] <= x) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  });
}
