// Which folder and step the sample inspector opens for a file, and which step file a chart click lands on.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { inlineImage, inspectorTarget, isInside, runDirOf, stepFileNear } from '../../src/runs/samples/locate';

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

test('a page may load what lies in its root, `..` resolved: not a sibling with the same prefix, not an escape', () => {
  assert.ok(isInside('/r/run-1', '/r/run-1/images/a.png'));
  assert.ok(isInside('/r/run-1', '/r/run-1'));
  assert.ok(!isInside('/r/run-1', '/r/run-10/images/a.png'), 'a sibling whose name starts the same');
  assert.ok(!isInside('/r/run-1', '/r/run-1/../../etc/passwd'));
  assert.ok(!isInside('/r/run-1', '/etc/passwd'));
});

test('an image outside the roots is inlined only when its name and first bytes say image, and it is small', () => {
  const dir = mkdtempSync(join(tmpdir(), 'inline-'));
  const png = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGM8ISfHwMDAxMDAwMDAAAANBAEIfXHKZgAAAABJRU5ErkJggg==',
    'base64',
  );
  writeFileSync(join(dir, 'a.png'), png);
  writeFileSync(join(dir, 'secret.png'), 'password=hunter2'); // named like an image, is not one
  writeFileSync(join(dir, 'notes.txt'), png);
  assert.equal(inlineImage(join(dir, 'a.png')), `data:image/png;base64,${png.toString('base64')}`);
  assert.equal(inlineImage(join(dir, 'secret.png')), null);
  assert.equal(inlineImage(join(dir, 'notes.txt')), null, 'only image file names');
  assert.equal(inlineImage(join(dir, 'missing.png')), null);
});
