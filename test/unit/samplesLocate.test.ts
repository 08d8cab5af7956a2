// Which folder and step the sample inspector opens for a file, and which step file a chart click lands on.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { inspectorTarget, runDirOf, stepFileNear } from '../../src/runs/samples/locate';

test('a step file opens its folder at its step, for ours and the peers', () => {
  assert.deepEqual(inspectorTarget('/r/run-1/samples/step-000120.jsonl'), { path: '/r/run-1/samples', step: 120 });
  assert.deepEqual(inspectorTarget('/o/rollouts/step_7.json'), { path: '/o/rollouts', step: 7 });
  assert.deepEqual(inspectorTarget('/v/dump/42.jsonl'), { path: '/v/dump', step: 42 });
  assert.deepEqual(inspectorTarget('/t/completions/completions_00010.parquet'), { path: '/t/completions', step: 10 });
  // Anything else opens as itself, at the first step.
  assert.deepEqual(inspectorTarget('/x/my-samples.jsonl'), { path: '/x/my-samples.jsonl', step: null });
  assert.deepEqual(inspectorTarget('/r/run-1'), { path: '/r/run-1', step: null });
});

test('the run folder of a samples folder or file, and none for other places', () => {
  assert.equal(runDirOf('/r/run-1/samples'), '/r/run-1');
  assert.equal(runDirOf('/r/run-1/samples/step-000001.jsonl'), '/r/run-1');
  assert.equal(runDirOf('/o/rollouts'), null);
});

test('the step file nearest a step: ties go to the earlier, null means the newest, none when empty', () => {
  const dir = mkdtempSync(join(tmpdir(), 'locate-'));
  const samples = join(dir, 'samples');
  mkdirSync(samples);
  assert.equal(stepFileNear(samples, 3), undefined);
  assert.equal(stepFileNear(join(dir, 'missing'), 3), undefined);
  for (const s of [0, 10, 20]) writeFileSync(join(samples, `step-${String(s).padStart(6, '0')}.jsonl`), '{}\n');
  writeFileSync(join(samples, 'notes.txt'), 'not a step file');
  assert.equal(stepFileNear(samples, 12), join(samples, 'step-000010.jsonl'));
  assert.equal(stepFileNear(samples, 15), join(samples, 'step-000010.jsonl'), 'a tie goes to the earlier step');
  assert.equal(stepFileNear(samples, 16), join(samples, 'step-000020.jsonl'));
  assert.equal(stepFileNear(samples, 999), join(samples, 'step-000020.jsonl'));
  assert.equal(stepFileNear(samples, null), join(samples, 'step-000020.jsonl'));
});
