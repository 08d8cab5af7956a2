// Faults of the run machinery found by the audit (issue 16), each reproduced for real: run folders as a
// crashed or resumed trainer leaves them, real processes standing in for a reused pid, a trainer that
// ignores SIGTERM, and the real trainer outliving the process that launched it.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { RunManager, type RunHandle, type RunResult, type StartOptions } from '../../src/runs/runManager';
import { venvPython } from '../../src/runs/pythonResolver';
import { processStartTime } from '../../src/runs/launchIdentity';
import type { RunEvent, RunManifest } from '../../src/protocol';

const root = join(__dirname, '..', '..');
const fastConfig = join(root, 'test', 'fixtures', 'tiny-fast.rlhf.yaml');
const work = mkdtempSync(join(tmpdir(), 'fact-rlhf-faults-'));
test.after(() => rmSync(work, { recursive: true, force: true }));
const linux = process.platform === 'linux';

const ev = (e: Record<string, unknown>): string => JSON.stringify({ v: 1, t: 1_700_000_000, ...e });
const statusLine = (status: string, extra: Record<string, unknown> = {}): string => ev({ type: 'status', status, ...extra });
const metricLine = (step: number): string => ev({ type: 'metric', step, values: { 'ppo/reward_total': step / 10 } });

/** A run folder as a trainer leaves it: run.json (schema-valid) and events.jsonl. */
function runFolder(name: string, manifest: Partial<RunManifest>, events: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const full: RunManifest = {
    id: name,
    stage: 'ppo',
    config: {},
    config_hash: 'x',
    host: hostname(),
    pids: [],
    world_size: 1,
    started: 1_700_000_000,
    status: 'running',
    protocol_version: 1,
    ...manifest,
  };
  writeFileSync(join(dir, 'run.json'), JSON.stringify(full));
  writeFileSync(join(dir, 'events.jsonl'), events);
  return dir;
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn('true', [], { stdio: 'ignore' });
  await new Promise((r) => child.once('exit', r));
  return child.pid!;
}

/** A live process unrelated to any run, in its own process group (as a trainer would be). */
async function bystander(): Promise<ChildProcess> {
  const child = spawn('sleep', ['60'], { stdio: 'ignore', detached: true });
  await new Promise((r) => child.once('spawn', r));
  return child;
}

const exited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null;

async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  return Promise.race([promise, delay(ms).then(() => 'timeout' as const)]);
}

test('High 1: attach() to a run whose trainer is dead settles with what the events say (no stack overflow)', async () => {
  const pid = await deadPid();
  const launches = [{ host: hostname(), pid, start_time: 1 }];
  const finished = runFolder(
    'dead-finished',
    { pids: [pid], launches },
    `${statusLine('starting')}\n${statusLine('running')}\n${metricLine(0)}\n${statusLine('finished')}`,
  );
  const manager = new RunManager();
  const handle = manager.attach(finished, 20);
  const result = await within(handle.done, 5000);
  assert.notEqual(result, 'timeout', 'the handle settles');
  assert.equal((result as RunResult).status, 'finished', 'the last line (no newline: the trainer is gone) counts');
  assert.equal(handle.status, 'finished');

  const crashed = runFolder(
    'dead-crashed',
    { pids: [pid], launches },
    `${statusLine('starting')}\n${statusLine('running')}\n${metricLine(0)}\n`,
  );
  const other = manager.attach(crashed, 20);
  const r2 = (await within(other.done, 5000)) as RunResult;
  assert.equal(r2.status, 'failed', 'no final status and no trainer: failed, not running forever');
  assert.match(r2.error ?? '', /without writing a final status|exited/);
  const last = readFileSync(join(crashed, 'events.jsonl'), 'utf8').trim().split('\n').pop()!;
  assert.equal(JSON.parse(last).status, 'failed', 'recorded, so the next reload does not re-attach it');
});

