// `fact-rlhf runs`, `resume` and `launch-script` on run folders the REAL trainer made (the tiny
// built-in world): a stopped run is listed with its checkpoint, resumed to finished with its metrics
// continuing from the checkpoint step, and a launch script for a config in a folder named with
// `$(…)` and `;` hands torchrun the exact paths without executing anything.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RunManager } from '../../src/runs/runManager';
import { venvPython } from '../../src/runs/pythonResolver';
import type { RunEvent } from '../../src/protocol';

const ROOT = resolve(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const work = mkdtempSync(join(tmpdir(), 'fact-rlhf-runs-cli-'));
const out = join(work, 'runs');
const runDir = join(out, 'tiny-fast-ppo-20260101-000000');

before(() => {
  const build = spawnSync(process.execPath, ['scripts/build.mjs', '--only=src/cli'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(build.status, 0, `build failed: ${build.stderr}`);
});
after(() => rmSync(work, { recursive: true, force: true }));

function cli(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const res = spawnSync(process.execPath, [CLI, ...args], {
    cwd: work,
    env: { ...process.env, FACT_RLHF_PYTHON: venvPython(ROOT), ...env },
    encoding: 'utf8',
    timeout: 300_000,
  });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

function events(dir: string): RunEvent[] {
  return readFileSync(join(dir, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as RunEvent);
}

test('a stopped real run: listed with status, stage, progress, headline and checkpoint; resumed to finished from its checkpoint', async () => {
  const handle = new RunManager().start({
    stage: 'ppo',
    configPath: join(ROOT, 'test', 'fixtures', 'tiny-fast.rlhf.yaml'),
    python: venvPython(ROOT),
    trainerRoot: join(ROOT, 'trainer'),
    schemaDir: join(ROOT, 'schema'),
    runDir,
    pollMs: 50,
  });
  // Stop once a periodic checkpoint exists (save_every 4 of 8 iterations).
  await new Promise<void>((res) => handle.on('events', (es) => es.some((e) => e.type === 'checkpoint') && res()));
  const stopped = await handle.stop();
  assert.equal(stopped.status, 'stopped', stopped.error);

  const listed = cli(['runs', out, '--json']);
  assert.equal(listed.status, 0, listed.stderr);
  const rows = JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
  assert.equal(rows.length, 1);
  const row = rows[0] as {
    id: string;
    stage: string;
    status: string;
    live: boolean;
    progress: { step: number; total: number };
    headline: { label: string; value: number };
    checkpoint: string;
  };
  assert.equal(row.id, 'tiny-fast-ppo-20260101-000000');
  assert.equal(row.stage, 'ppo');
  assert.equal(row.status, 'stopped');
  assert.equal(row.live, false);
  assert.equal(row.progress.total, 8);
  assert.ok(row.progress.step >= 1 && row.progress.step < 8, `stopped part-way: ${JSON.stringify(row.progress)}`);
  assert.equal(row.headline.label, 'reward');
  assert.equal(typeof row.headline.value, 'number');
  assert.match(row.checkpoint, /^step-\d+$/);
  const checkpointStep = Number(row.checkpoint.slice('step-'.length));

  // The same given the run folder itself, as a table (health alarms, if any, as `!N` and a line each).
  const table = cli(['runs', runDir]);
  assert.equal(table.status, 0, table.stderr);
  assert.match(table.stdout, /^RUN\s+STAGE\s+STATUS\s+PROGRESS\s+HEADLINE\s+AGE\n/);
  assert.match(table.stdout, /tiny-fast-ppo-20260101-000000\s+ppo\s+stopped( !\d+)?\s+\d+\/8 \(\d+%\)\s+reward -?\d/);

  const before = events(runDir).length;
  const resumed = cli(['resume', runDir]);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`resuming ${runDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} from checkpoint ${row.checkpoint}`));
  assert.match(resumed.stdout, /status:\s+finished/);
  const after = events(runDir).slice(before);
  const metricSteps = after.filter((e) => e.type === 'metric').map((e) => (e.type === 'metric' ? e.step : -1));
  assert.ok(metricSteps.length > 0, 'the resumed launch trained');
  // Steps count iterations from 1; checkpoint step-N holds N of them, so the resumed launch's first is N + 1.
  const firstSteps = events(runDir)
    .slice(0, before)
    .filter((e) => e.type === 'metric')
    .map((e) => (e.type === 'metric' ? e.step : -1));
  assert.equal(Math.max(...firstSteps), checkpointStep, 'the stop checkpointed its last step');
  assert.equal(
    metricSteps[0],
    checkpointStep + 1,
    `metrics continue from the checkpoint step (${checkpointStep}), not from the start: ${metricSteps.join(',')}`,
  );
  assert.equal(Math.max(...metricSteps), 8, 'and run to the last of the 8 iterations');
  const final = cli(['runs', out, '--json']);
  assert.equal((JSON.parse(final.stdout) as Array<{ status: string }>)[0].status, 'finished');
});

test('resume refuses what it cannot continue, before starting anything', () => {
  const notRun = join(work, 'not-a-run');
  mkdirSync(notRun, { recursive: true });
  const r = cli(['resume', notRun]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /is not a run folder/);
  assert.equal(cli(['resume']).status, 2);
  assert.equal(cli(['runs', join(work, 'nowhere')]).status, 2);
});

test('launch-script: a config in a folder named with $(…) and ; — the script runs, torchrun gets the exact paths, nothing is executed', () => {
  const evil = join(work, 'lab $(touch PWNED); `touch PWNED2`');
  mkdirSync(evil, { recursive: true });
  const config = join(evil, 'exp;1.rlhf.yaml');
  writeFileSync(
    config,
    `extends: ${JSON.stringify(join(ROOT, 'test', 'fixtures', 'tiny-fast.rlhf.yaml'))}\nname: exp\noutput_dir: out $(id)\nlaunch:\n  gpus: 3\n`,
  );
  const stubBin = join(work, 'stub-bin');
  mkdirSync(stubBin, { recursive: true });
  writeFileSync(join(stubBin, 'torchrun'), '#!/bin/sh\nprintf \'%s\\0\' "$@" > "$STUB_ARGV"\n', { mode: 0o755 });

  // The interpreter's folder goes first on PATH (its torchrun): here the stub's folder.
  writeFileSync(join(stubBin, 'python'), '#!/bin/sh\nexit 9\n', { mode: 0o755 });
  const res = cli(['launch-script', config, '--backend', 'torchrun', '--python', join(stubBin, 'python')]);
  assert.equal(res.status, 0, res.stderr);
  const script = join(work, 'launch.sh');
  writeFileSync(script, res.stdout);
  const argvFile = join(work, 'argv');
  const ran = spawnSync('bash', [script], {
    cwd: work,
    encoding: 'utf8',
    env: { ...process.env, PATH: `${stubBin}:/usr/bin:/bin`, STUB_ARGV: argvFile },
  });
  assert.equal(ran.status, 0, ran.stderr);
  const argv = readFileSync(argvFile, 'utf8').split('\0').slice(0, -1);
  assert.equal(argv[1], '--nproc_per_node=3', "GPUs from the config's launch.gpus");
  assert.deepEqual(argv.slice(2, 6), ['-m', 'fact_rlhf', 'ppo', '--config']);
  assert.equal(argv[6], config);
  assert.equal(argv[7], '--run-dir');
  assert.match(argv[8], new RegExp(`^${join(evil, 'out $(id)', 'exp-ppo-').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\d`));
  for (const where of [work, evil])
    assert.ok(!existsSync(join(where, 'PWNED')) && !existsSync(join(where, 'PWNED2')), `nothing executed in ${where}`);

  const slurm = cli(['launch-script', config, '--backend', 'slurm', '--gpus', '2']);
  assert.equal(slurm.status, 0, slurm.stderr);
  assert.match(
    slurm.stdout,
    /^#!\/bin\/bash\n#SBATCH --job-name=fact-rlhf-ppo\n#SBATCH --nodes=1\n#SBATCH --ntasks-per-node=1\n#SBATCH --gpus-per-node=2\n/,
  );
  assert.equal(cli(['launch-script', config, '--backend', 'ray']).status, 2);
  assert.equal(cli(['launch-script', config, '--backend', 'torchrun', '--gpus', '0']).status, 2);
});
