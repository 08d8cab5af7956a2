// Readers of other trainers' logs. TensorBoard fixtures come from the REAL writers (torch's
// SummaryWriter; tensorboard's own tensor-form summary API) via test/fixtures/write_tensorboard.py.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync, appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { venvPython } from '../../src/runs/pythonResolver';
import { RunSeries } from '../../src/runs/runSeries';
import {
  TensorBoardReader,
  JsonlMetricReader,
  TrainerStateReader,
  RunFolderReader,
  LlavaRolloutsReader,
  VerlRolloutsReader,
  openMetricSource,
  aliasOf,
  SourceError,
} from '../../src/runs/readers';
import { maskedCrc32c, crc32c } from '../../src/runs/readers/crc32c';
import aliasFile from '../../schema/metric-aliases.json';

const root = join(__dirname, '..', '..');
let dir: string;
type Expected = Record<string, [number, number | null][]>;
let expected: { simple: Expected; tensor: Expected };

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'fact-rlhf-readers-'));
  const res = spawnSync(
    venvPython(root),
    [join(root, 'test', 'fixtures', 'write_tensorboard.py'), join(dir, 'tb'), '120', '10', '--json'],
    { encoding: 'utf8', timeout: 120_000 },
  );
  assert.equal(res.status, 0, res.stderr);
  expected = JSON.parse(res.stdout);
});
after(() => rmSync(dir, { recursive: true, force: true }));

function seriesOf(events: ReturnType<TensorBoardReader['readNew']>['events']): RunSeries {
  const s = new RunSeries();
  s.apply(events);
  return s;
}

/** Expected values under our names (the reader maps TRL/veRL names through schema/metric-aliases.json). */
function assertSeriesEqual(series: RunSeries, want: Expected): void {
  for (const [tag, points] of Object.entries(want)) {
    const key = aliasOf(tag) ?? tag;
    const got = series.get(key);
    assert.ok(got, `series ${key} (${tag})`);
    assert.deepEqual(
      got.steps,
      points.map((p) => p[0]),
      key,
    );
    assert.deepEqual(
      got.values,
      points.map((p) => p[1]),
      key,
    );
  }
}

const eventFile = (sub: string): string => {
  const d = join(dir, 'tb', sub);
  return join(
    d,
    readdirSync(d).find((n) => n.includes('tfevents'))!,
  );
};

test('CRC-32C matches the standard check value and TFRecord masking', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(maskedCrc32c(Buffer.from('')), 0xa282ead8);
});

test('a SummaryWriter log (simple_value) reads back with every value equal, NaN/inf as null, names mapped', () => {
  const reader = new TensorBoardReader(join(dir, 'tb', 'simple'));
  const { events, corrupt } = reader.readNew();
  assert.equal(corrupt, 0);
  const series = seriesOf(events);
  assertSeriesEqual(series, expected.simple);
  assert.equal(series.get('ppo/kl_sum')!.values[3], null, 'NaN written by SummaryWriter');
  assert.equal(series.get('ppo/reward_total')!.values[4], null, '+inf');
  assert.equal(reader.renamed.get('ppo/kl_sum'), 'objective/kl');
  assert.equal(reader.renamed.get('ppo/approx_kl'), 'actor/ppo_kl');
  assert.ok(series.get('custom/metric'), 'unmapped names are kept');
  assert.equal(events.length, 120, 'one metric event per step');
});

test('tensor-form scalars (tensorboard summary_v2.scalar_pb) read back equal', () => {
  const { events, corrupt } = new TensorBoardReader(join(dir, 'tb', 'tensor')).readNew();
  assert.equal(corrupt, 0);
  assertSeriesEqual(seriesOf(events), expected.tensor);
});