test("High 2: Stop does not signal a live process that merely reuses the trainer's pid", { skip: !linux }, async () => {
  const other = await bystander();
  try {
    const pid = other.pid!;
    const launches = [{ host: hostname(), pid, start_time: processStartTime(pid)! - 100 }]; // the trainer started earlier
    const dir = runFolder('pid-reused', { pids: [pid], launches }, `${statusLine('starting')}\n${statusLine('running')}\n`);
    const handle = new RunManager().attach(dir, 20);
    const result = await within(handle.stop(), 5000);
    await delay(200);
    assert.equal(exited(other), false, 'the unrelated process was not signalled');
    assert.notEqual(result, 'timeout');
    assert.ok(['stopped', 'failed'].includes((result as RunResult).status), 'its trainer is gone: the handle ends');
  } finally {
    other.kill('SIGKILL');
  }
});

test('High 2: after a --resume, Stop signals the latest launch (the live trainer), not the first', { skip: !linux }, async () => {
  const current = await bystander(); // stands in for the resumed trainer: it must receive SIGTERM
  try {
    const old = await deadPid();
    const launches = [
      { host: hostname(), pid: old, start_time: 1 },
      { host: hostname(), pid: current.pid!, start_time: processStartTime(current.pid!) },
    ];
    const dir = runFolder(
      'resumed',
      { pids: [old, current.pid!], launches },
      `${statusLine('starting')}\n${statusLine('stopped')}\n${statusLine('starting')}\n${statusLine('running')}\n`,
    );
    const handle = new RunManager().attach(dir, 20);
    await handle.poll();
    assert.equal(handle.pid, current.pid);
    const result = await within(handle.stop(), 5000);
    assert.notEqual(result, 'timeout', 'the live trainer got the signal and the handle settled');
    assert.equal(current.signalCode, 'SIGTERM');
  } finally {
    current.kill('SIGKILL');
  }
});

// NEVER run this test against a run manager without the pid >= 2 rule: signalling the group of pid 1
// is kill(-1), which reaches every process of the user.
test('High 2: a run.json naming pid 0, 1 or -1 is never signalled', async () => {
  for (const pid of [0, 1, -1]) {
    const dir = runFolder(
      `pid-${pid}`,
      { pids: [pid], launches: [{ host: hostname(), pid, start_time: 1 }] },
      `${statusLine('running')}\n`,
    );
    const handle = new RunManager().attach(dir, 20);
    const result = (await within(handle.stop(), 5000)) as RunResult;
    assert.equal(result.status, 'stopped', `pid ${pid}: nothing signalled, the handle ends`);
  }
  assert.ok(true, 'this process (and every other of this user) is still alive');
});

/** A stand-in trainer package: writes its statuses, then ignores SIGTERM in a long "iteration". */
function stubbornTrainer(): string {
  const dir = join(work, 'stubborn-trainer');
  mkdirSync(join(dir, 'fact_rlhf'), { recursive: true });
  writeFileSync(join(dir, 'fact_rlhf', '__init__.py'), '');
  writeFileSync(
    join(dir, 'fact_rlhf', '__main__.py'),
    [
      'import json, os, signal, sys, time',
      'signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a 7B iteration that takes minutes',
      'run_dir = sys.argv[sys.argv.index("--run-dir") + 1]',
      'def emit(**e):',
      '    with open(os.path.join(run_dir, "events.jsonl"), "a") as f:',
      '        f.write(json.dumps({"v": 1, "t": time.time(), **e}) + "\\n")',
      'emit(type="status", status="starting")',
      'emit(type="status", status="running")',
      'print("in a long iteration", file=sys.stderr, flush=True)',
      'time.sleep(60)',
    ].join('\n'),
  );
  return dir;
}

function stubOptions(name: string, extra: Partial<StartOptions> = {}): StartOptions {
  return {
    stage: 'ppo',
    configPath: fastConfig,
    python: venvPython(root),
    trainerRoot: stubbornTrainer(),
    schemaDir: join(root, 'schema'),
    runDir: join(work, name),
    pollMs: 20,
    ...extra,
  };
}

