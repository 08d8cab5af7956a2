// The stage commands of dist/cli.js (`fact-rlhf ppo|sft|rm|rl_init|eval CONFIG`) before they start
// the trainer (issue 15 items 7-10): a broken config is refused with every problem `validate`
// reports and nothing is created or started; `--resume` without `--run-dir` picks the newest run
// of the config with a checkpoint, or refuses; every command has its own --help.
// "Python" here is a shell script that records its arguments in a marker file: the marker proves
// whether the trainer would have been started.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const STAGES = ['sft', 'rm', 'rl_init', 'ppo', 'eval'];
let dir: string;
let fakePython: string;
let marker: string;

before(() => {
  const build = spawnSync(process.execPath, ['scripts/build.mjs', '--only=src/cli'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(build.status, 0, `build failed: ${build.stderr}`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fact-rlhf-stage-cli-'));
  marker = path.join(dir, 'python-started');
  fakePython = path.join(dir, 'fake-python.sh');
  fs.writeFileSync(fakePython, `#!/bin/sh\necho "$@" > '${marker}'\nexit 3\n`, { mode: 0o755 });
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): Result {
  const e: NodeJS.ProcessEnv = { ...process.env, FACT_RLHF_PYTHON: fakePython, ...env };
  delete e.FACT_RLHF_VERBOSE;
  const res = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, env: e, encoding: 'utf8', timeout: 30_000 });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

function started(): string | undefined {
  if (!fs.existsSync(marker)) return undefined;
  const args = fs.readFileSync(marker, 'utf8').trim();
  fs.rmSync(marker);
  return args;
}

// Four problems of different kinds (unknown key, wrong type, two batch splits) and a warning.
const BROKEN = [
  'version: 1',
  'name: broken',
  'output_dir: broken-runs',
  'data:',
  '  builtin: shapes',
  'ppo:',
  '  kl_coeff: 0.1',
  '  whiten: yes',
  '  correct_choice_bonus: -2',
  '  rollout_batch_size: 12',
  '  rollout_per_device_batch_size: 1',
  '  step_batch_size: 4',
  '  step_per_device_batch_size: 1',
  'launch:',
  '  gpus: 8',
  '  backend: torchrun',
  '',
].join('\n');

test("a broken config: every stage command refuses with all of validate's problems, creates no run folder, starts no Python", () => {
  const file = write('broken.rlhf.yaml', BROKEN);
  const validate = cli(['validate', 'broken.rlhf.yaml']);
  assert.equal(validate.status, 1);
  const problems = validate.stdout.trim().split('\n');
  assert.equal(problems.filter((l) => / error \[/.test(l)).length, 4, validate.stdout);
  assert.ok(
    problems.some((l) => /error \[batch-divisibility\]/.test(l)),
    'the problem the trainer misses is among them',
  );
  for (const stage of STAGES) {
    const res = cli([stage, 'broken.rlhf.yaml']);
    assert.equal(res.status, 1, `${stage}: ${res.stderr}`);
    const lines = res.stderr.trim().split('\n');
    // The same compiler-style lines as validate, in its order, then one line that says nothing ran.
    assert.deepEqual(lines.slice(0, -1), problems, stage);
    assert.match(lines[lines.length - 1], new RegExp(`^error: ${stage}: the config has 4 errors, 1 warning; nothing was started`));
    assert.equal(res.stdout, '', `${stage}: no run summary`);
    assert.equal(started(), undefined, `${stage}: Python was started`);
    assert.ok(!fs.existsSync(path.join(dir, 'broken-runs')), `${stage}: a run folder was created`);
  }
  // --python names the interpreter the same way; still nothing starts, and --run-dir is not created.
  const named = cli(['ppo', file, '--python', fakePython, '--run-dir', path.join(dir, 'named-run')], { FACT_RLHF_PYTHON: '' });
  assert.equal(named.status, 1);
  assert.equal(started(), undefined);
  assert.ok(!fs.existsSync(path.join(dir, 'named-run')));
});

test('warnings do not block: the trainer starts, and the warning is shown first', () => {
  write(
    'warned.rlhf.yaml',
    'version: 1\nname: warned\noutput_dir: warned-runs\ndata:\n  builtin: shapes\nppo:\n  correct_choice_bonus: -1\nlaunch:\n  device: cpu\n',
  );
  const res = cli(['ppo', 'warned.rlhf.yaml']);
  assert.match(res.stderr.split('\n')[0], /^warned\.rlhf\.yaml:7:3: warning \[reward-sign\]/);
  const args = started();
  assert.ok(args, `Python was not started: ${res.stderr}`);
  assert.match(args, /^-m fact_rlhf ppo --config .*warned\.rlhf\.yaml --run-dir .*warned-runs\/warned-ppo-\d{8}-\d{6}$/);
  assert.equal(res.status, 1, 'the fake trainer exits 3 without a status: a failed run');
});

test('a config with nothing to run is an error in validate and refused by the stage commands', () => {
  for (const [name, text] of [
    ['empty.rlhf.yaml', ''],
    ['version-only.rlhf.yaml', 'version: 1\n'],
  ]) {
    write(name, text);
    const v = cli(['validate', name]);
    assert.equal(v.status, 1, name);
    assert.match(
      v.stdout,
      new RegExp(
        `^${name.replace('.', '\\.')}:1:1: error \\[nothing-to-run\\] Nothing to run: the config names no data and no model\\. Set \`data\\.builtin: shapes\``,
      ),
      name,
    );
    const run = cli(['eval', name]);
    assert.equal(run.status, 1, name);
    assert.match(run.stderr, /error \[nothing-to-run\]/);
    assert.equal(started(), undefined);
    assert.ok(!fs.existsSync(path.join(dir, 'runs')), 'no run folder');
  }
});

function manifest(stage: string, started: number, configPath: string | null): string {
  return JSON.stringify({
    id: 'x',
    stage,
    config: {},
    config_path: configPath,
    config_hash: 'h',
    host: 'test',
    pids: [],
    world_size: 1,
    started,
    status: 'stopped',
    protocol_version: 1,
  });
}

/** A run folder with run.json, events.jsonl and, when `checkpoint` is given, checkpoints/latest → it. */
function fakeRun(folder: string, stage: string, started: number, configPath: string | null, checkpoint?: string): string {
  const runDir = path.join(dir, folder);
  fs.mkdirSync(runDir, { recursive: true });
  fs.writeFileSync(path.join(runDir, 'run.json'), manifest(stage, started, configPath));
  fs.writeFileSync(path.join(runDir, 'events.jsonl'), '');
  if (checkpoint) {
    fs.mkdirSync(path.join(runDir, 'checkpoints', checkpoint), { recursive: true });
    fs.writeFileSync(path.join(runDir, 'checkpoints', 'latest'), checkpoint);
  }
  return runDir;
}

test('--resume without --run-dir continues the newest run of this config and stage that has a checkpoint, and says which', () => {
  const config = write('resume/tiny.rlhf.yaml', 'version: 1\nname: tiny\ndata:\n  builtin: shapes\nlaunch:\n  device: cpu\n');
  // Nothing to resume yet: refused, no folder, no Python.
  const none = cli(['ppo', '--resume', 'resume/tiny.rlhf.yaml']);
  assert.equal(none.status, 2, none.stderr);
  assert.match(
    none.stderr,
    /--resume: no ppo run of tiny\.rlhf\.yaml with a checkpoint \(checkpoints\/latest\) under .*resume\/runs; start a new run without --resume, or name the run with --run-dir/,
  );
  assert.equal(started(), undefined);
  assert.ok(!fs.existsSync(path.join(dir, 'resume', 'runs')), 'no run folder');

  fakeRun('resume/runs/tiny-ppo-20260101-000000', 'ppo', 1000, config, 'step-2');
  const chosen = fakeRun('resume/runs/tiny-ppo-20260102-000000', 'ppo', 2000, config, 'step-4');
  fakeRun('resume/runs/tiny-ppo-20260103-000000', 'ppo', 3000, config); // newer, but no checkpoint yet
  fakeRun('resume/runs/tiny-sft-20260104-000000', 'sft', 4000, config, 'step-9'); // another stage
  fakeRun('resume/runs/tiny-ppo-big-ppo-20260105-000000', 'ppo', 5000, null, 'step-9'); // config "tiny-ppo-big"
  fakeRun('resume/runs/tiny-ppo-20260106-000000', 'ppo', 6000, path.join(dir, 'elsewhere', 'tiny.rlhf.yaml'), 'step-9'); // same name, other file
  const before = fs.readdirSync(path.join(dir, 'resume', 'runs')).sort();

  const res = cli(['ppo', '--resume', 'resume/tiny.rlhf.yaml']);
  assert.match(
    res.stderr,
    new RegExp(
      `fact-rlhf: resuming ${chosen}: the newest with a checkpoint \\(tiny-ppo-20260103-000000 is newer but has none\\) ppo run of tiny\\.rlhf\\.yaml, from checkpoint step-4`,
    ),
  );
  const args = started();
  assert.ok(args, res.stderr);
  assert.ok(args.endsWith(`--run-dir ${chosen} --resume`), args);
  assert.deepEqual(fs.readdirSync(path.join(dir, 'resume', 'runs')).sort(), before, 'no new run folder');

  // An sft resume picks the sft run; --output-dir points the search elsewhere (and finds nothing there).
  const sft = cli(['sft', '--resume', 'resume/tiny.rlhf.yaml']);
  assert.match(sft.stderr, /resuming .*tiny-sft-20260104-000000: the newest sft run of tiny\.rlhf\.yaml, from checkpoint step-9/);
  assert.ok(started()?.endsWith('--resume'));
  const other = cli(['ppo', '--resume', '--output-dir', path.join(dir, 'empty-out'), 'resume/tiny.rlhf.yaml']);
  assert.equal(other.status, 2);
  assert.match(other.stderr, /under .*empty-out;/);
  assert.equal(started(), undefined);
});

test('--resume with --run-dir: the folder must be a run of that stage with a checkpoint; nothing is created otherwise', () => {
  write('explicit/x.rlhf.yaml', 'version: 1\nname: x\ndata:\n  builtin: shapes\nlaunch:\n  device: cpu\n');
  const missing = path.join(dir, 'explicit', 'no-such-run');
  const a = cli(['ppo', '--resume', '--run-dir', missing, 'explicit/x.rlhf.yaml']);
  assert.equal(a.status, 2);
  assert.match(a.stderr, /--resume: .*no-such-run is not a run folder \(no run\.json\)/);
  assert.ok(!fs.existsSync(missing), 'the named folder was created');
  const bare = fakeRun('explicit/runs/x-ppo-20260101-000000', 'ppo', 1000, null);
  const b = cli(['ppo', '--resume', '--run-dir', bare, 'explicit/x.rlhf.yaml']);
  assert.equal(b.status, 2);
  assert.match(b.stderr, /has no checkpoint \(checkpoints\/latest\) to continue from/);
  const c = cli(['rm', '--resume', '--run-dir', bare, 'explicit/x.rlhf.yaml']);
  assert.match(c.stderr, /is a ppo run, not a rm run/);
  assert.equal(started(), undefined);
  const ev = cli(['eval', '--resume', 'explicit/x.rlhf.yaml']);
  assert.equal(ev.status, 2);
  assert.match(ev.stderr, /an eval run has no checkpoint to continue from/);
  const ready = fakeRun('explicit/runs/x-ppo-20260102-000000', 'ppo', 2000, null, 'step-1');
  const d = cli(['ppo', '--resume', '--run-dir', ready, 'explicit/x.rlhf.yaml']);
  assert.match(d.stderr, /fact-rlhf: resuming .*x-ppo-20260102-000000 from checkpoint step-1/);
  assert.ok(started()?.endsWith(`--run-dir ${ready} --resume`));
});

test("every command has its own --help; eval's says which checkpoint it evaluates and how to choose one", () => {
  for (const command of [...STAGES, 'validate']) {
    for (const flag of ['--help', '-h']) {
      const res = cli([command, flag]);
      assert.equal(res.status, 0, `${command} ${flag}: ${res.stderr}`);
      assert.match(res.stdout, new RegExp(`^usage: fact-rlhf ${command} `), command);
      assert.match(res.stdout, /\nreads:\n/, command);
      assert.match(res.stdout, /\nwrites/, command);
    }
    assert.equal(cli(['help', command]).stdout, cli([command, '--help']).stdout, `help ${command}`);
  }
  assert.equal(started(), undefined, 'help starts nothing');
  const evalHelp = cli(['eval', '--help']).stdout;
  assert.match(evalHelp, /eval\.checkpoint +the model to evaluate/);
  // Issue 15 item 13: unset, the newest finished policy run; a random built-in model only when asked.
  assert.match(evalHelp, /Unset: the newest finished policy run with\n +a checkpoint under output_dir — ppo, else rl_init, else sft/);
  assert.match(
    evalHelp,
    /builtin:tiny-llava \(a randomly initialised\n +model\): that is refused unless eval\.allow_random: true or --allow-random/,
  );
  assert.match(evalHelp, /a ppo, sft or rl_init run folder: its latest checkpoint \(checkpoints\/latest\)/);
  assert.match(evalHelp, /<run folder>\/checkpoints\/step-N/);
  assert.match(evalHelp, /results\.json/);
  assert.match(cli(['ppo', '--help']).stdout, /--resume +continue a run from its latest checkpoint/);
  // The top-level help lists every command and points at the per-command help.
  const top = cli(['--help']);
  assert.equal(top.status, 0);
  for (const command of [...STAGES, 'validate']) assert.match(top.stdout, new RegExp(`\\n  ${command} `), command);
  assert.match(top.stdout, /fact-rlhf COMMAND --help/);
});

test('eval with no checkpoint named evaluates the newest finished ppo (else rl_init, else sft) run and says which; a random model only with --allow-random', () => {
  write('evaldef/e.rlhf.yaml', 'version: 1\nname: e\ndata:\n  builtin: shapes\nlaunch:\n  device: cpu\n');
  const finished = (folder: string, stage: string, at: number, checkpoint?: string): string => {
    const runDir = fakeRun(folder, stage, at, null, checkpoint);
    const m = JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(path.join(runDir, 'run.json'), JSON.stringify({ ...m, status: 'finished', config: { name: 'other' } }));
    return runDir;
  };
  // Nothing trained: refused before anything exists, with the ways on.
  const none = cli(['eval', 'evaldef/e.rlhf.yaml']);
  assert.equal(none.status, 2, none.stderr);
  assert.match(
    none.stderr,
    /error: eval: nothing trained to evaluate: eval\.checkpoint is unset, no finished policy run \(ppo, rl_init, sft\)/,
  );
  assert.match(none.stderr, /eval\.allow_random: true \(fact-rlhf eval --allow-random\)/);
  assert.equal(started(), undefined);
  assert.ok(!fs.existsSync(path.join(dir, 'evaldef', 'runs')), 'no run folder');
  // --allow-random: the trainer is started with the flag, and the line says it is a smoke test.
  const random = cli(['eval', '--allow-random', '--run-dir', path.join(dir, 'evaldef', 'scratch', 'r'), 'evaldef/e.rlhf.yaml']);
  assert.match(random.stderr, /fact-rlhf: evaluating builtin:tiny-llava at random initialisation \(eval\.allow_random\)/);
  assert.match(started() ?? '', /--allow-random$/);
  // sft, then rl_init, then ppo runs appear: each outranks the one before, the newest of a stage wins.
  const sft = finished('evaldef/runs/a-sft-1', 'sft', 3000, 'step-2');
  finished('evaldef/runs/a-ppo-0', 'ppo', 4000); // finished without a checkpoint: not a candidate
  const pick = (): string => {
    const res = cli(['eval', 'evaldef/e.rlhf.yaml']);
    const args = started();
    assert.ok(args, `Python was not started: ${res.stderr}`);
    const chosen = /--checkpoint (\S+)/.exec(args)?.[1];
    assert.ok(chosen, args);
    assert.match(
      res.stderr,
      new RegExp(
        `fact-rlhf: evaluating ${chosen.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(checkpoint step-\\d\\): the newest finished \\w+ run under`,
      ),
    );
    return chosen;
  };
  assert.equal(pick(), sft);
  const rlInit = finished('evaldef/runs/a-rl_init-1', 'rl_init', 1000, 'step-1');
  assert.equal(pick(), rlInit);
  finished('evaldef/runs/a-ppo-1', 'ppo', 1500, 'step-1');
  const newest = finished('evaldef/runs/a-ppo-2', 'ppo', 2000, 'step-3');
  assert.equal(pick(), newest);
  // eval.checkpoint and --checkpoint still choose.
  const own = cli(['eval', '--checkpoint', sft, 'evaldef/e.rlhf.yaml']);
  assert.match(own.stderr, /\(chosen for this run\)/);
  assert.ok(started()?.includes(`--checkpoint ${sft}`));
  assert.match(cli(['ppo', '--allow-random', 'evaldef/e.rlhf.yaml']).stderr, /unknown option --allow-random/);
});
