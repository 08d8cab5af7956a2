// How `fact-rlhf samples` prints one record (src/cli/samples.ts): missing reward parts as —, spans in
// colour on a terminal and as [[…]] in a pipe, out-of-range spans counted, not drawn; argument errors.
import test from 'node:test';
import assert from 'node:assert/strict';
import { formatRecord, parseSamplesArgs } from '../../src/cli/samples';
import type { InspectorRecord } from '../../src/protocol/webviews/sampleInspector';

const record: InspectorRecord = {
  index: 3,
  step: 12,
  promptId: 'text:0123456789abcdef',
  prompt: 'What is shown?',
  response: 'A red cat on a mat',
  facts: null,
  image: null,
  reward: { rm: 0.25 },
  extra: { accuracy: 1 },
  advantage: null,
  hallucination: {
    spans: [
      [2, 9, 'object'],
      [15, 30, 'past the end'],
    ],
    source: 'human',
  },
  captionType: null,
};

test('a record in a pipe: [[marks]], — for what the source lacks, out-of-range spans noted', () => {
  const text = formatRecord(record, false);
  assert.match(text, /^#3 {2}step 12 {2}prompt text:0123456789abcdef$/m);
  assert.match(text, /reward {4}total — {2}rm 0\.25 {2}eos — {2}length — {2}symbolic — {2}kl — {2}advantage —/);
  assert.match(text, /extra {5}accuracy 1/);
  assert.match(text, /response {2}A \[\[red cat\]\] on a mat/);
  assert.match(text, /\(1 out of range, not marked\)/);
  assert.ok(!text.includes('\x1b['));
});

test('a record on a terminal: the span in bold red', () => {
  assert.match(formatRecord(record, true), /A \x1b\[1;31mred cat\x1b\[0m on a mat/);
  assert.match(formatRecord({ ...record, hallucination: null }, true), /spans {5}— \(not judged\)/);
});

test('arguments: sorts read best first unless --asc; bad values are named', () => {
  const a = parseSamplesArgs(['run', '--sort', 'halluc', '--limit', '5', '--step', '3']);
  assert.deepEqual(a, { path: 'run', sort: 'halluc', descending: true, step: 3, limit: 5, text: '', hallucinatedOnly: false, json: false });
  assert.equal((parseSamplesArgs(['run', '--sort', 'rm', '--asc']) as { descending: boolean }).descending, false);
  assert.match(parseSamplesArgs(['run', '--step', 'x']) as string, /--step needs a whole number ≥ 0 \(got "x"\)/);
  assert.match(parseSamplesArgs(['run', '--bogus']) as string, /unknown option --bogus/);
  assert.match(parseSamplesArgs(['a', 'b']) as string, /unexpected argument b/);
});

test('control characters from a sample file never reach the terminal raw (no escape-sequence injection)', () => {
  const evil = { ...record, prompt: 'look\x1b]0;pwned\x07 here\x9b2J', response: 'A red cat\x1b[2J on a mat' };
  const text = formatRecord(evil, true);
  assert.ok(!/[\x07\x9b]/.test(text), 'BEL and CSI are escaped');
  // The only ESC left is the span colouring's own.
  assert.deepEqual(text.match(/\x1b\[[0-9;]*m/g)?.length, (text.match(/\x1b/g) ?? []).length);
  assert.match(text, /look\\u001b\]0;pwned\\u0007 here\\u009b2J/);
});
