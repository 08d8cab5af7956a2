// Score Response's VS Code-free parts: the sample record under the selection (real files in a run
// folder), the response a selection stands for inside JSON, typed facts, the messages shown, the
// reward models offered, and the one-scorer-per-model pool.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { joinFacts, sampleRecordAt, selectedResponse, splitFacts } from '../../src/scoring/responseInput';
import { ScoringError } from '../../src/scoring/modelSpec';
import { RewardScorer } from '../../src/scoring/rewardScorer';
import { ScorerPool } from '../../src/scoring/scorerPool';
import type { RunInfo } from '../../src/runs/runCatalog';
import {
  digitsFor,
  explainScoringFailure,
  inlineNote,
  rewardModelRuns,
  scoreDetails,
  scoreMessage,
  type ScoreResponseResult,
} from '../../src/viewModels/scoreSummary';

const work = mkdtempSync(join(tmpdir(), 'fact-rlhf-score-response-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

const record = {
  step: 3,
  prompt_id: 'img-7/q1',
  image: 'world/images/img-7.png',
  prompt: 'What colour is the circle?',
  response: 'The circle is "red".\nIt sits left.',
  facts: ['A red circle.', 'A blue square.'],
};

function runWithSamples(lines: string[]): string {
  const run = mkdtempSync(join(work, 'run-'));
  writeFileSync(join(run, 'run.json'), '{}');
  mkdirSync(join(run, 'samples'));
  const file = join(run, 'samples', 'step-3.jsonl');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

test('a selection on a samples/*.jsonl record line takes prompt, facts and image (relative to the run folder) from it', () => {
  const line = JSON.stringify(record);
  const file = runWithSamples(['', line]);
  const run = join(file, '..', '..');
  const r = sampleRecordAt(file, line, 2);
  assert.ok(r);
  assert.equal(r.prompt, record.prompt);
  assert.deepEqual(r.facts, record.facts);
  assert.equal(r.image, join(run, 'world/images/img-7.png'));
  assert.equal(r.prompt_id, 'img-7/q1');
  assert.equal(r.step, 3);
  assert.equal(sampleRecordAt(file, '', 1), undefined, 'a blank line is no record');
  // The same text anywhere else is just text: no record, so the command asks.
  const elsewhere = join(work, 'notes.jsonl');
  assert.equal(sampleRecordAt(elsewhere, line, 1), undefined);
  assert.equal(sampleRecordAt(join(run, 'samples', 'step-3.json'), line, 1), undefined);
});

test('a malformed record line is an error naming file, line and field', () => {
  const file = runWithSamples(['{}']);
  const bad = JSON.stringify({ ...record, facts: 'A red circle.' });
  assert.throws(
    () => sampleRecordAt(file, bad, 4),
    (err: unknown) => err instanceof ScoringError && err.message === `${file}:4: \`facts\` must be a list of strings` && err.file === file,
  );
  assert.throws(
    () => sampleRecordAt(file, '{"prompt": "torn', 9),
    (err: unknown) => err instanceof ScoringError && err.message.startsWith(`${file}:9: not JSON`),
  );
  const noImage = JSON.stringify({ ...record, image: '' });
  assert.throws(() => sampleRecordAt(file, noImage, 1), /:1: the record has no image \(the reward model needs one\)/);
});

test('inside a record, the selection is unescaped JSON; an empty selection is the record’s response', () => {
  const line = JSON.stringify(record);
  const file = runWithSamples([line]);
  const r = sampleRecordAt(file, line, 1);
  assert.ok(r);
  assert.equal(selectedResponse('', r), record.response);
  // What the user sees selected in the JSON source of the response value:
  const source = JSON.stringify(record.response).slice(1, -1);
  assert.equal(source, 'The circle is \\"red\\".\\nIt sits left.');
  assert.equal(selectedResponse(source, r), record.response);
  assert.equal(selectedResponse(JSON.stringify(record.response), r), record.response, 'the quoted string');
  assert.equal(selectedResponse('is \\q odd', r), 'is \\q odd', 'not a JSON string body: taken as it is');
  // Outside a record nothing is decoded.
  assert.equal(selectedResponse(source), source);
});

test('typed facts: ";"-separated or one per line, blanks dropped; remembered as "; "-joined', () => {
  assert.deepEqual(splitFacts(' A red circle. ;A blue square.;; \n A green triangle.\n'), [
    'A red circle.',
    'A blue square.',
    'A green triangle.',
  ]);
  assert.deepEqual(splitFacts('  '), []);
  assert.equal(joinFacts(['A.', 'B.']), 'A.; B.');
  assert.deepEqual(splitFacts(joinFacts(['A.', 'B.'])), ['A.', 'B.']);
});

test('the notification shows both rewards and their signed difference, never a non-zero difference as 0', () => {
  const facts = ['A red circle.'];
  assert.equal(
    scoreMessage({ withFacts: 1.2344, withoutFacts: 0.4561, difference: 1.2344 - 0.4561, facts }),
    'Fact-RLHF: reward 1.234 with facts, 0.456 without (Δ +0.778)',
  );
  assert.equal(
    scoreMessage({ withFacts: -0.5, withoutFacts: 0.25, difference: -0.75, facts }),
    'Fact-RLHF: reward -0.500 with facts, 0.250 without (Δ -0.750)',
  );
  assert.equal(digitsFor(0.0004), 5);
  assert.equal(digitsFor(0.05), 3);
  assert.equal(digitsFor(0), 3);
  assert.equal(digitsFor(1e-12), 6);
  const small = scoreMessage({ withFacts: 0.12345, withoutFacts: 0.12305, difference: 0.0004, facts });
  assert.equal(small, 'Fact-RLHF: reward 0.12345 with facts, 0.12305 without (Δ +0.00040)');
  assert.match(
    scoreMessage({ withFacts: 0.1, withoutFacts: 0.1, difference: 0, facts: [] }),
    /no facts were given, so both inputs are the same$/,
  );
  assert.equal(
    inlineNote({ withFacts: 2, withoutFacts: 1.5, difference: 0.5, facts }),
    'reward 2.000 with facts · 1.500 without · Δ +0.500',
  );
});

test('Details lists every input and the unrounded numbers', () => {
  const r: ScoreResponseResult = {
    prompt: 'Q?',
    response: 'A "quoted" answer',
    facts: ['Fact one.', 'Fact two.'],
    image: '/runs/rm/world/images/a.png',
    source: 'sample',
    sample: { file: '/runs/rm/samples/step-0.jsonl', line: 5, promptId: 'p-1', step: 0 },
    model: '/runs/rm',
    exportDir: '/runs/rm/onnx',
    provider: 'cpu',
    withFacts: 0.123456789,
    withoutFacts: -0.5,
    difference: 0.623456789,
    message: '',
  };
  const text = scoreDetails(r).join('\n');
  for (const part of [
    '/runs/rm (export /runs/rm/onnx), onnxruntime-node CPU',
    'sample record /runs/rm/samples/step-0.jsonl:5 (prompt_id p-1, step 0)',
    'prompt: "Q?"',
    'response: "A \\"quoted\\" answer"',
    'facts (2):',
    '    - Fact two.',
    'image: /runs/rm/world/images/a.png',
    'reward with facts:    0.123456789',
    'reward without facts: -0.5',
    'difference:           0.623456789',
  ])
    assert.ok(text.includes(part), `missing ${part} in\n${text}`);
  assert.match(
    scoreDetails({ ...r, source: 'input', sample: undefined, facts: [] }).join('\n'),
    /inputs: typed in[\s\S]*facts \(0\): none/,
  );
});

test('a scorer failure keeps its own message; missing native modules say how to get them', () => {
  assert.equal(
    explainScoringFailure(new ScoringError('/m/rm.json not found: /m is not a reward-model export')),
    '/m/rm.json not found: /m is not a reward-model export',
  );
  const missing = explainScoringFailure(new Error("scoring worker crashed: Cannot find module 'onnxruntime-node'"));
  assert.match(missing, /^scoring worker crashed: Cannot find module 'onnxruntime-node'\. Reward scoring loads the native packages/);
  assert.match(missing, /npm ci/);
  assert.equal(explainScoringFailure('plain'), 'plain');
});

function info(id: string, over: Partial<RunInfo>): RunInfo {
  return { id, dir: `/runs/${id}`, state: 'finished', live: false, lastStep: 0, updated: 0, alarms: [], corruptLines: 0, ...over };
}

test('the reward models offered: finished rm runs with a checkpoint, newest first', () => {
  const runs = [
    info('old-rm', { stage: 'rm', started: 100, checkpoint: 'best' }),
    info('ppo', { stage: 'ppo', started: 400, checkpoint: 'step-6' }),
    info('new-rm', { stage: 'rm', started: 300, checkpoint: 'step-4' }),
    info('failed-rm', { stage: 'rm', state: 'failed', started: 500, checkpoint: 'step-1' }),
    info('running-rm', { stage: 'rm', state: 'running', live: true, started: 600 }),
    info('no-checkpoint-rm', { stage: 'rm', started: 700 }),
  ];
  assert.deepEqual(
    rewardModelRuns(runs).map((r) => r.id),
    ['new-rm', 'old-rm'],
  );
});

test('one scorer per model folder, however it is spelt; dispose stops them all', async () => {
  const pool = new ScorerPool();
  let made = 0;
  const create = (model: string): RewardScorer => (made++, new RewardScorer({ model }));
  const a = pool.get(join(work, 'rm'), create);
  assert.equal(pool.get(join(work, 'x', '..', 'rm'), create), a);
  const b = pool.get(join(work, 'other'), create);
  assert.notEqual(a, b);
  assert.equal(made, 2);
  assert.equal(pool.size, 2);
  await pool.dispose();
  assert.equal(pool.size, 0);
  await assert.rejects(a.scoreRecords([]), /the scorer was disposed/);
  assert.throws(() => pool.get(join(work, 'rm'), create), /disposed/);
});
