// The run manager (and the CLI over it) driving the REAL Python trainer on the built-in world.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import Ajv from 'ajv';
import { RunManager, type StartOptions } from '../../src/runs/runManager';
import { RunSeries } from '../../src/runs/runSeries';
import { venvPython } from '../../src/runs/pythonResolver';
import runEventSchema from '../../schema/run-event.schema.json';
import type { RunEvent } from '../../src/protocol';

const root = join(__dirname, '..', '..');
const tinyConfig = join(root, 'examples', 'tiny-ppo.rlhf.yaml');
// Shorter runs for everything but the CLI test, which runs the example itself.
const fastConfig = join(root, 'test', 'fixtures', 'tiny-fast.rlhf.yaml');
const work = mkdtempSync(join(tmpdir(), 'fact-rlhf-protocol-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

function options(extra: Partial<StartOptions>): StartOptions {
  return {
    stage: 'ppo',
    configPath: fastConfig,
    python: venvPython(root),
    trainerRoot: join(root, 'trainer'),
    schemaDir: join(root, 'schema'),
    pollMs: 50,
    ...extra,
  };
}

/** Every line of events.jsonl, validated independently of the reader under test. */
function validateEventLines(runDir: string): RunEvent[] {
  const validate = new Ajv({ strict: false }).compile(runEventSchema);
  const lines = readFileSync(join(runDir, 'events.jsonl'), 'utf8').split('\n');
  assert.equal(lines.pop(), '', 'events.jsonl ends with a newline');
  return lines.map((line, i) => {
    const e: unknown = JSON.parse(line);
    assert.ok(validate(e), `line ${i + 1} invalid: ${JSON.stringify(validate.errors)}`);
    return e as unknown as RunEvent;
  });
}

test('a tiny PPO run streams schema-valid events to finished, reward rising', async () => {
  const manager = new RunManager();
  const handle = manager.start(options({ runDir: join(work, 'run-ok') }));
  const series = new RunSeries();
  let batches = 0;
  handle.on('events', (events) => {
    batches++;
    series.apply(events);
  });
  const result = await handle.done;
  assert.equal(result.status, 'finished', result.error);
  assert.equal(result.exitCode, 0);
  assert.ok(batches > 1, 'events arrived incrementally while the run was live');
  assert.equal(handle.reader.corruptCount, 0);
  const events = validateEventLines(result.runDir);
  const statuses = events.filter((e) => e.type === 'status').map((e) => (e.type === 'status' ? e.status : ''));
  assert.deepEqual(statuses, ['starting', 'running', 'finished']);
  const reward = series.get('ppo/reward_total');
  assert.ok(reward && reward.steps.length >= 5, 'one reward point per iteration');
  assert.ok(series.get('ppo/kl_sum'), 'KL is logged');
  assert.ok(
    events.some((e) => e.type === 'sample'),
    'sample records are written',
  );
  assert.ok(
    events.some((e) => e.type === 'checkpoint'),
    'a final checkpoint is written',
  );
  const manifest = JSON.parse(readFileSync(join(result.runDir, 'run.json'), 'utf8'));
  assert.equal(manifest.status, 'finished');
});

test('stop() checkpoints and ends the run as stopped', async () => {
  const manager = new RunManager();
  const handle = manager.start(options({ runDir: join(work, 'run-stop') }));
  await new Promise<void>((resolve) => {
    handle.on('events', (events) => {
      if (events.some((e) => e.type === 'metric')) resolve();
    });
  });
  const result = await handle.stop();
  assert.equal(result.status, 'stopped');
  const events = validateEventLines(result.runDir);
  assert.ok(
    events.some((e) => e.type === 'checkpoint'),
    'checkpoint before stopping',
  );
  const last = events[events.length - 1];
  assert.ok(last.type === 'status' && last.status === 'stopped');
});

test("a config error fails the run with the trainer's message naming file, line and key", async () => {
  const bad = join(work, 'bad.rlhf.yaml');
  writeFileSync(bad, `extends: ${fastConfig}\nppo:\n  kl_coef: "lots"\n`);
  const manager = new RunManager();
  const result = await manager.start(options({ configPath: bad, runDir: join(work, 'run-bad') })).done;
  assert.equal(result.status, 'failed');
  assert.match(result.error ?? '', /bad\.rlhf\.yaml:3/);
  assert.match(result.error ?? '', /ppo\.kl_coef/);
  const events = validateEventLines(result.runDir);
  const last = events[events.length - 1];
  assert.ok(last.type === 'status' && last.status === 'failed');
});

test('a trainer killed with SIGKILL is recorded as failed with what it printed', async () => {
  const manager = new RunManager();
  const handle = manager.start(options({ runDir: join(work, 'run-killed') }));
  await new Promise<void>((resolve) => handle.on('events', (ev) => ev.some((e) => e.type === 'metric') && resolve()));
  process.kill(handle.pid!, 'SIGKILL');
  const result = await handle.done;
  assert.equal(result.status, 'failed');
  assert.match(result.error ?? '', /killed by SIGKILL/);
  const events = validateEventLines(result.runDir);
  const last = events[events.length - 1];
  assert.ok(last.type === 'status' && last.status === 'failed', 'the run directory records the failure');
});

test('a missing interpreter gives a clear error', async () => {
  const manager = new RunManager();
  const result = await manager.start(options({ python: join(work, 'no-such-python'), runDir: join(work, 'run-nopy') })).done;
  assert.equal(result.status, 'failed');
  assert.match(result.error ?? '', /Python interpreter not found/);
  assert.equal(existsSync(join(work, 'run-nopy')), false, 'a launch that never started left its run folder behind');
});

test('CLI: `fact-rlhf ppo` prints the final reward and the run folder; failures exit non-zero', () => {
  const cli = join(root, 'dist', 'cli.js');
  assert.ok(existsSync(cli), 'dist/cli.js is built (npm run build)');
  const runDir = join(work, 'cli-run');
  const ok = spawnSync(process.execPath, [cli, 'ppo', tinyConfig, '--run-dir', runDir], { encoding: 'utf8', cwd: root });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /status:\s+finished/);
  assert.match(ok.stdout, /final reward:\s+-?\d+\.\d+/);
  assert.ok(ok.stdout.includes(runDir), 'prints where the run folder is');
  validateEventLines(runDir);

  const bad = join(work, 'cli-bad.rlhf.yaml');
  writeFileSync(bad, 'model:\n  policy: builtin:tiny-llava\nppo:\n  rollout_batch_size: many\n');
  const failed = spawnSync(process.execPath, [cli, 'ppo', bad, '--run-dir', join(work, 'cli-bad')], { encoding: 'utf8', cwd: root });
  assert.equal(failed.status, 1);
  assert.match(failed.stderr, /ppo\.rollout_batch_size/);
});
