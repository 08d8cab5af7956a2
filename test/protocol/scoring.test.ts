// The reward scorer end to end: a tiny RM trained by the REAL `rm` stage, exported on demand by the
// real trainer, scored by onnxruntime-node in the worker and by the PyTorch reference
// (`python -m fact_rlhf score`) on 64 sample records with real shapes-world images.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Worker } from 'node:worker_threads';
import { RewardScorer, ScoringCancelled } from '../../src/scoring/rewardScorer';
import { ensureExport, staleness, type ExportProgress } from '../../src/scoring/exportOnDemand';
import { readScoreRecords, type ScoreRecord } from '../../src/scoring/samples';
import { parseWorkerMessage, type WorkerToHost } from '../../src/protocol/scoring';
import { py, python, root, trainTinyRm, trainerRoot, writeSamples } from './tinyRm';

const work = mkdtempSync(join(tmpdir(), 'fact-rlhf-scoring-'));
const runDir = join(work, 'rm');
const samplesFile = join(runDir, 'samples', 'step-0.jsonl');
test.after(() => rmSync(work, { recursive: true, force: true }));

interface JsonLine {
  index: number;
  prompt_id: string;
  with_facts: number;
  without_facts: number;
  difference: number;
}
const parseLines = (out: string): JsonLine[] =>
  out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as JsonLine);

let records: ScoreRecord[] = [];
let reference: JsonLine[] = [];

test.before(() => {
  trainTinyRm(runDir);
  assert.equal(writeSamples(runDir), samplesFile);
  records = readScoreRecords(samplesFile);
});

test('pointed at an rm run, the scorer exports it, then scores 64 records as PyTorch does (1e-4), with and without facts', async () => {
  const progress: ExportProgress[] = [];
  const logs: string[] = [];
  const scorer = new RewardScorer({ model: runDir, python, trainerRoot, onProgress: (p) => progress.push(p), log: (l) => logs.push(l) });
  try {
    const started = performance.now();
    const node = await scorer.scoreRecords(records);
    const ms = performance.now() - started;
    assert.ok(
      progress.some((p) => p.phase === 'exporting' && /no export yet/.test(p.message)),
      JSON.stringify(progress),
    );
    assert.ok(
      progress.some((p) => p.phase === 'exporting' && /verification/.test(p.message)),
      'the trainer\u2019s own lines arrive as progress',
    );
    assert.equal(progress.at(-1)?.phase, 'exported');
    assert.ok(
      logs.some((l) => /loaded in \d+ ms on onnxruntime-node's (CPU|CUDA) execution provider/.test(l)),
      logs.join('\n'),
    );
    assert.equal(scorer.loaded?.exportDir, join(runDir, 'onnx'));

    reference = parseLines(py(['-m', 'fact_rlhf', 'score', '--rm', runDir, '--samples', samplesFile, '--json']).stdout);
    assert.equal(reference.length, 64);
    let worst = 0;
    node.forEach((n, i) => {
      assert.equal(reference[i].index, i);
      worst = Math.max(worst, Math.abs(n.withFacts - reference[i].with_facts), Math.abs(n.withoutFacts - reference[i].without_facts));
    });
    console.log(
      `64 records × (with, without facts): onnxruntime-node vs PyTorch max abs diff ${worst.toExponential(2)}; Node scored (export included) in ${ms.toFixed(0)} ms`,
    );
    assert.ok(worst <= 1e-4, `max abs diff ${worst}`);

    // The facts reach the model: the same record scores differently with them.
    const moved = node.filter((n) => Math.abs(n.difference) > 1e-3).length;
    const meanShift = node.reduce((s, n) => s + Math.abs(n.difference), 0) / node.length;
    assert.ok(moved >= 60 && meanShift > 0.01, `${moved}/64 records moved, mean |difference| ${meanShift}`);

    // A second request finds the export current: nothing is exported again.
    progress.length = 0;
    await scorer.scoreRecords(records.slice(0, 2));
    assert.deepEqual(
      progress.map((p) => p.phase),
      ['checking', 'current'],
    );
  } finally {
    await scorer.dispose();
  }
});

test('fact-rlhf score prints what python -m fact_rlhf score prints (JSON lines, within 1e-4)', () => {
  assert.equal(reference.length, 64, 'needs the first test');
  const cli = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), 'score', '--rm', join(runDir, 'onnx'), '--samples', samplesFile, '--json'],
    {
      encoding: 'utf8',
      cwd: root,
    },
  );
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(cli.stderr, /scored 64 records with and without facts: onnxruntime-node \((CPU|CUDA)\)/);
  const node = parseLines(cli.stdout);
  assert.deepEqual(
    node.map((l) => [l.index, l.prompt_id, Object.keys(l)]),
    reference.map((l) => [l.index, l.prompt_id, Object.keys(l)]),
  );
  for (const [i, l] of node.entries()) {
    assert.ok(
      Math.abs(l.with_facts - reference[i].with_facts) <= 1e-4 && Math.abs(l.without_facts - reference[i].without_facts) <= 1e-4,
      JSON.stringify([l, reference[i]]),
    );
    assert.equal(l.difference, l.with_facts - l.without_facts);
  }
  const text = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), 'score', '--rm', join(runDir, 'onnx'), '--samples', samplesFile],
    { encoding: 'utf8', cwd: root },
  );
  assert.match(
    text.stdout.split('\n')[0],
    /^ {3}0 {2}\S+ {2}with_facts [+-]\d\.\d{6} {2}without_facts [+-]\d\.\d{6} {2}difference [+-]\d\.\d{6}$/,
  );
});

