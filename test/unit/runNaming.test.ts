// Run folders are named by the schema's `x-run-folder` rule, the same one the trainer applies.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import experimentSchema from '../../schema/experiment.schema.json';
import { defaultRunDirectory, runFolderPrefix } from '../../src/runs/runNaming';

const when = new Date(2026, 0, 2, 3, 4, 5);

test('the run folder rule is data in the schema', () => {
  const rule = (experimentSchema as unknown as Record<string, { format?: string; timestamp?: string }>)['x-run-folder'];
  assert.equal(rule.format, '{name}-{stage}-{timestamp}');
  assert.equal(rule.timestamp, '%Y%m%d-%H%M%S');
});

test('<output_dir of the file that set it>/<name>-<stage>-<timestamp>, then -2, -3 when taken', () => {
  const dir = mkdtempSync(join(tmpdir(), 'run-naming-'));
  try {
    mkdirSync(join(dir, 'base'));
    writeFileSync(join(dir, 'base', 'base.rlhf.yaml'), 'name: "exp one/α2"\noutput_dir: out\n');
    writeFileSync(join(dir, 'child.rlhf.yaml'), 'extends: base/base.rlhf.yaml\nseed: 1\n');
    const first = defaultRunDirectory(join(dir, 'child.rlhf.yaml'), 'ppo', undefined, when);
    assert.equal(first, join(dir, 'base', 'out', 'exp-one-2-ppo-20260102-030405'));
    mkdirSync(first, { recursive: true });
    const second = defaultRunDirectory(join(dir, 'child.rlhf.yaml'), 'ppo', undefined, when);
    assert.equal(basename(second), 'exp-one-2-ppo-20260102-030405-2');
    assert.equal(runFolderPrefix(join(dir, 'child.rlhf.yaml'), 'rm'), 'exp-one-2-rm');
    // No name anywhere: the file name less .rlhf.yaml, under the default output_dir `runs`.
    writeFileSync(join(dir, 'plain.rlhf.yaml'), 'seed: 2\n');
    const plain = defaultRunDirectory(join(dir, 'plain.rlhf.yaml'), 'sft', undefined, when);
    assert.equal(plain, join(dir, 'runs', 'plain-sft-20260102-030405'));
    assert.equal(dirname(defaultRunDirectory(join(dir, 'plain.rlhf.yaml'), 'sft', join(dir, 'elsewhere'), when)), join(dir, 'elsewhere'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
