// The runs view's data (src/viewModels/runsTree.ts) over run folders on disk: status icons, the
// description line, context flags for the menus, health alarms, incremental refresh, grouping,
// and delete refusing a live run.
import test from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunsTreeModel, deleteRunFolder, RunDeleteError, type RunNode, type GroupNode } from '../../src/viewModels/runsTree';
import { processStartTime } from '../../src/runs/launchIdentity';

const work = mkdtempSync(join(tmpdir(), 'fact-rlhf-runs-tree-'));
test.after(() => rmSync(work, { recursive: true, force: true }));
const NOW = 1_800_000_000_000;
const T0 = NOW / 1000 - 600;

interface RunSpec {
  status: 'starting' | 'running' | 'finished' | 'failed' | 'stopped';
  steps?: number;
  total?: number;
  nanAt?: number;
  checkpoint?: number;
  live?: boolean;
  stage?: 'ppo' | 'sft' | 'rm' | 'eval';
}

function line(o: Record<string, unknown>): string {
  return `${JSON.stringify({ v: 1, t: T0, ...o })}\n`;
}

function makeRun(outputDir: string, id: string, spec: RunSpec): string {
  const dir = join(outputDir, id);
  mkdirSync(dir, { recursive: true });
  const stage = spec.stage ?? 'ppo';
  const pid = spec.live ? process.pid : 999_999_999;
  const manifest = {
    id,
    stage,
    config: {},
    config_path: join(outputDir, 'exp.rlhf.yaml'),
    config_hash: 'abc',
    host: hostname(),
    pids: [pid],
    launches: [{ host: hostname(), pid, start_time: spec.live ? (processStartTime(process.pid) ?? null) : 1, nonce: null }],
    world_size: 1,
    started: T0,
    ended: spec.status === 'running' || spec.status === 'starting' ? null : T0 + 60,
    status: spec.status,
    protocol_version: 1,
  };
  writeFileSync(join(dir, 'run.json'), JSON.stringify(manifest));
  let events = line({ type: 'status', status: 'starting' }) + line({ type: 'status', status: 'running' });
  const key = stage === 'ppo' ? 'ppo/reward_total' : stage === 'rm' ? 'rm/eval_accuracy' : 'sft/loss';
  for (let s = 0; s < (spec.steps ?? 0); s++) {
    events += line({ type: 'metric', step: s, values: { [key]: s === spec.nanAt ? null : 0.5 + s / 10 } });
    events += line({ type: 'progress', step: s + 1, total: spec.total ?? spec.steps, eta: 1 });
  }
  if (spec.steps) events += line({ type: 'sample', step: spec.steps - 1, path: `samples/step-${spec.steps - 1}.jsonl`, count: 2 });
  if (spec.checkpoint !== undefined) {
    mkdirSync(join(dir, 'checkpoints', `step-${spec.checkpoint}`), { recursive: true });
    writeFileSync(join(dir, 'checkpoints', 'latest'), `step-${spec.checkpoint}\n`);
  }
  if (spec.status !== 'running' && spec.status !== 'starting')
    events += line({ type: 'status', status: spec.status, ...(spec.status === 'failed' ? { error: 'CUDA OOM' } : {}) });
  writeFileSync(join(dir, 'events.jsonl'), events);
  return dir;
}

const model = (): RunsTreeModel => new RunsTreeModel({ now: () => NOW, labelFor: (d) => `label:${d.split('/').pop()}` });

test('one output folder: runs at the top level, each with icon, description and menu flags', () => {
  const out = join(work, 'one');
  const finished = makeRun(out, 'exp-ppo-1', { status: 'finished', steps: 8, checkpoint: 8 });
  const stopped = makeRun(out, 'exp-ppo-2', { status: 'stopped', steps: 3, total: 8, checkpoint: 2 });
  const gone = makeRun(out, 'exp-ppo-3', { status: 'running', steps: 2, total: 8 });
  const failed = makeRun(out, 'exp-sft-1', { status: 'failed', stage: 'sft', steps: 1, total: 4 });
  const m = model();
  m.setSources([out]);
  assert.equal(m.refresh(), true);
  const roots = m.roots() as RunNode[];
  assert.deepEqual(
    roots.map((r) => r.kind),
    ['run', 'run', 'run', 'run'],
  );
  const by = (dir: string): RunNode => m.find(dir) as RunNode;

  const f = by(finished);
  assert.equal(f.label, 'exp-ppo-1');
  assert.deepEqual(f.icon, { id: 'pass', color: 'testing.iconPassed' });
  assert.match(f.description, /^ppo · finished · step 7 · reward 1\.2000 · \d+[smhd]$/);
  assert.equal(f.contextValue, 'run samples deletable', 'finished: nothing to resume');

  const s = by(stopped);
  assert.equal(s.icon.id, 'debug-stop');
  assert.match(s.description, /^ppo · stopped · 3\/8 \(38%\) · reward 0\.7000 · /);
  assert.equal(s.contextValue, 'run resumable samples deletable');
  assert.equal(s.info.checkpoint, 'step-2');

  const g = by(gone);
  assert.equal(g.info.state, 'interrupted', 'running in its events, but its trainer is gone');
  assert.equal(g.icon.id, 'debug-disconnect');
  assert.ok(!g.contextValue.includes('resumable'), 'no checkpoint: nothing to resume from');

  const x = by(failed);
  assert.equal(x.icon.id, 'error');
  assert.match(x.description, /^sft · failed · 1\/4 \(25%\) · loss 0\.5000/);
  assert.match(x.tooltip, /error: CUDA OOM/);
  assert.equal(m.refresh(), false, 'nothing changed on disk');
});