test('a checkpoint saved after the export makes it stale: the next use exports again', async () => {
  const exportDir = join(runDir, 'onnx');
  assert.equal(staleness(runDir, exportDir), null);
  const heads = join(runDir, 'checkpoints', 'best', 'heads.safetensors');
  const later = new Date(Date.now() + 60_000);
  utimesSync(heads, later, later);
  assert.match(staleness(runDir, exportDir) ?? '', /was saved after the export/);
  const phases: string[] = [];
  await ensureExport(runDir, { python, trainerRoot, onProgress: (p) => phases.push(p.phase) });
  assert.ok(phases.includes('exporting') && phases.at(-1) === 'exported', phases.join());
  assert.equal(staleness(runDir, exportDir), null);
  const spec = JSON.parse(readFileSync(join(exportDir, 'rm.json'), 'utf8'));
  assert.ok(Math.abs(spec.source.fingerprint.mtime - statSync(heads).mtimeMs / 1000) < 1e-3);
});

test('a changed model.onnx is reloaded before the next request', async () => {
  const copy = join(work, 'export-copy');
  cpSync(join(runDir, 'onnx'), copy, { recursive: true });
  const logs: string[] = [];
  const scorer = new RewardScorer({ model: copy, log: (l) => logs.push(l) });
  try {
    const [before] = await scorer.scoreRecords(records.slice(0, 1));
    const later = new Date(Date.now() + 5_000);
    utimesSync(join(copy, 'model.onnx'), later, later);
    const [after] = await scorer.scoreRecords(records.slice(0, 1));
    assert.ok(
      logs.some((l) => l.startsWith(`reward model changed on disk: reloading ${copy}`)),
      logs.join('\n'),
    );
    assert.equal(logs.filter((l) => / loaded in /.test(l)).length, 2);
    assert.deepEqual(after, before);
  } finally {
    await scorer.dispose();
  }
});

async function scoreError(model: string, recs: ScoreRecord[] = records.slice(0, 1)): Promise<Error & { file?: string }> {
  const scorer = new RewardScorer({ model });
  try {
    await scorer.scoreRecords(recs);
  } catch (err) {
    return err as Error & { file?: string };
  } finally {
    await scorer.dispose();
  }
  assert.fail(`scoring with ${model} should have failed`);
}

function exportCopy(name: string): string {
  const dir = join(work, name);
  cpSync(join(runDir, 'onnx'), dir, { recursive: true });
  return dir;
}

