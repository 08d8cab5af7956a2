// Span segmentation (src/protocol/spans.ts), shared by the inspector view and the CLI: overlaps,
// adjacency, empty and out-of-range spans, a fuzz loop for "never throws, always covers the text",
// and Python code-point offsets against UTF-16 ones, checked against Python's own str indices.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { codePointSpansToUtf16, segmentSpans, utf16SpansToCodePoints } from '../../src/protocol/spans';
import type { Span } from '../../src/protocol/webviews/sampleInspector';
import { venvPython } from '../../src/runs/pythonResolver';

const root = join(__dirname, '..', '..');
const plain = (text: string, segs: ReturnType<typeof segmentSpans>['segments']): string[] =>
  segs.map((s) => `${text.slice(s.start, s.end)}${s.labels.length ? `<${s.labels.join('+')}>` : ''}`);

test('no spans: one plain segment; empty text: no segment', () => {
  assert.deepEqual(segmentSpans('abc', []), { segments: [{ start: 0, end: 3, labels: [] }], ignored: 0 });
  assert.deepEqual(segmentSpans('abc', null), { segments: [{ start: 0, end: 3, labels: [] }], ignored: 0 });
  assert.deepEqual(segmentSpans('', []), { segments: [], ignored: 0 });
});

test('overlapping spans share the overlap with both labels', () => {
  const text = 'a red big cat';
  const { segments, ignored } = segmentSpans(text, [
    [2, 9, 'attribute'],
    [6, 13, 'object'],
  ]);
  assert.equal(ignored, 0);
  assert.deepEqual(plain(text, segments), ['a ', 'red <attribute>', 'big<attribute+object>', ' cat<object>']);
});

test('a span inside another: the inner part carries both labels, the same label once', () => {
  const text = 'abcdefgh';
  const { segments } = segmentSpans(text, [
    [1, 7, 'x'],
    [3, 5, 'x'],
    [3, 5, 'y'],
  ]);
  assert.deepEqual(plain(text, segments), ['a', 'bc<x>', 'de<x+y>', 'fg<x>', 'h']);
});

test('adjacent spans stay separate segments, even with the same label', () => {
  const text = 'redbluegreen';
  const { segments } = segmentSpans(text, [
    [0, 3, 'colour'],
    [3, 7, 'colour'],
  ]);
  assert.deepEqual(
    segments.map((s) => [s.start, s.end, s.labels]),
    [
      [0, 3, ['colour']],
      [3, 7, ['colour']],
      [7, 12, []],
    ],
  );
});

test('empty spans are ignored without being counted; out-of-range, inverted and malformed ones are counted', () => {
  const text = 'hello world';
  const { segments, ignored } = segmentSpans(text, [
    [3, 3, 'empty'],
    [6, 11, 'ok'],
    [5, 20, 'past the end'],
    [-1, 2, 'negative'],
    [8, 4, 'inverted'],
    [1.5, 3, 'fractional'],
    ['1', 3, 'string offset'],
    null,
    [2],
  ]);
  assert.equal(ignored, 7);
  assert.deepEqual(plain(text, segments), ['hello ', 'world<ok>']);
});

test('fuzz: any span list never throws, segments tile the text and carry exactly the covering labels', () => {
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let round = 0; round < 2000; round++) {
    const len = rand(40);
    const text = 'x'.repeat(len);
    const spans: unknown[] = [];
    let invalid = 0;
    for (let k = rand(6); k > 0; k--) {
      const s = rand(len + 8) - 4;
      const e = rand(len + 8) - 4;
      const label = `l${rand(3)}`;
      spans.push([s, e, label]);
      if (s < 0 || e > len || s > e) invalid++;
    }
    if (rand(10) === 0) {
      spans.push({ start: 1 });
      invalid++;
    }
    const { segments, ignored } = segmentSpans(text, spans);
    assert.equal(ignored, invalid, `round ${round}`);
    let at = 0;
    for (const seg of segments) {
      assert.equal(seg.start, at);
      assert.ok(seg.end > seg.start);
      at = seg.end;
      const want = new Set(
        (spans.filter((s) => Array.isArray(s)) as Span[])
          .filter(([s, e]) => s >= 0 && e <= len && s < e && s <= seg.start && e >= seg.end)
          .map((s) => s[2]),
      );
      assert.deepEqual(new Set(seg.labels), want, `round ${round} segment ${seg.start}-${seg.end}`);
    }
    assert.equal(at, len);
  }
});

test("Python code-point offsets convert to UTF-16 after astral characters (checked against Python's str.index)", () => {
  const text = 'I see 🐱🐶 and a red 𝒞at, no blue dog';
  const words = ['red', 'blue', 'dog', 'and'];
  const py = spawnSync(
    venvPython(root),
    [
      '-c',
      'import json,sys; t,ws=json.loads(sys.argv[1]); print(json.dumps([[t.index(w), t.index(w)+len(w), w] for w in ws]))',
      JSON.stringify([text, words]),
    ],
    { encoding: 'utf8' },
  );
  assert.equal(py.status, 0, py.stderr);
  const pythonSpans = JSON.parse(py.stdout) as Span[];
  // The offsets really differ (else the test proves nothing).
  assert.notEqual(pythonSpans[0][0], text.indexOf('red'));
  const converted = codePointSpansToUtf16(text, pythonSpans);
  for (const [s, e, w] of converted) assert.equal(text.slice(s, e), w);
  assert.deepEqual(utf16SpansToCodePoints(text, converted), pythonSpans);
  // Without astral characters nothing changes; past the end stays past the end (and is counted).
  assert.deepEqual(codePointSpansToUtf16('plain text', [[6, 10, 'x']]), [[6, 10, 'x']]);
  const past = codePointSpansToUtf16(text, [[0, 40, 'too far']]);
  assert.equal(segmentSpans(text, past).ignored, 1);
});
