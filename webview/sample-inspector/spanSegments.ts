// TEMPORARY span splitter, until src/protocol/spans.ts (segmentSpans) lands on main: the same
// signature, so swapping it is an import change. Splits a response into runs of characters covered
// by the same set of spans; spans out of range or empty are counted as ignored.
import type { Span } from '../../src/protocol/webviews/sampleInspector';

export interface Segment {
  start: number;
  end: number;
  labels: string[];
}

export function segmentSpans(text: string, spans: Span[]): { segments: Segment[]; ignored: number } {
  let ignored = 0;
  const valid: Span[] = [];
  for (const s of spans) {
    if (s[0] < 0 || s[1] > text.length || s[0] >= s[1]) ignored++;
    else valid.push(s);
  }
  const cuts = new Set<number>([0, text.length]);
  for (const [a, b] of valid) cuts.add(a).add(b);
  const points = [...cuts].sort((x, y) => x - y);
  const segments: Segment[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const start = points[i];
    const end = points[i + 1];
    const labels = valid.filter(([a, b]) => a <= start && b >= end).map((s) => s[2]);
    segments.push({ start, end, labels });
  }
  return { segments, ignored };
}
