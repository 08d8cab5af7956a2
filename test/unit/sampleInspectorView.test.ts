// The sample inspector's view logic that needs no DOM: which rows a virtual list holds and which
// pages it asks for, the page store (stale replies dropped, old rows kept while a live refresh
// loads), the reward bar's extent and the "—" for a missing number.
import test from 'node:test';
import assert from 'node:assert/strict';
import type { InspectorRecord, QueryParams, QueryResult } from '../../src/protocol/webviews/sampleInspector';
import { MAX_PAGE } from '../../src/protocol/webviews/sampleInspector';
import { pagesFor, rowRange, scrollToShow } from '../../webview/sample-inspector/virtualWindow';
import { RecordPages } from '../../webview/sample-inspector/recordPages';
import { barExtent } from '../../webview/sample-inspector/rewardParts';
import { formatNumber, MISSING } from '../../webview/sample-inspector/format';

test('rowRange: the rows in the viewport plus overscan, clamped to the list', () => {
  assert.deepEqual(rowRange(0, 760, 300, 250, 2), { first: 0, end: 5, firstVisible: 0 });
  assert.deepEqual(rowRange(3000, 760, 300, 250, 2), { first: 8, end: 15, firstVisible: 10 });
  assert.deepEqual(rowRange(1e9, 760, 300, 250, 2), { first: 247, end: 250, firstVisible: 249 });
  assert.deepEqual(rowRange(0, 760, 300, 0, 2), { first: 0, end: 0, firstVisible: 0 });
  // 100,000 rows: still only a screenful.
  const r = rowRange(300 * 50_000, 760, 300, 100_000, 2);
  assert.ok(r.end - r.first <= 8, JSON.stringify(r));
});

test('pagesFor: the pages covering a row range', () => {
  assert.deepEqual(pagesFor(0, 5, 24), [0]);
  assert.deepEqual(pagesFor(20, 30, 24), [0, 1]);
  assert.deepEqual(pagesFor(48, 49, 24), [2]);
  assert.deepEqual(pagesFor(0, 0, 24), []);
});

test('scrollToShow: scrolls only as far as needed to show the row', () => {
  assert.equal(scrollToShow(0, 0, 760, 300), 0);
  assert.equal(scrollToShow(2, 0, 760, 300), 140);
  assert.equal(scrollToShow(1, 600, 760, 300), 300);
  assert.equal(scrollToShow(3, 600, 760, 300), 600);
});

const record = (index: number): InspectorRecord => ({
  index,
  step: 1,
  promptId: `p${index}`,
  prompt: 'q',
  response: 'r',
  facts: null,
  image: null,
  reward: {},
  extra: {},
  advantage: null,
  hallucination: null,
  captionType: null,
});

test('RecordPages: asks once per page, within MAX_PAGE, drops replies to an older query', async () => {
  const asked: QueryParams[] = [];
  const replies: ((r: QueryResult) => void)[] = [];
  let changes = 0;
  const pages = new RecordPages(
    24,
    (p) => {
      asked.push(p);
      return new Promise((ok) => replies.push(ok));
    },
    () => changes++,
    (e) => assert.fail(e),
  );
  const q = { step: 1, sort: 'index' as const, descending: false, filter: { captionType: null, hallucinatedOnly: false, text: '' } };
  pages.ensure([0, 1], q);
  pages.ensure([0, 1], q);
  assert.deepEqual(
    asked.map((p) => [p.offset, p.limit]),
    [
      [0, 24],
      [24, 24],
    ],
  );
  assert.ok(asked.every((p) => p.limit <= MAX_PAGE));
  replies[0]({ matching: 30, offset: 0, records: Array.from({ length: 24 }, (_, i) => record(i)) });
  await Promise.resolve();
  assert.equal(pages.matching, 30);
  assert.equal(pages.get(5)?.index, 5);
  assert.equal(changes, 1);

  // A live refresh keeps showing row 5 until the new page arrives; page 1's old reply is ignored.
  pages.reset(true);
  replies[1]({ matching: 30, offset: 24, records: [record(99)] });
  await Promise.resolve();
  assert.equal(pages.get(24), undefined, 'the reply to the older query was dropped');
  assert.equal(pages.get(5)?.index, 5, 'stale row kept as a fallback');
  assert.equal(pages.isFresh(5), false);
  pages.ensure([0], q);
  replies[2]({ matching: 31, offset: 0, records: Array.from({ length: 24 }, (_, i) => record(100 + i)) });
  await Promise.resolve();
  assert.equal(pages.get(5)?.index, 105);
  assert.equal(pages.isFresh(5), true);
  assert.equal(pages.matching, 31);

  // A new query (not a refresh) forgets everything.
  pages.reset(false);
  assert.equal(pages.matching, null);
  assert.equal(pages.get(5), undefined);
});

test('barExtent: the larger of the positive and negative stacks; a missing part adds nothing', () => {
  assert.equal(barExtent({ rm: 0.5, eos_penalty: -8, length: -2, symbolic: 2, kl: -0.1, total: -7.6 }), 10.1);
  assert.equal(barExtent({ rm: 1.5 }), 1.5);
  assert.equal(barExtent({}), 0);
});

test('formatNumber: a missing or non-finite number is "—", never 0', () => {
  assert.equal(formatNumber(undefined), MISSING);
  assert.equal(formatNumber(null), MISSING);
  assert.equal(formatNumber(Number.NaN), MISSING);
  assert.equal(formatNumber(0), '0');
  assert.equal(formatNumber(-8), '-8');
  assert.equal(formatNumber(0.12345), '0.123');
  assert.equal(formatNumber(1e-5), '1.00e-5');
});
