// Human labels of a run's samples (issue #11): the append-only store in <run>/labels/ and its export
// to the rm stage's preference format. Real files in a temporary run folder; the trainer reading the
// export is the protocol tier's round trip (test/protocol/labelsRoundTrip.test.ts).
import test from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { InspectorRecord } from '../../src/protocol/webviews/sampleInspector';
import { LabelError, LabelStore, PREFERENCES_FILE, SPANS_FILE, recordKey } from '../../src/runs/labels/labelStore';

const work = mkdtempSync(join(tmpdir(), 'fact-rlhf-labels-'));
test.after(() => rmSync(work, { recursive: true, force: true }));
let runs = 0;

/** A fresh run folder with one image, as a PPO run lays it out. */
function runDir(): string {
  const dir = join(work, `run-${runs++}`);
  mkdirSync(join(dir, 'world', 'images'), { recursive: true });
  writeFileSync(join(dir, 'world', 'images', 'shapes-00001.png'), 'png');
  return dir;
}

function rec(dir: string, index: number, response: string, extra: Partial<InspectorRecord> = {}): InspectorRecord {
  return {
    index,
    step: 1,
    promptId: 'shapes-00001-0',
    prompt: 'How many red circles are there?',
    response,
    facts: ['There are 2 shapes.'],
    image: join(dir, 'world', 'images', 'shapes-00001.png'),
    reward: { total: -1 },
    extra: {},
    advantage: null,
    hallucination: { spans: [], source: 'shapes-judge' },
    captionType: 1,
    ...extra,
  };
}

/** indexOf over the records the "open source" holds. */
const indexer =
  (...records: InspectorRecord[]) =>
  (key: string): number | undefined =>
    records.find((r) => recordKey(r) === key)?.index;

test('spans: set, overwrite, an empty list (no hallucination) is not "unlabelled", clear', () => {
  const dir = runDir();
  const store = new LabelStore(dir);
  const a = rec(dir, 0, 'There are three red circles.');
  const b = rec(dir, 1, 'There is one red circle.');
  const indexOf = indexer(a, b);
  assert.deepEqual(store.state(indexOf), { spans: {}, pairs: [] });
  store.setSpans(a, [[10, 15, 'count']]);
  store.setSpans(b, []);
  assert.deepEqual(store.state(indexOf).spans, { 0: [[10, 15, 'count']], 1: [] });
  store.setSpans(a, [
    [16, 27, 'object'],
    [0, 5, 'count'],
  ]);
  assert.deepEqual(store.state(indexOf).spans['0'], [
    [0, 5, 'count'],
    [16, 27, 'object'],
  ]);
  store.clearSpans(b);
  assert.deepEqual(store.state(indexOf).spans, {
    0: [
      [0, 5, 'count'],
      [16, 27, 'object'],
    ],
  });
  // A record the open source does not hold (another step file, another run) is left out of the view.
  assert.deepEqual(store.state(indexer(b)).spans, {});
  const lines = readFileSync(join(dir, 'labels', SPANS_FILE), 'utf8')
    .trim()
    .split('\n');
  assert.equal(lines.length, 4, 'one appended line per change');
  assert.equal(JSON.parse(lines[3]).spans, null, 'a clear is a line of its own');
});

test('spans are validated against the response: integers, 0 ≤ start < end ≤ length, a label', () => {
  const dir = runDir();
  const store = new LabelStore(dir);
  const a = rec(dir, 0, 'twelve chars');
  for (const [spans, message] of [
    [[[5, 5, 'x']], /0 ≤ start < end ≤ 12/],
    [[[3, 13, 'x']], /0 ≤ start < end ≤ 12/],
    [[[-1, 2, 'x']], /0 ≤ start < end ≤ 12/],
    [[[1.5, 2, 'x']], /spans\[0\] must be \[integer, integer, string\]/],
    [[[1, 2]], /spans\[0\] must be \[start, end, label\]/],
    [[[1, 2, ' ']], /label must not be empty/],
  ] as const) {
    assert.throws(
      () => store.setSpans(a, spans as never),
      (err: Error) => err instanceof LabelError && message.test(err.message),
    );
  }
  store.setSpans(a, [[0, 12, 'whole']]);
  assert.deepEqual(store.state(indexer(a)).spans['0'], [[0, 12, 'whole']]);
  assert.ok(!existsSync(join(dir, 'labels', PREFERENCES_FILE)), 'nothing else written');
});

