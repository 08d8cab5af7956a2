import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { EventFileReader } from '../../src/runs/eventReader';
import { readManifest, eventsPath } from '../../src/runs/runDirectory';
import { checkSampleRecord } from '../../src/runs/schemaValidation';
import { venvPython } from '../../src/runs/pythonResolver';

const root = join(__dirname, '..', '..');

// Python writes one event of every type through the trainer's own writer; TypeScript reads them back
// through the editor's reader and validates them against the same schema files.
const WRITER = `
import sys, math
from pathlib import Path
from fact_rlhf.rundir import RunDirectory
run = RunDirectory(Path(sys.argv[1]), "ppo")
run.write_manifest({"name": "roundtrip"}, "abc123", None, "cpu")
run.status("starting")
run.status("running")
run.log("reward ↑ für 🦙", level="warning")
run.progress(1, 4, 12.5)
run.metric(1, {"ppo/reward_total": -2.5, "ppo/kl_sum": 0.0, "ppo/entropy": float("nan")})
run.samples(1, [{"step": 1, "prompt_id": "p0", "image": "images/0.png", "prompt": "Describe.",
  "response": "A red circle.", "facts": ["a red circle"], "reward": {"rm": 0.5, "eos_penalty": 0.0,
  "length": -0.3, "symbolic": 0.0, "kl": -0.01, "total": 0.19}, "advantage": 0.1,
  "hallucination": {"spans": [[2, 5, "color"]], "source": "test"}, "caption_type": 1}])
(run.path / "checkpoints" / "step-1").mkdir(parents=True)
run.checkpoint(1, run.path / "checkpoints" / "step-1")
run.status("failed", error="Traceback: boom")
run.close()
`;

test('events written by the Python trainer read back and validate in TypeScript', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fact-rlhf-roundtrip-'));
  try {
    const py = spawnSync(venvPython(root), ['-c', WRITER, dir], {
      encoding: 'utf8',
      env: { ...process.env, PYTHONPATH: join(root, 'trainer') },
    });
    assert.equal(py.status, 0, py.stderr);
    const reader = new EventFileReader(eventsPath(dir));
    const { events, corrupt } = reader.readNew();
    assert.deepEqual(corrupt, []);
    assert.deepEqual(
      events.map((e) => e.type),
      ['status', 'status', 'log', 'progress', 'metric', 'sample', 'checkpoint', 'status'],
    );
    const metric = events.find((e) => e.type === 'metric');
    assert.ok(metric && metric.type === 'metric');
    assert.equal(metric.values['ppo/reward_total'], -2.5);
    assert.equal(metric.values['ppo/entropy'], null, 'NaN is written as null, not as invalid JSON');
    const log = events.find((e) => e.type === 'log');
    assert.ok(log && log.type === 'log' && log.message === 'reward ↑ für 🦙');
    const sample = events.find((e) => e.type === 'sample');
    assert.ok(sample && sample.type === 'sample');
    const records = readFileSync(join(dir, sample.path), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(records.length, sample.count);
    for (const r of records) assert.deepEqual(checkSampleRecord(r), { ok: true, value: r });
    const last = events[events.length - 1];
    assert.ok(last.type === 'status' && last.status === 'failed' && last.error === 'Traceback: boom');
    const manifest = readManifest(dir);
    assert.equal(manifest?.status, 'failed');
    assert.equal(manifest?.config_hash, 'abc123');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('TypeScript rejects what the schema rejects (the check can fail)', () => {
  const bad = {
    step: 1,
    prompt_id: 'p',
    prompt: 'q',
    response: 'r',
    facts: [],
    caption_type: 9,
    reward: { rm: 0, eos_penalty: 0, length: 0, symbolic: 0, kl: 0, total: 0 },
  };
  const r = checkSampleRecord(bad);
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.error, /caption_type/);
});
