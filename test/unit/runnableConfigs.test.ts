// The SFT/RM launch pickers list the configs that can run the stage: resolved through `extends`
// by the config engine, bases and configs without the stage's section left out.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { configsForStage, stageFit } from '../../language-server/src/engine';

const ROOT = resolve(__dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'runnable-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function config(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const base = config(
  'base.rlhf.yaml',
  'version: 1\nname: base\ndata:\n  builtin: shapes\nsft:\n  epochs: 1\nreward_model:\n  batch_size: 4\n',
);
const child = config('child.rlhf.yaml', 'version: 1\nextends: base.rlhf.yaml\nname: child\n');
const rmOnly = config('rm-only.rlhf.yaml', 'version: 1\nname: rm-only\ndata:\n  builtin: shapes\nreward_model:\n  batch_size: 4\n');
const empty = config('empty.rlhf.yaml', 'version: 1\n');
const rmFiles = config(
  'rm-files.rlhf.yaml',
  'version: 1\nname: rm-files\nmodel:\n  policy: some/checkpoint\nreward_model:\n  batch_size: 4\n',
);
const all = [base, child, rmOnly, empty, rmFiles];

test('SFT lists the config that extends the base, not the base, not an RM-only config, not an empty one', () => {
  assert.deepEqual(configsForStage(all, 'sft'), [child]);
});

test('RM lists configs with a reward_model section and its data', () => {
  assert.deepEqual(configsForStage(all, 'rm'), [child, rmOnly]);
  assert.match(stageFit(rmFiles, 'rm').reason ?? '', /data\.preference/);
  assert.match(stageFit(empty, 'rm').reason ?? '', /no data and no model/);
  assert.match(stageFit(rmOnly, 'sft').reason ?? '', /`sft:` section/);
  assert.deepEqual(stageFit(child, 'sft').parents, [base]);
});

test('the repo examples: only tiny-sft runs SFT; the demo base is left out for its children', () => {
  const ex = (p: string): string => join(ROOT, 'examples', p);
  const tiny = ['tiny-sft.rlhf.yaml', 'tiny-rm.rlhf.yaml', 'tiny-ppo.rlhf.yaml'].map(ex);
  assert.deepEqual(configsForStage(tiny, 'sft'), [ex('tiny-sft.rlhf.yaml')]);
  assert.ok(!configsForStage(tiny, 'rm').includes(ex('tiny-sft.rlhf.yaml')));
  const demo = ['demo/base.rlhf.yaml', 'demo/rm-fact.rlhf.yaml'].map(ex);
  assert.deepEqual(configsForStage(demo, 'rm'), [ex('demo/rm-fact.rlhf.yaml')]);
});