test('health alarms: a NaN metric puts an alarm icon on the run and an alarm node under it', () => {
  const out = join(work, 'alarm');
  const dir = makeRun(out, 'exp-ppo-1', { status: 'finished', steps: 6, nanAt: 4, checkpoint: 6 });
  const m = model();
  m.setSources([out]);
  m.refresh();
  const run = m.find(dir) as RunNode;
  assert.deepEqual(run.icon, { id: 'alert', color: 'problemsErrorIcon.foreground' });
  assert.match(run.description, /⚠ 1 alarm/);
  assert.ok(run.contextValue.split(' ').includes('alarm'));
  const alarms = m.children(run);
  assert.equal(alarms.length, 1);
  assert.equal(alarms[0].kind, 'alarm');
  assert.equal(alarms[0].label, 'nan');
  assert.equal(alarms[0].description, 'from step 4');
});

test('refresh reads only what was appended, and reports the change', () => {
  const out = join(work, 'grow');
  const dir = makeRun(out, 'exp-ppo-1', { status: 'running', steps: 2, total: 10, live: true });
  const m = model();
  m.setSources([out]);
  m.refresh();
  const before = m.find(dir) as RunNode;
  assert.equal(before.info.live, true);
  assert.equal(before.info.state, 'running');
  assert.equal(before.icon.id, 'sync~spin');
  assert.equal(before.contextValue, 'run live samples', 'live: stoppable, not deletable');
  assert.ok(m.hasLive());
  appendFileSync(
    join(dir, 'events.jsonl'),
    line({ type: 'metric', step: 2, values: { 'ppo/reward_total': 2.5 } }) + line({ type: 'progress', step: 3, total: 10 }),
  );
  assert.equal(m.refresh(), true);
  const after = m.find(dir) as RunNode;
  assert.match(after.description, /3\/10 \(30%\) · reward 2\.5000/);
  assert.throws(() => deleteRunFolder(dir), RunDeleteError, 'a live run is never deleted');
  assert.ok(existsSync(dir));
});

test('several output folders: one group each; a live run outside them gets its own', () => {
  const a = join(work, 'multi', 'a');
  const b = join(work, 'multi', 'b');
  makeRun(a, 'x-ppo-1', { status: 'finished', steps: 1 });
  makeRun(b, 'y-ppo-1', { status: 'finished', steps: 1 });
  makeRun(b, 'y-ppo-2', { status: 'finished', steps: 1 });
  const elsewhere = makeRun(join(work, 'multi', 'other'), 'z-ppo-1', { status: 'running', steps: 1, live: true });
  const m = model();
  m.setSources([a, b, join(work, 'multi', 'empty')], [elsewhere]);
  m.refresh();
  const groups = m.roots() as GroupNode[];
  assert.deepEqual(
    groups.map((g) => [g.kind, g.label, g.description]),
    [
      ['group', 'label:a', '1 run'],
      ['group', 'label:b', '2 runs'],
      ['group', 'label:other', '1 run'],
    ],
  );
  assert.deepEqual(
    m.children(groups[1]).map((n) => n.kind),
    ['run', 'run'],
  );
});

test('delete removes a finished run folder and refuses a folder that is not a run', () => {
  const out = join(work, 'del');
  const dir = makeRun(out, 'exp-ppo-1', { status: 'stopped', steps: 1 });
  const notRun = join(out, 'notes');
  mkdirSync(notRun);
  assert.throws(() => deleteRunFolder(notRun), /not a run folder/);
  assert.ok(existsSync(notRun));
  deleteRunFolder(dir);
  assert.ok(!existsSync(dir));
  const m = model();
  m.setSources([out]);
  m.refresh();
  assert.deepEqual(m.roots(), []);
});