test('a corrupt record is skipped and counted, not fatal; a broken header resynchronises', () => {
  const bytes = readFileSync(eventFile('simple'));
  // Record framing: walk to the 20th record and flip a byte inside its data.
  let pos = 0;
  const starts: number[] = [];
  while (pos < bytes.length) {
    starts.push(pos);
    pos += 16 + bytes.readUInt32LE(pos);
  }
  const badData = Buffer.from(bytes);
  badData[starts[20] + 14] ^= 0xff;
  const f1 = join(dir, 'bad-data.tfevents.x');
  writeFileSync(f1, badData);
  const r1 = new TensorBoardReader(f1);
  const b1 = r1.readNew();
  assert.equal(b1.corrupt, 1);
  assert.equal(r1.corruptCount, 1);
  const total = (s: RunSeries): number => s.keys().reduce((n, k) => n + s.get(k)!.steps.length, 0);
  assert.equal(total(seriesOf(b1.events)), 120 * 10 - 1, 'exactly the one scalar is lost');

  const badHeader = Buffer.from(bytes);
  badHeader[starts[30] + 9] ^= 0xff; // the length's CRC
  const f2 = join(dir, 'bad-header.tfevents.x');
  writeFileSync(f2, badHeader);
  const b2 = new TensorBoardReader(f2).readNew();
  assert.equal(b2.corrupt, 1);
  assert.equal(total(seriesOf(b2.events)), 120 * 10 - 1);
});

test('a record cut short at the end waits for the rest (live log)', () => {
  const bytes = readFileSync(eventFile('simple'));
  const f = join(dir, 'live.tfevents.x');
  const cut = Math.floor(bytes.length / 2);
  writeFileSync(f, bytes.subarray(0, cut));
  const r = new TensorBoardReader(f);
  const first = r.readNew();
  appendFileSync(f, bytes.subarray(cut));
  const second = r.readNew();
  assert.equal(first.corrupt + second.corrupt, 0);
  const s = seriesOf([...first.events, ...second.events]);
  assertSeriesEqual(s, expected.simple);
});

test('veRL file-logger JSONL (with Python NaN tokens) and flat records map to our names', () => {
  const f = join(dir, 'verl.jsonl');
  writeFileSync(
    f,
    [
      '{"step": 1, "data": {"critic/score/mean": 0.5, "actor/ppo_kl": 0.01, "response_length/mean": 120.0}}',
      '{"step": 2, "elapsed_seconds": 3.5, "data": {"critic/score/mean": NaN, "actor/ppo_kl": 0.02, "response_length/mean": 118.0}}',
      'not json',
      '{"step": 3, "data": {"critic/score/mean": 0.7, "actor/ppo_kl": 0.03, "response_length/mean": 121.0}}',
      '{"step": 4, "data": {"critic/score/mean": 0.8',
    ].join('\n'),
  );
  const r = openMetricSource(f);
  assert.equal(r.format, 'jsonl');
  const b = r.readNew();
  assert.equal(b.corrupt, 1);
  const s = seriesOf(b.events);
  assert.deepEqual(s.get('ppo/score_rm'), { steps: [1, 2, 3], values: [0.5, null, 0.7] });
  assert.deepEqual(s.get('ppo/response_length')!.values, [120, 118, 121]);
  assert.equal(s.get('elapsed_seconds'), undefined);
  appendFileSync(f, ', "actor/ppo_kl": 0.04}}\n');
  assert.deepEqual(seriesOf(r.readNew().events).get('ppo/score_rm'), { steps: [4], values: [0.8] }, 'the torn last line, once complete');
  assert.ok(r instanceof JsonlMetricReader);
});

test('TRL / HF trainer_state.json log_history', () => {
  const d = join(dir, 'checkpoint-10');
  mkdirSync(d);
  const f = join(d, 'trainer_state.json');
  writeFileSync(
    f,
    JSON.stringify({
      global_step: 10,
      log_history: [
        { step: 5, 'objective/kl': 0.5, 'objective/scores': 1.0, 'val/ratio': 1.01, epoch: 0.5 },
        { step: 10, 'objective/kl': 0.7, 'objective/scores': 1.4, 'val/ratio': 0.99, epoch: 1.0 },
      ],
    }),
  );
  const r = openMetricSource(d);
  assert.ok(r instanceof TrainerStateReader);
  const s = seriesOf(r.readNew().events);
  assert.deepEqual(s.get('ppo/kl_sum'), { steps: [5, 10], values: [0.5, 0.7] });
  assert.deepEqual(s.get('ppo/ratio')!.values, [1.01, 0.99]);
  assert.equal(s.get('epoch'), undefined);
});

