// `fact-rlhf health` and `fact-rlhf metrics` (dist/cli.js) on a REAL tiny PPO run made by the trainer:
// the tiny policy raises its reward by shortening its answers (the length/EOS penalties), which the
// reward-hacking rule must catch (exit 1); a healthy run folder exits 0; bad input exits 2.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { RunManager } from '../../src/runs/runManager';
import { venvPython } from '../../src/runs/pythonResolver';
import { HealthMonitor, type Alarm } from '../../src/runs/health';

const root = join(__dirname, '..', '..');
const CLI = join(root, 'dist', 'cli.js');
let work: string;
let runDir: string;
/** Alarms raised while the run was live, with the number of metric steps read when each was raised. */
const liveAlarms: { alarm: Alarm; stepsRead: number }[] = [];
let totalSteps = 0;

before(async () => {
  const build = spawnSync(process.execPath, ['scripts/build.mjs', '--only=src/cli'], { cwd: root, encoding: 'utf8' });
  assert.equal(build.status, 0, `build failed: ${build.stderr}`);
  work = mkdtempSync(join(tmpdir(), 'fact-rlhf-health-'));
  // A TensorBoard log from the real SummaryWriter (TRL/veRL tag names, a NaN at step 3).
  const tb = spawnSync(venvPython(root), [join(root, 'test', 'fixtures', 'write_tensorboard.py'), join(work, 'tb'), '12', '8'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(tb.status, 0, tb.stderr);
  runDir = join(work, 'tiny');
  const handle = new RunManager().start({
    stage: 'ppo',
    configPath: join(root, 'test', 'fixtures', 'tiny-monitor.rlhf.yaml'),
    python: venvPython(root),
    trainerRoot: join(root, 'trainer'),
    schemaDir: join(root, 'schema'),
    runDir,
    pollMs: 100,
  });
  // The same rules live, fed each batch of events as the run manager reads them.
  const live = new HealthMonitor({ kl: { enabled: false }, value_loss_spike: { factor: 20 } }, { stepPerEvent: true });
  handle.on('events', (events) => {
    for (const alarm of live.apply(events)) liveAlarms.push({ alarm, stepsRead: live.steps });
  });
  const result = await handle.done;
  assert.equal(result.status, 'finished', result.error);
  totalSteps = live.steps;
});
after(() => rmSync(work, { recursive: true, force: true }));

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: root, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('the real tiny PPO run trips the reward-hacking (length) rule: exit 1, alarm with evidence', () => {
  const r = cli('health', runDir, '--json');
  assert.equal(r.status, 1, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.format, 'run');
  assert.equal(report.healthy, false);
  const hack = report.alarms.find((a: { rule: string }) => a.rule === 'reward_hacking');
  assert.ok(hack, r.stdout);
  assert.ok(hack.evidence.lengthChange < 0, 'answers got shorter');
  assert.ok(hack.evidence.rewardGain > 0);
  assert.ok(Math.abs(hack.evidence.correlation) >= 0.7);
  // The run's config disabled the KL rule (monitor.kl.enabled: false in run.json).
  assert.ok(!report.rules.includes('kl'));
  const text = cli('health', runDir);
  assert.equal(text.status, 1);
  assert.match(text.stdout, /WARNING reward_hacking from step \d+/);
});

test('live: the alarm is raised while the run is going, the same one the CLI reports afterwards', () => {
  const hack = liveAlarms.find((x) => x.alarm.rule === 'reward_hacking');
  assert.ok(hack, JSON.stringify(liveAlarms));
  assert.equal(hack.stepsRead, hack.alarm.detectedAt + 1, 'raised as soon as its step was read (steps 0..N)');
  assert.ok(totalSteps >= hack.stepsRead);
  const report = JSON.parse(cli('health', runDir, '--json').stdout);
  assert.deepEqual(
    report.alarms,
    liveAlarms.map((x) => x.alarm),
  );
});

test('a healthy run folder exits 0', () => {
  const d = join(work, 'healthy');
  mkdirSync(d);
  const lines = Array.from({ length: 40 }, (_, s) =>
    JSON.stringify({
      v: 1,
      t: 1.7e9 + s,
      type: 'metric',
      step: s,
      values: {
        'ppo/reward_total': -5 + 0.1 * s + 0.2 * Math.sin(s * 1.7),
        'ppo/response_length': 40 + Math.sin(s * 2.3),
        'ppo/kl_sum': 0.02 * s,
      },
    }),
  );
  writeFileSync(join(d, 'events.jsonl'), `${lines.join('\n')}\n`);
  const r = cli('health', d);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /healthy: no alarm/);
  assert.equal(JSON.parse(cli('health', d, '--json').stdout).healthy, true);
});

test('bad input exits 2 with a clear message', () => {
  const missing = cli('health', join(work, 'nope'));
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /no such file or folder/);
  assert.equal(cli('health').status, 2);
  assert.match(cli('metrics', '--bogus', runDir).stderr, /unknown option --bogus/);
  const empty = join(work, 'empty');
  mkdirSync(empty);
  writeFileSync(join(empty, 'events.jsonl'), '');
  const r = cli('health', empty);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /no metrics found/);
});

test('a TensorBoard log: the same rules on mapped names; --config FILE sets the thresholds', () => {
  const tb = join(work, 'tb', 'simple');
  const r = cli('health', tb, '--json');
  assert.equal(r.status, 1, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.format, 'tensorboard');
  const nan = report.alarms.find((a: { rule: string }) => a.rule === 'nan');
  assert.ok(nan, r.stdout);
  assert.equal(nan.step, 3);
  assert.match(nan.message, /ppo\/kl_sum/);
  const cfg = join(work, 'monitor.rlhf.yaml');
  writeFileSync(cfg, 'version: 1\nname: monitor-only\nmonitor:\n  nan:\n    enabled: false\n');
  const without = JSON.parse(cli('health', tb, '--json', '--config', cfg).stdout);
  assert.ok(!without.rules.includes('nan'));
  assert.ok(!without.alarms.some((a: { rule: string }) => a.rule === 'nan'));
  writeFileSync(cfg, 'version: 1\nname: monitor-only\nmonitor:\n  nan:\n    threshold: 3\n');
  const bad = cli('health', tb, '--config', cfg);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /monitor\.nan\.threshold: no such parameter/);
  const m = JSON.parse(cli('metrics', tb, '--json').stdout);
  const kl = m.metrics.find((x: { key: string }) => x.key === 'ppo/kl_sum');
  assert.equal(kl.source, 'objective/kl');
  assert.equal(kl.count, 12);
});

test('metrics lists each key with count, first and last value', () => {
  const r = cli('metrics', runDir, '--json');
  assert.equal(r.status, 0, r.stderr);
  const m = JSON.parse(r.stdout);
  const reward = m.metrics.find((x: { key: string }) => x.key === 'ppo/reward_total');
  assert.ok(reward);
  assert.equal(reward.count, 8);
  assert.equal(reward.first.step, 1);
  assert.equal(reward.last.step, 8);
  assert.ok(reward.last.value > reward.first.value, 'the tiny run raises its reward');
  const text = cli('metrics', runDir);
  assert.match(text.stdout, /ppo\/reward_total\s+8\s/);
});