const untilStatus = (handle: RunHandle, status: string): Promise<void> =>
  new Promise((resolve) => handle.on('events', (events) => events.some((e) => e.type === 'status' && e.status === status) && resolve()));

test('High 5: the grace period before SIGKILL is an option, and a killed trainer is not reported as stopped', async () => {
  const manager = new RunManager({ stopGraceMs: 300 });
  const handle = manager.start(stubOptions('stubborn'));
  assert.equal(handle.stopGraceMs, 300);
  await untilStatus(handle, 'running');
  const started = Date.now();
  const result = await handle.stop();
  assert.ok(Date.now() - started < 10_000, 'killed after the grace period, not after 30 s');
  assert.equal(result.status, 'failed');
  assert.match(result.error ?? '', /did not stop within the 0\.3 s grace period.*SIGKILL/);
  const last = JSON.parse(readFileSync(join(result.runDir, 'events.jsonl'), 'utf8').trim().split('\n').pop()!);
  assert.equal(last.status, 'failed', 'the run folder says so too');
  const byDefault = new RunManager().start(stubOptions('stubborn-default'));
  assert.equal(byDefault.stopGraceMs, 30_000, "today's default");
  const perRun = new RunManager({ stopGraceMs: 5000 }).start(stubOptions('stubborn-per-run', { stopTimeoutMs: 200 }));
  assert.equal(perRun.stopGraceMs, 200, 'a run may set its own');
  for (const h of [byDefault, perRun]) {
    await untilStatus(h, 'running');
    process.kill(-h.pid!, 'SIGKILL');
    await h.done;
  }
});

test("second pass: a --resume that never starts is not reported as the earlier launch's result", async () => {
  const events = `${statusLine('starting')}\n${metricLine(0)}\n${statusLine('finished')}\n`;
  const dir = runFolder('resume-nopy', { status: 'finished' }, events);
  const handle = new RunManager().start(stubOptions('resume-nopy', { runDir: dir, resume: true, python: join(work, 'no-such-python') }));
  const result = await handle.done;
  assert.equal(result.status, 'failed');
  assert.match(result.error ?? '', /Python interpreter not found/);
  assert.equal(readFileSync(join(dir, 'events.jsonl'), 'utf8'), events, "the finished run's record is left as it was");
  const replayed: RunEvent[] = [];
  handle.on('events', (e) => replayed.push(...e));
  assert.equal(replayed.length, 3, "the earlier launch's events are still history for the views");
});

test('second pass: a listener added after the log was read gets its history (51 events, not 1)', async () => {
  const lines = [
    statusLine('starting'),
    statusLine('running'),
    ...Array.from({ length: 48 }, (_, i) => metricLine(i)),
    statusLine('finished'),
  ];
  const dir = runFolder('history', {}, `${lines.join('\n')}\n`);
  const handle = new RunManager().attach(dir, 20);
  await within(handle.done, 3000);
  await handle.poll();
  const got: RunEvent[] = [];
  let batches = 0;
  handle.on('events', (events) => {
    batches++;
    got.push(...events);
  });
  assert.equal(got.length, 51);
  assert.equal(batches, 1, 'in one batch');
  const once: RunEvent[][] = [];
  handle.once('events', (events) => once.push(events));
  assert.equal(once.length, 1, 'once() listeners get the history as their one call');
});

