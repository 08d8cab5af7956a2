// The sample source and `fact-rlhf samples` on a run folder the REAL trainer made (tiny built-in
// world PPO, once for the file), checked against an independent reading of its samples/*.jsonl
// (JSON.parse of every line); and the bundled CLI (dist/cli.js) on a TRL parquet table, so the
// parquet reader is exercised as shipped.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { venvPython } from '../../src/runs/pythonResolver';
import { openSampleSource } from '../../src/runs/samples';
import { segmentSpans } from '../../src/protocol/spans';
import type { InspectorRecord, QueryParams, SampleRecord } from '../../src/protocol';

const ROOT = resolve(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const work = mkdtempSync(join(tmpdir(), 'fact-rlhf-samples-cli-'));
const runDir = join(work, 'tiny-fast-ppo');
const oracle: SampleRecord[] = [];

before(() => {
  const build = spawnSync(process.execPath, ['scripts/build.mjs', '--only=src/cli'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(build.status, 0, `build failed: ${build.stderr}`);
  const run = spawnSync(
    venvPython(ROOT),
    ['-m', 'fact_rlhf', 'ppo', '--config', join(ROOT, 'test', 'fixtures', 'tiny-fast.rlhf.yaml'), '--run-dir', runDir],
    { cwd: work, env: { ...process.env, PYTHONPATH: join(ROOT, 'trainer'), HF_HUB_OFFLINE: '1' }, encoding: 'utf8', timeout: 300_000 },
  );
  assert.equal(run.status, 0, `the tiny PPO run failed: ${run.stderr.slice(-2000)}`);
  // The independent reading: every line of every step file, in step order.
  const samples = join(runDir, 'samples');
  for (const name of readdirSync(samples).sort())
    for (const line of readFileSync(join(samples, name), 'utf8').split('\n')) if (line) oracle.push(JSON.parse(line) as SampleRecord);
  assert.ok(oracle.length > 0, 'the run wrote samples');
});
after(() => rmSync(work, { recursive: true, force: true }));

const ALL: QueryParams = {
  step: null,
  sort: 'index',
  descending: false,
  filter: { captionType: null, hallucinatedOnly: false, text: '' },
  offset: 0,
  limit: 500,
};

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const res = spawnSync(process.execPath, [CLI, 'samples', ...args], {
    cwd: work,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, NO_COLOR: '' },
  });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

function sameAsOracle(r: InspectorRecord, o: SampleRecord): void {
  assert.equal(r.step, o.step);
  assert.equal(r.promptId, o.prompt_id);
  assert.equal(r.prompt, o.prompt);
  assert.equal(r.response, o.response);
  assert.deepEqual(r.facts, o.facts);
  // Through JSON (the CLI's --json) a -0 KL term reads back as 0.
  const json = (v: unknown): unknown => JSON.parse(JSON.stringify(v));
  assert.deepEqual(json(r.reward), json(o.reward));
  assert.equal(r.advantage, o.advantage ?? null);
  assert.equal(r.captionType, o.caption_type);
  assert.equal(r.image, o.image ? join(runDir, o.image) : null);
}

test('a real run: counts, steps, pages, sorts, filters and timelines agree with a plain reading of its files', async () => {
  const s = await openSampleSource(runDir);
  const info = s.info();
  assert.equal(info.format, 'fact-rlhf');
  assert.equal(info.runDir, runDir);
  assert.equal(info.total, oracle.length);
  assert.equal(info.corrupt, 0);
  const steps = [...new Set(oracle.map((o) => o.step))].sort((a, b) => a - b);
  assert.deepEqual(info.steps, steps);

  const first = await s.query({ ...ALL, step: steps[0], limit: 50 });
  const want = oracle.filter((o) => o.step === steps[0]);
  assert.equal(first.matching, want.length);
  first.records.forEach((r, k) => sameAsOracle(r, want[k]));
  for (const r of first.records) assert.ok(r.image && existsSync(r.image), `the image the trainer drew is there: ${r.image}`);

  const byTotal = await s.query({ ...ALL, sort: 'total', descending: true });
  const order = oracle.map((o, i) => [o.reward.total, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  assert.deepEqual(
    byTotal.records.map((r) => r.index),
    order.map(([, i]) => i),
  );
  assert.deepEqual(info.captionTypes, [], 'nothing was parsed at open');
  assert.deepEqual(
    s.info().captionTypes,
    [...new Set(oracle.map((o) => o.caption_type))].sort((a, b) => a - b),
  );

  const halluc = await s.query({ ...ALL, filter: { ...ALL.filter, hallucinatedOnly: true } });
  assert.equal(halluc.matching, oracle.filter((o) => (o.hallucination?.spans.length ?? 0) > 0).length);
  for (const r of halluc.records) {
    const { segments, ignored } = segmentSpans(r.response, r.hallucination!.spans);
    assert.equal(ignored, 0, 'the judge writes spans inside the response');
    assert.ok(segments.some((g) => g.labels.length));
  }
  const word = oracle[0].response.split(' ')[0].toUpperCase();
  const text = await s.query({ ...ALL, filter: { ...ALL.filter, text: word } });
  const lower = word.toLowerCase();
  assert.equal(text.matching, oracle.filter((o) => [o.prompt, o.response, ...o.facts].some((t) => t.toLowerCase().includes(lower))).length);

  const id = oracle[oracle.length - 1].prompt_id;
  const timeline = await s.timeline(id);
  assert.deepEqual(
    timeline.map((p) => [p.step, p.response]),
    oracle.filter((o) => o.prompt_id === id).map((o) => [o.step, o.response]),
  );
  s.close();

  const one = await openSampleSource(join(runDir, 'samples', readdirSync(join(runDir, 'samples')).sort()[0]));
  assert.equal(one.info().total, want.length);
  assert.equal(one.info().runDir, runDir);
  one.close();
});

test('fact-rlhf samples: --json is the record list; --step names the nearest step; spans are marked in a pipe', () => {
  const all = cli([runDir, '--json', '--limit', '100000']);
  assert.equal(all.status, 0, all.stderr);
  const records = JSON.parse(all.stdout) as InspectorRecord[];
  assert.equal(records.length, oracle.length);
  records.forEach((r, k) => sameAsOracle(r, oracle[k]));

  const last = Math.max(...oracle.map((o) => o.step));
  const near = cli([runDir, '--step', '9999', '--limit', '2']);
  assert.equal(near.status, 0, near.stderr);
  assert.match(near.stderr, new RegExp(`no step 9999 in .*; showing the nearest, step ${last}`));
  assert.match(near.stdout, new RegExp(`step ${last}: \\d+ matching, showing 2`));
  assert.equal((near.stdout.match(/^#\d+ {2}step /gm) ?? []).length, 2);
  assert.match(near.stdout, /reward {4}total -?\d/);

  const judged = oracle.find((o) => (o.hallucination?.spans.length ?? 0) > 0);
  assert.ok(judged, 'the tiny run has a response with a hallucinated span (its judge is exact and the model random)');
  const marked = cli([runDir, '--hallucinated', '--limit', '1']);
  assert.equal(marked.status, 0, marked.stderr);
  const [s0, e0] = judged.hallucination!.spans[0];
  assert.ok(marked.stdout.includes(`[[${judged.response.slice(s0, e0)}]]`), marked.stdout);
  assert.ok(!marked.stdout.includes('\x1b['), 'no colour codes in a pipe');

  const sorted = cli([runDir, '--sort', 'total', '--limit', '3']);
  const ids = [...sorted.stdout.matchAll(/^#(\d+)/gm)].map((m) => Number(m[1]));
  const best = oracle.map((o, i) => [o.reward.total, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  assert.deepEqual(
    ids,
    best.slice(0, 3).map(([, i]) => i),
  );
});

test('fact-rlhf samples --help says what it reads and writes; the top-level help lists it', () => {
  const help = cli(['--help']);
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /^usage: fact-rlhf samples RUN_DIR\|FILE/);
  assert.match(help.stdout, /\nreads:\n/);
  assert.match(help.stdout, /\nwrites:\n  nothing/);
  const top = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
  assert.match(top.stdout, /\n  samples PATH /);
});

test('fact-rlhf samples: bad input exits 2 and says what is wrong', () => {
  const missing = cli([join(work, 'nope')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /nope: no such file or folder/);
  const sort = cli([runDir, '--sort', 'reward']);
  assert.equal(sort.status, 2);
  assert.match(sort.stderr, /--sort needs one of total, rm, halluc, length \(got "reward"\)/);
  const none = cli([]);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /samples needs a RUN_DIR or FILE/);
});

test('fact-rlhf samples (the bundle) reads a TRL completions parquet: reward columns shown as extra, no total', () => {
  const dir = join(work, 'trl', 'completions');
  mkdirSync(dir, { recursive: true });
  const py = spawnSync(
    venvPython(ROOT),
    [
      '-c',
      'import sys, pyarrow as pa, pyarrow.parquet as pq; pq.write_table(pa.table({"step": [3, 3], "prompt": ["p1", "p2"], "completion": ["c1", "c2"], "correctness": [1.0, 0.0], "advantage": [0.5, -0.5]}), sys.argv[1])',
      join(dir, 'completions_00003.parquet'),
    ],
    { encoding: 'utf8' },
  );
  assert.equal(py.status, 0, py.stderr);
  const res = cli([join(work, 'trl'), '--json']);
  assert.equal(res.status, 0, res.stderr);
  const records = JSON.parse(res.stdout) as InspectorRecord[];
  assert.deepEqual(
    records.map((r) => [r.step, r.prompt, r.response, r.reward, r.extra, r.advantage]),
    [
      [3, 'p1', 'c1', {}, { correctness: 1 }, 0.5],
      [3, 'p2', 'c2', {}, { correctness: 0 }, -0.5],
    ],
  );
  const text = cli([join(work, 'trl', 'completions', 'completions_00003.parquet')]);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /reward {4}total — {2}rm — /);
  assert.match(text.stdout, /extra {5}correctness 1/);
});