test('errors name the file: no model, a foreign or older rm.json, other input names, another tokenizer, an unreadable image', async () => {
  const empty = join(work, 'empty');
  mkdirSync(empty);
  let e = await scoreError(empty);
  assert.match(e.message, new RegExp(`${join(empty, 'rm.json')} not found: .* is not a reward-model export`));
  assert.equal(e.file, join(empty, 'rm.json'));

  const foreign = exportCopy('foreign');
  writeFileSync(join(foreign, 'rm.json'), JSON.stringify({ format: 'some-other-model', version: 2 }));
  e = await scoreError(foreign);
  assert.match(e.message, new RegExp(`${join(foreign, 'rm.json')}: not a Fact-RLHF reward-model export`));

  const old = exportCopy('old');
  const spec = JSON.parse(readFileSync(join(old, 'rm.json'), 'utf8'));
  writeFileSync(join(old, 'rm.json'), JSON.stringify({ ...spec, version: 1 }));
  e = await scoreError(old);
  assert.match(e.message, new RegExp(`${join(old, 'rm.json')}: format version 1; this scorer reads version 2`));

  const renamed = exportCopy('renamed');
  py([
    '-c',
    [
      'import sys, onnx',
      'from onnx import TensorProto as T, helper as h',
      "ins = [h.make_tensor_value_info('ids', T.INT64, ['b', 's']), h.make_tensor_value_info('mask', T.INT64, ['b', 's']), h.make_tensor_value_info('images', T.FLOAT, ['b', 3, 32, 32])]",
      "g = h.make_graph([h.make_node('Identity', ['images'], ['score'])], 'g', ins, [h.make_tensor_value_info('score', T.FLOAT, None)])",
      'onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 17)], ir_version=8), sys.argv[1])',
    ].join('\n'),
    join(renamed, 'model.onnx'),
  ]);
  e = await scoreError(renamed);
  assert.match(
    e.message,
    new RegExp(
      `${join(renamed, 'model.onnx')}: inputs \\[ids, mask, images\\] → \\[score\\] do not match rm.json's \\[input_ids, attention_mask, pixel_values\\]`,
    ),
  );

  const otherTokenizer = exportCopy('other-tokenizer');
  const tok = JSON.parse(readFileSync(join(otherTokenizer, 'tokenizer.json'), 'utf8'));
  tok.model.vocab['▁zebra'] = Object.keys(tok.model.vocab).length + 50;
  writeFileSync(join(otherTokenizer, 'tokenizer.json'), JSON.stringify(tok));
  e = await scoreError(otherTokenizer);
  assert.match(
    e.message,
    new RegExp(
      `${join(otherTokenizer, 'tokenizer.json')} does not match ${join(otherTokenizer, 'rm.json')}: vocabulary of \\d+ tokens, rm.json says ${spec.encoding.vocab_size}`,
    ),
  );

  const notPng = join(work, 'not-an-image.png');
  writeFileSync(notPng, 'this is text');
  e = await scoreError(join(runDir, 'onnx'), [{ ...records[0], image: notPng }]);
  assert.match(e.message, new RegExp(`${notPng}: cannot read the image`));
  assert.equal(e.file, notPng);
  e = await scoreError(join(runDir, 'onnx'), [{ ...records[0], image: join(work, 'missing.png') }]);
  assert.match(e.message, new RegExp(`${join(work, 'missing.png')}: cannot read the image: ENOENT`));
});

test('a request can be cancelled or time out; the scorer recovers with a fresh worker', async () => {
  const scorer = new RewardScorer({ model: join(runDir, 'onnx'), batchSize: 8 });
  try {
    await scorer.load();
    const many = Array.from({ length: 12 }, () => records).flat(); // 768 records, 1536 rows: seconds of work
    const controller = new AbortController();
    const pending = scorer.scoreRecords(many, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const t0 = performance.now();
    await assert.rejects(pending, (e: unknown) => e instanceof ScoringCancelled && e.name === 'AbortError');
    assert.ok(performance.now() - t0 < 1000, 'cancel is prompt, not after the batch');
    await assert.rejects(scorer.scoreRecords(records.slice(0, 1), { signal: AbortSignal.abort() }), /cancelled/);

    await assert.rejects(
      scorer.scoreRecords(many, { timeoutMs: 100 }),
      (e: unknown) => e instanceof ScoringCancelled && e.name === 'TimeoutError' && /timed out after 100 ms/.test((e as Error).message),
    );
    const [again] = await scorer.scoreRecords(records.slice(0, 1), { timeoutMs: 30_000 });
    assert.ok(Math.abs(again.withFacts - reference[0].with_facts) <= 1e-4);
  } finally {
    await scorer.dispose();
  }
});

test('the worker drops a malformed message and says so; it never acts on it', async () => {
  const worker = new Worker(`require('tsx/cjs'); require(${JSON.stringify(join(root, 'src', 'scoring', 'worker.ts'))});`, { eval: true });
  try {
    const got: WorkerToHost[] = [];
    const done = new Promise<void>((resolve) => {
      worker.on('message', (m: unknown) => {
        const msg = parseWorkerMessage(m);
        assert.notEqual(typeof msg, 'string', `the worker's own message is valid: ${JSON.stringify(m)}`);
        got.push(msg as WorkerToHost);
        if (got.length === 2) resolve();
      });
    });
    worker.postMessage({ type: 'score', id: 5, items: 'everything', batchSize: 8 });
    await done;
    assert.deepEqual(got[0], { type: 'log', message: 'scoring worker: dropped a malformed message (score: items must be ScoreItems)' });
    assert.deepEqual(got[1], { type: 'error', id: 5, message: 'malformed request: score: items must be ScoreItems' });
  } finally {
    await worker.terminate();
  }
});