test('preferences: set, overwrite in either order, null removes; other prompts and the same record are refused', () => {
  const dir = runDir();
  const store = new LabelStore(dir);
  const a = rec(dir, 0, 'One red circle.');
  const b = rec(dir, 1, 'Three red circles and a dog.', { step: 2 });
  const indexOf = indexer(a, b);
  store.setPreference(a, b, 1);
  assert.deepEqual(store.state(indexOf).pairs, [{ a: 0, b: 1, preferred: 1 }]);
  store.setPreference(b, a, 1); // the same pair, asked the other way round: b is now the better one
  assert.deepEqual(store.state(indexOf).pairs, [{ a: 1, b: 0, preferred: 1 }]);
  store.setPreference(a, b, null);
  assert.deepEqual(store.state(indexOf).pairs, []);

  const otherId = rec(dir, 2, 'Two.', { promptId: 'shapes-00001-1' });
  assert.throws(
    () => store.setPreference(a, otherId, 2),
    /records 0 and 2 answer different prompts \(shapes-00001-0: .* vs shapes-00001-1: /,
  );
  const otherText = rec(dir, 3, 'Two.', { prompt: 'How many blue squares are there?' });
  assert.throws(() => store.setPreference(a, otherText, 1), /answer different prompts/);
  // Same step, prompt and response: one sample for labelling, whatever index it has.
  const twin = rec(dir, 4, a.response);
  assert.throws(() => store.setPreference(a, twin, 1), /two different responses: records 0 and 4 are the same sample/);
  const noImage = rec(dir, 5, 'Two.', { image: null });
  assert.throws(() => store.setPreference(a, noImage, 1), /record 5 has no image/);
  assert.throws(() => store.setPreference(a, b, 3 as never), /preferred must be 1, 2 or null/);
  assert.equal(
    readFileSync(join(dir, 'labels', PREFERENCES_FILE), 'utf8')
      .trim()
      .split('\n').length,
    3,
    'refusals write nothing',
  );
});

test('a torn last line is waited for, corrupt lines are skipped and counted, the next label is not swallowed', () => {
  const dir = runDir();
  const first = new LabelStore(dir);
  const a = rec(dir, 0, 'One red circle.');
  const b = rec(dir, 1, 'Two red circles.');
  first.setSpans(a, [[0, 3, 'count']]);
  const file = join(dir, 'labels', SPANS_FILE);
  const good = readFileSync(file, 'utf8');
  appendFileSync(file, '{"v":1,"t":1,"key":\n'); // not JSON
  appendFileSync(file, `${JSON.stringify({ v: 1, t: 1, key: 'k', record: {}, spans: [] })}\n`); // a field missing
  const outOfRange = { ...JSON.parse(good), spans: [[0, 999, 'count']] };
  appendFileSync(file, `${JSON.stringify(outOfRange)}\n`); // well-formed, but past the response's end
  appendFileSync(file, good.slice(0, 25)); // a crash mid-line

  const reopened = new LabelStore(dir);
  assert.deepEqual(reopened.state(indexer(a, b)).spans, { 0: [[0, 3, 'count']] });
  assert.equal(reopened.corrupt.count, 3, reopened.corrupt.at.join('\n'));
  assert.match(reopened.corrupt.at[0], /spans\.jsonl:2: not valid JSON/);
  assert.match(reopened.corrupt.at[1], /spans\.jsonl:3: line\.record\.key must be a string/);
  assert.match(reopened.corrupt.at[2], /spans\.jsonl:4: line\.spans\[0\]: \[0, 999\) must satisfy 0 ≤ start < end ≤ 15/);

  // A preference line the export could not write (no prompt) is corrupt too, in the other file.
  reopened.setPreference(a, b, 1);
  const prefs = join(dir, 'labels', PREFERENCES_FILE);
  const pref = JSON.parse(readFileSync(prefs, 'utf8'));
  appendFileSync(prefs, `${JSON.stringify({ ...pref, a: { ...pref.a, prompt: null } })}\n`);
  const withPrefs = new LabelStore(dir);
  assert.equal(withPrefs.corrupt.count, 4);
  assert.match(withPrefs.corrupt.at[3], /preferences\.jsonl:2: line\.a must have a prompt and an image/);
  assert.deepEqual(withPrefs.state(indexer(a, b)).pairs, [{ a: 0, b: 1, preferred: 1 }], 'the good line stands');

  reopened.setSpans(b, []);
  const again = new LabelStore(dir);
  assert.deepEqual(again.state(indexer(a, b)).spans, { 0: [[0, 3, 'count']], 1: [] });
  assert.equal(again.corrupt.count, 5, 'the torn piece is now a corrupt line of its own');
});

test('reopening keeps every label; two windows on one run see each other', () => {
  const dir = runDir();
  const a = rec(dir, 0, 'One red circle.');
  const b = rec(dir, 1, 'Two red circles.');
  const c = rec(dir, 2, 'A red circle on a beach.');
  const one = new LabelStore(dir);
  const two = new LabelStore(dir);
  one.setSpans(a, [[0, 3, 'count']]);
  two.setPreference(b, c, 2);
  two.setSpans(a, [[4, 7, 'attribute']]); // the later line wins
  const indexOf = indexer(a, b, c);
  assert.deepEqual(one.state(indexOf), { spans: { 0: [[4, 7, 'attribute']] }, pairs: [{ a: 1, b: 2, preferred: 2 }] });
  assert.deepEqual(new LabelStore(dir).state(indexOf), one.state(indexOf));
  assert.equal(new LabelStore(dir).corrupt.count, 0);
});

test('export: LLaVA-RLHF preference pairs, facts by pair id, spans in the judge format', () => {
  const dir = runDir();
  const store = new LabelStore(dir);
  assert.deepEqual(store.exportPreferences(), { path: null, pairs: 0, factsPath: null, spansPath: null, spanLabels: 0, imageFolder: dir });
  assert.ok(!existsSync(join(dir, 'labels', 'preferences.json')), 'no empty list the loader would refuse');

  const a = rec(dir, 0, 'One red circle.');
  const b = rec(dir, 1, 'Three red circles.', { step: 3, hallucination: { spans: [[0, 5, 'count']], source: 'shapes-judge' } });
  const mc = rec(dir, 2, 'B', { promptId: 'mc-1', prompt: 'How many?\nA. 1\nB. 2', captionType: 3, facts: ['There are 2 shapes.'] });
  const mc2 = rec(dir, 3, 'C', { promptId: 'mc-1', prompt: 'How many?\nA. 1\nB. 2', captionType: 3, facts: ['There are 2 shapes.'] });
  store.setPreference(a, b, 1);
  store.setPreference(mc, mc2, 2);
  store.setSpans(mc2, []);
  store.setSpans(a, [[0, 3, 'count']]);
  const result = store.exportPreferences();
  assert.equal(result.path, join(dir, 'labels', 'preferences.json'));
  assert.equal(result.factsPath, join(dir, 'labels', 'facts.json'));
  assert.equal(result.spansPath, join(dir, 'labels', 'spans.json'));
  assert.equal(result.pairs, 2);
  assert.equal(result.spanLabels, 2);

  const pairs = JSON.parse(readFileSync(result.path!, 'utf8'));
  assert.equal(pairs.length, 2);
  assert.deepEqual(
    Object.keys(pairs[0]).sort(),
    ['conversations', 'hallucination', 'id', 'image', 'label_keys', 'output_1', 'output_2', 'preference', 'source', 'caption_type'].sort(),
  );
  assert.match(pairs[0].id, /^human-[0-9a-f]{12}$/);
  assert.equal(pairs[0].image, 'world/images/shapes-00001.png', 'relative to the run folder (data.image_folder)');
  assert.deepEqual(pairs[0].conversations, [{ from: 'human', value: '<image>\nHow many red circles are there?' }]);
  assert.deepEqual(pairs[0].output_1, { value: 'One red circle.' });
  assert.deepEqual(pairs[0].output_2, { value: 'Three red circles.' });
  assert.equal(pairs[0].preference, 1);
  assert.equal(pairs[0].hallucination, true, 'the human marked a span in output 1 (and the judge one in output 2)');
  assert.equal(pairs[1].caption_type, 3);
  assert.equal(pairs[1].preference, 2);
  assert.equal(pairs[1].hallucination, false, 'the judge found nothing and the human said so for output 2');
  assert.notEqual(pairs[0].id, pairs[1].id);

  const facts = JSON.parse(readFileSync(result.factsPath!, 'utf8'));
  assert.deepEqual(facts, { [pairs[0].id]: ['There are 2 shapes.'], [pairs[1].id]: ['There are 2 shapes.'] });

  const spans = JSON.parse(readFileSync(result.spansPath!, 'utf8'));
  assert.deepEqual(
    spans.map((s: { prompt_id: string; step: number; response: string; spans: unknown; source: string; key: string }) => [
      s.key,
      s.step,
      s.prompt_id,
      s.response,
      s.spans,
      s.source,
    ]),
    [
      [recordKey(mc2), 1, 'mc-1', 'C', [], 'human'],
      [recordKey(a), 1, 'shapes-00001-0', 'One red circle.', [[0, 3, 'count']], 'human'],
    ],
  );

  // --out elsewhere: the side files go beside it, named after it (a facts.json of the user's own there
  // stays as it was); removed pairs are not exported.
  store.setPreference(mc, mc2, null);
  mkdirSync(join(work, 'elsewhere'), { recursive: true });
  writeFileSync(join(work, 'elsewhere', 'facts.json'), '{"mine": ["keep me"]}');
  const other = store.exportPreferences(join(work, 'elsewhere', 'round2.json'));
  assert.equal(other.pairs, 1);
  assert.equal(other.factsPath, join(work, 'elsewhere', 'round2.facts.json'));
  assert.equal(JSON.parse(readFileSync(other.path!, 'utf8')).length, 1);
  assert.equal(readFileSync(join(work, 'elsewhere', 'facts.json'), 'utf8'), '{"mine": ["keep me"]}');
  // A folder is refused with the reason, and nothing is left behind.
  assert.throws(() => store.exportPreferences(join(work, 'elsewhere')), /is a folder/);
  // Every pair removed: the earlier export in labels/ goes too, instead of contradicting "no pair".
  store.setPreference(a, b, null);
  const none = store.exportPreferences();
  assert.equal(none.path, null);
  assert.ok(!existsSync(join(dir, 'labels', 'preferences.json')));
});

test('export: human spans go out in code points, as the Python judge counts, when the response has astral characters', () => {
  const dir = runDir();
  const store = new LabelStore(dir);
  // "🙂" is two UTF-16 code units and one code point: "cat" is [3, 6) in the view, [2, 5) in Python.
  const r = rec(dir, 0, '🙂 cat on a mat');
  store.setSpans(r, [[3, 6, 'object']]);
  const out = store.exportPreferences();
  assert.ok(out.spansPath);
  const [exported] = JSON.parse(readFileSync(out.spansPath, 'utf8')) as { spans: [number, number, string][]; response: string }[];
  assert.deepEqual(exported.spans, [[2, 5, 'object']]);
  assert.equal([...exported.response].slice(2, 5).join(''), 'cat');
});

test('export: a prompt that already carries the <image> token keeps its one token', () => {
  const dir = runDir();
  const store = new LabelStore(dir);
  const prompt = '<image>\nWhat is in the picture?';
  store.setPreference(rec(dir, 0, 'a cat', { prompt }), rec(dir, 1, 'a dog', { prompt }), 1);
  const out = store.exportPreferences();
  assert.ok(out.path);
  const [pair] = JSON.parse(readFileSync(out.path, 'utf8')) as { conversations: { value: string }[] }[];
  assert.equal(pair.conversations[0].value, prompt);
});
