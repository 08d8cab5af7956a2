// What `fact-rlhf runs DIR` lists: DIR as a run folder, as an output folder, or as a folder of
// configs whose output_dir (relative to the config, following `extends`) holds the runs.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findConfigs, runFoldersOf } from '../../src/cli/runs';

const work = mkdtempSync(join(tmpdir(), 'fact-rlhf-run-list-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

function run(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'run.json'), '{}');
  writeFileSync(join(dir, 'events.jsonl'), '');
  return dir;
}

test('a folder of configs lists the runs in their output folders, once each; node_modules is skipped', () => {
  const project = join(work, 'project');
  mkdirSync(join(project, 'configs', 'base'), { recursive: true });
  writeFileSync(join(project, 'configs', 'base', 'base.rlhf.yaml'), 'output_dir: ../../results\n');
  writeFileSync(join(project, 'configs', 'a.rlhf.yaml'), 'extends: base/base.rlhf.yaml\nname: a\n');
  writeFileSync(join(project, 'configs', 'b.rlhf.yaml'), 'output_dir: elsewhere\n');
  mkdirSync(join(project, 'node_modules', 'x'), { recursive: true });
  writeFileSync(join(project, 'node_modules', 'x', 'c.rlhf.yaml'), 'output_dir: ignored\n');
  const r1 = run(join(project, 'results', 'a-ppo-1'));
  const r2 = run(join(project, 'configs', 'elsewhere', 'b-ppo-1'));
  run(join(project, 'node_modules', 'x', 'ignored', 'c-ppo-1'));
  assert.deepEqual(
    findConfigs(project)
      .map((f) => f.slice(project.length))
      .sort(),
    ['/configs/a.rlhf.yaml', '/configs/b.rlhf.yaml', '/configs/base/base.rlhf.yaml'],
  );
  assert.deepEqual(runFoldersOf(project).sort(), [r2, r1].sort(), 'base and a share results/: listed once');
});

test('a run folder lists itself; an output folder lists its runs', () => {
  const out = join(work, 'out');
  const a = run(join(out, 'x-ppo-1'));
  const b = run(join(out, 'x-ppo-2'));
  assert.deepEqual(runFoldersOf(a), [a]);
  assert.deepEqual(runFoldersOf(out).sort(), [a, b].sort());
  assert.deepEqual(runFoldersOf(join(work, 'empty-or-missing')), []);
});