test('Medium 11: a handle tells its listeners when events.jsonl is replaced, then delivers the new file', async () => {
  const dir = runFolder('replaced', {}, `${statusLine('starting')}\n${metricLine(0)}\n${metricLine(1)}\n`);
  const handle = new RunManager().attach(dir, 10_000); // polled by hand below
  await handle.poll();
  const seen: string[] = [];
  handle.on('reset', () => seen.push('reset'));
  handle.on('events', (events) => seen.push(...events.map((e) => (e.type === 'metric' ? `m${e.step}` : e.type))));
  assert.deepEqual(seen, ['status', 'm0', 'm1'], 'history first');
  const next = join(dir, 'events.jsonl.new');
  writeFileSync(next, `${statusLine('starting', { t: 2 })}\n${[10, 11, 12].map(metricLine).join('\n')}\n${statusLine('finished')}\n`);
  renameSync(next, join(dir, 'events.jsonl'));
  await handle.poll();
  assert.deepEqual(seen.slice(3), ['reset', 'status', 'm10', 'm11', 'm12', 'status']);
  const late: RunEvent[] = [];
  handle.on('events', (events) => late.push(...events));
  assert.equal(late.length, 5, 'the history a late listener gets is the new file only');
  assert.equal(((await within(handle.done, 3000)) as RunResult).status, 'finished');
});

test('Medium 13: attaching to a large finished run delivers its events in slices as they are read', async () => {
  const lines = [statusLine('starting'), ...Array.from({ length: 80_000 }, (_, i) => metricLine(i)), statusLine('finished')];
  const dir = runFolder('large', {}, `${lines.join('\n')}\n`);
  const handle = new RunManager().attach(dir, 20);
  let batches = 0;
  let total = 0;
  handle.on('events', (events) => {
    batches++;
    total += events.length;
  });
  const result = (await within(handle.done, 20_000)) as RunResult;
  assert.equal(total, 80_002);
  assert.ok(batches >= 3, `several batches, each after a slice (${batches})`);
  assert.equal(result.status, 'finished');
});

test('second pass: the real trainer survives the death of the process that launched it, and is re-attached', async () => {
  // A stand-in extension host: launches the run, reports it, then is killed like a reloaded window.
  const host = join(work, 'host.ts');
  writeFileSync(
    host,
    [
      `import { RunManager } from ${JSON.stringify(join(root, 'src', 'runs', 'runManager.ts'))};`,
      `const handle = new RunManager().start({ stage: 'ppo', configPath: ${JSON.stringify(fastConfig)}, python: ${JSON.stringify(venvPython(root))},`,
      `  trainerRoot: ${JSON.stringify(join(root, 'trainer'))}, schemaDir: ${JSON.stringify(join(root, 'schema'))}, runDir: ${JSON.stringify(join(work, 'reload'))}, pollMs: 50 });`,
      `handle.on('events', (events) => { if (events.some((e) => e.type === 'metric')) console.log(JSON.stringify({ pid: handle.pid, nonce: handle.nonce })); });`,
    ].join('\n'),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', host], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const first = await new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8');
    child.stdout.once('data', (d: string) => resolve(d.split('\n')[0]));
    child.once('exit', (code) => reject(new Error(`host exited (${code}) before the first metric`)));
  });
  const { pid, nonce } = JSON.parse(first) as { pid: number; nonce: string };
  child.kill('SIGKILL'); // the window goes away mid-run
  await new Promise((r) => child.once('exit', r));
  const startTime = linux ? processStartTime(pid) : undefined; // read while the trainer runs

  const runDir = join(work, 'reload');
  const handle = new RunManager().attach(runDir, 50);
  let metrics = 0;
  handle.on('events', (events) => (metrics += events.filter((e) => e.type === 'metric').length));
  const result = await handle.done;
  assert.equal(result.status, 'finished', result.error);
  assert.ok(metrics >= 8, `the re-attached handle has every metric, history included (${metrics})`);
  assert.equal(JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')).status, 'finished');
  assert.ok(existsSync(join(runDir, 'trainer.log')), "the trainer's output went to a file in the run folder");
  assert.match(readFileSync(join(runDir, 'trainer.log'), 'utf8'), /\[fact-rlhf\] ppo run/);
  const manifest = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunManifest;
  const launch = manifest.launches?.at(-1);
  assert.ok(launch, 'the trainer writes its launch identity into run.json');
  assert.equal(launch.pid, pid);
  assert.equal(launch.host, hostname());
  assert.equal(launch.nonce, nonce, 'the nonce it was launched with');
  if (linux) assert.equal(launch.start_time, startTime);
});