test('LLaVA-RLHF rollouts/step_N.json: mean RM reward and response length per step, new steps picked up', () => {
  const out = join(dir, 'llava-out');
  const rollouts = join(out, 'rollouts');
  mkdirSync(rollouts, { recursive: true });
  const dump = (step: number, rows: [string, string][]): void =>
    writeFileSync(
      join(rollouts, `step_${step}.json`),
      JSON.stringify(
        rows.map(([responses, rewards]) => ({ queries: 'USER: <image> What is shown?', responses, rewards })),
        null,
        4,
      ),
    );
  dump(1, [
    ['A red circle and a blue square.', '0.5'],
    ['A red circle.', '1.5'],
  ]);
  dump(2, [
    ['A circle.', '2.0'],
    ['Circle.', '3.0'],
  ]);
  const r = openMetricSource(out);
  assert.ok(r instanceof LlavaRolloutsReader);
  const s = seriesOf(r.readNew().events);
  assert.deepEqual(s.get('ppo/score_rm'), { steps: [1, 2], values: [1, 2.5] });
  assert.deepEqual(s.get('ppo/response_length'), { steps: [1, 2], values: [(7 + 3) / 2, (2 + 1) / 2] });
  dump(10, [['', 'nan']]);
  const next = seriesOf(r.readNew().events);
  assert.deepEqual(next.get('ppo/score_rm'), { steps: [10], values: [null] }, 'only the new file; NaN reward as null');
  assert.equal(r.readNew().events.length, 0);
});

test('veRL rollout dumps <step>.jsonl: mean score, output length and extra reward fields per step', () => {
  const d = join(dir, 'verl-rollouts');
  mkdirSync(d);
  const dump = (step: number, rows: [string, number | string][], torn = false): void =>
    writeFileSync(
      join(d, `${step}.jsonl`),
      rows
        .map(([output, score]) => `{"input": "q", "output": ${JSON.stringify(output)}, "score": ${score}, "step": ${step}, "acc": 1.0}`)
        .join('\n') + (torn ? '' : '\n'),
    );
  dump(5, [
    ['one two three', 1],
    ['one', 0],
  ]);
  dump(10, [['a b', 'NaN']]);
  dump(15, [['x', 2]], true);
  const r = openMetricSource(d);
  assert.ok(r instanceof VerlRolloutsReader);
  const s = seriesOf(r.readNew().events);
  assert.deepEqual(s.get('ppo/score_rm'), { steps: [5, 10], values: [0.5, null] });
  assert.deepEqual(s.get('ppo/response_length')!.values, [2, 2]);
  assert.deepEqual(s.get('rollout/acc')!.values, [1, 1]);
  dump(15, [['x', 2]]);
  assert.deepEqual(seriesOf(r.readNew().events).get('ppo/score_rm'), { steps: [15], values: [2] }, 'a file completed later');
  assert.ok(openMetricSource(join(d, '5.jsonl')) instanceof VerlRolloutsReader, 'one dump file');
});

test('openMetricSource picks the reader by what is there; bad input is a SourceError', () => {
  assert.ok(openMetricSource(join(dir, 'tb', 'simple')) instanceof TensorBoardReader);
  assert.ok(openMetricSource(join(dir, 'tb')) instanceof TensorBoardReader, 'a folder of runs');
  assert.ok(openMetricSource(eventFile('tensor')) instanceof TensorBoardReader);
  const run = join(dir, 'run');
  mkdirSync(run);
  writeFileSync(join(run, 'events.jsonl'), '{"v":1,"t":1,"type":"metric","step":0,"values":{"ppo/kl_sum":0.1}}\n');
  assert.ok(openMetricSource(run) instanceof RunFolderReader);
  assert.ok(openMetricSource(join(run, 'events.jsonl')) instanceof RunFolderReader);
  assert.throws(() => openMetricSource(join(dir, 'nope')), SourceError);
  assert.throws(() => openMetricSource(dir + '/tb/../verl.jsonl.txt'), SourceError);
});

test('every alias target is one of our metric names (group/name), never a foreign name', () => {
  for (const group of Object.values(aliasFile.aliases)) {
    for (const ours of Object.values(group)) assert.match(ours, /^(ppo|rm|sft|eval)\/[a-z_]+$/);
  }
});
