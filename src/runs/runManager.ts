// Launches the Python trainer, watches its run directory and stops it. No `vscode` import: the CLI,
// the extension and the tests all drive runs through this module.
//
// The trainer is detached from whoever launched it: its own process group, and stdout/stderr going
// to trainer.log in the run folder (not pipes), so it survives a window reload and a new window
// re-attaches to the same files.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdirSync, appendFileSync, openSync, readSync, closeSync, fstatSync, statSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, delimiter, join, resolve } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { RunEvent, RunManifest, RunStatus, Stage } from '../protocol';
import { PROTOCOL_VERSION, TERMINAL_STATUSES } from '../protocol';
import { EventFileReader, type CorruptLine, type ReadResult } from './eventReader';
import { LAUNCH_NONCE_ENV, checkLaunch, isAlive, latestLaunch, type LaunchCheck } from './launchIdentity';
import { eventsPath, readManifest, trainerLogPath } from './runDirectory';
import { defaultRunDirectory } from './runNaming';

export interface StartOptions {
  stage: Stage;
  configPath: string;
  python: string;
  /** Folder holding the `fact_rlhf` package (the repo's or the extension's `trainer/`). */
  trainerRoot: string;
  /** Folder of the JSON Schemas the trainer validates against. */
  schemaDir: string;
  runDir?: string;
  outputDir?: string;
  resume?: boolean;
  /** `eval` only: the model to evaluate (the trainer's --checkpoint, over eval.checkpoint). */
  evalCheckpoint?: string;
  /** `eval` only: a random `builtin:` model may be evaluated (--allow-random). */
  allowRandom?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Run under torchrun with this many processes on this node (the launch panel's torchrun backend). */
  torchrunProcesses?: number;
  pollMs?: number;
  /** Grace period between SIGTERM and SIGKILL for this run (default: the manager's stopGraceMs). */
  stopTimeoutMs?: number;
}

export interface RunManagerOptions {
  /** How long a stopping trainer may take to checkpoint and exit before SIGKILL (default 30 s). */
  stopGraceMs?: number;
}

export interface AttachOptions {
  /** The nonce this editor launched the run with (identifies it where there is no /proc). */
  nonce?: string;
}

export const DEFAULT_STOP_GRACE_MS = 30_000;

export interface RunResult {
  runId: string;
  runDir: string;
  status: Exclude<RunStatus, 'starting' | 'running'>;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The trainer's own error text when failed. */
  error?: string;
}

export interface RunHandleEvents {
  /** New events; a listener added later first receives everything read so far, in one batch. */
  events: [RunEvent[]];
  corrupt: [CorruptLine[]];
  output: [string];
  status: [RunStatus];
  exit: [RunResult];
  /** events.jsonl was replaced or rewritten: what was delivered before is void; events restart. */
  reset: [];
}

/** @internal How a handle came to be (set by RunManager). */
export interface RunHandleSetup {
  /** Bytes of events.jsonl written by earlier launches: their statuses are not this launch's. */
  historyEnd?: number;
  /** Where this launch's output starts in trainer.log. */
  logStart?: number;
  nonce?: string;
}

type HandleListener<K> = K extends keyof RunHandleEvents
  ? RunHandleEvents[K] extends unknown[]
    ? (...args: RunHandleEvents[K]) => void
    : never
  : never;

const STDERR_TAIL_BYTES = 16 * 1024;
const LOG_BYTES_PER_POLL = 1024 * 1024;

/** A run being watched: launched by us (has a child process) or re-attached after a reload. */
export class RunHandle extends EventEmitter<RunHandleEvents> {
  readonly reader: EventFileReader;
  status: RunStatus = 'starting';
  lastError: string | undefined;
  /** Why the last stop() sent no signal (the process could not be confirmed as the trainer). */
  stopRefusal: string | undefined;
  readonly done: Promise<RunResult>;
  /** The nonce passed to this launch (FACT_RLHF_LAUNCH_NONCE); remember it to re-attach elsewhere. */
  readonly nonce: string | undefined;
  private resolveDone!: (r: RunResult) => void;
  private timer: NodeJS.Timeout | undefined;
  private killer: NodeJS.Timeout | undefined;
  private stderrTail = '';
  private stopRequested = false;
  private killedAfterGrace = false;
  private settling = false;
  private finished = false;
  private reading: Promise<void> | undefined;
  /** Every event read so far, replayed to listeners that arrive late (cleared on a reset). */
  private history: RunEvent[] = [];
  private historyEnd: number;
  private historyRead: boolean;
  private logOffset: number;
  private readonly logDecoder = new StringDecoder('utf8');
  private logLine = '';
  private sawTerminal = false;
  /** Set by the manager when it created the run folder for this launch. */
  createdRunDir = false;

  constructor(
    readonly runId: string,
    readonly runDir: string,
    private readonly child: ChildProcess | undefined,
    private readonly pollMs: number,
    private readonly stopTimeoutMs: number,
    private readonly pids: number[] = [],
    setup: RunHandleSetup = {},
  ) {
    super();
    this.reader = new EventFileReader(eventsPath(runDir));
    this.done = new Promise((r) => (this.resolveDone = r));
    this.historyEnd = setup.historyEnd ?? 0;
    this.historyRead = this.historyEnd === 0;
    this.logOffset = setup.logStart ?? 0;
    this.nonce = setup.nonce;
  }

  get pid(): number | undefined {
    return this.child?.pid ?? latestLaunch(this.manifest())?.pid ?? this.pids[this.pids.length - 1];
  }

  /** The grace period between SIGTERM and SIGKILL. */
  get stopGraceMs(): number {
    return this.stopTimeoutMs;
  }

  // Late listeners first get the history (so a view attached after the first read misses nothing);
  // `once` goes through `on` too, so it is served by the replay alone.
  override on<K>(eventName: keyof RunHandleEvents | K, listener: HandleListener<K>): this {
    super.on(eventName, listener);
    if (eventName === 'events' && this.history.length) (listener as unknown as (events: RunEvent[]) => void)(this.history.slice());
    return this;
  }

  override addListener<K>(eventName: keyof RunHandleEvents | K, listener: HandleListener<K>): this {
    return this.on(eventName, listener);
  }

  /** @internal */
  begin(): void {
    this.timer = setInterval(() => void this.poll(), this.pollMs);
    if (this.child) this.wireChild(this.child);
    void this.poll();
  }

  /** Reads new events now (the timer also does it every pollMs); resolves when that read is done. */
  poll(): Promise<void> {
    if (this.finished || this.settling) return this.reading ?? Promise.resolve();
    this.reading ??= this.readOnce(false).finally(() => (this.reading = undefined));
    return this.reading;
  }

  /** Graceful stop: SIGTERM (the trainer checkpoints and writes `stopped`), SIGKILL after the grace period. */
  stop(): Promise<RunResult> {
    if (this.finished || this.settling) return this.done;
    const target = this.stopTarget();
    if (target.ok) {
      this.stopRequested = true;
      this.stopRefusal = undefined;
      signalGroup(target.pid, 'SIGTERM');
      if (!this.killer) {
        this.killer = setTimeout(() => this.killAfterGrace(target.pid), this.stopTimeoutMs);
        this.killer.unref?.();
      }
    } else if (!target.alive) {
      this.stopRequested = true;
      void this.settle(null, null);
    } else {
      // Never signal a process that cannot be confirmed as this run's trainer.
      this.stopRefusal = target.reason;
      this.emit('output', `[fact-rlhf] not stopping ${this.runId}: ${target.reason}`);
    }
    return this.done;
  }

  private manifest(): RunManifest | undefined {
    try {
      return readManifest(this.runDir);
    } catch {
      return undefined;
    }
  }

  /** The process to signal: our child while it runs, else the latest launch in run.json if it checks out. */
  private stopTarget(): LaunchCheck {
    if (this.child) {
      const pid = this.child.pid;
      const running = pid !== undefined && this.child.exitCode === null && this.child.signalCode === null;
      if (!running || pid < 2) return { ok: false, alive: false, reason: 'the trainer has exited' };
      return { ok: true, pid };
    }
    const manifest = this.manifest();
    const launch = latestLaunch(manifest);
    if (launch) return checkLaunch(launch, { nonce: this.nonce });
    const pids = manifest?.pids ?? this.pids;
    return {
      ok: false,
      alive: pids.some(isAlive),
      reason: 'run.json does not identify the launch (an older trainer wrote it): stop the trainer where it runs',
    };
  }

  private killAfterGrace(pid: number): void {
    this.killer = undefined;
    if (this.finished || this.settling) return;
    const target = this.stopTarget();
    if (!target.ok || target.pid !== pid) return; // gone, or no longer ours to kill
    this.killedAfterGrace = true;
    this.emit('output', `[fact-rlhf] the trainer did not stop within ${seconds(this.stopTimeoutMs)}: sending SIGKILL`);
    signalGroup(pid, 'SIGKILL');
  }

  /** A re-attached run's trainer is known to be gone (or, with no trainer known, its events say it ended). */
  private trainerGone(): boolean {
    const target = this.stopTarget();
    if (target.ok || target.alive) return false;
    const manifest = this.manifest();
    const known = latestLaunch(manifest) !== undefined || (manifest?.pids ?? this.pids).length > 0;
    return known || this.sawTerminal;
  }

  private async readOnce(final: boolean): Promise<void> {
    try {
      if (!this.historyRead) {
        await this.reader.readNewAsync({ limit: this.historyEnd, onBatch: (b) => this.deliver(b, true) });
        this.historyRead = true;
      }
      await this.reader.readNewAsync({ final, onBatch: (b) => this.deliver(b, false) });
    } catch (err) {
      this.emit('output', `[fact-rlhf] cannot read ${this.reader.path}: ${(err as Error).message}`);
    }
    this.tailLog(final);
    if (!final && !this.child && !this.settling && this.trainerGone()) {
      // A re-attached run whose trainer is gone: finish with what the events say.
      void this.settle(null, null);
    }
  }

  private deliver(batch: ReadResult, historical: boolean): void {
    if (batch.reset) {
      this.history = [];
      this.historyEnd = 0;
      this.emit('reset');
    }
    if (batch.corrupt.length) this.emit('corrupt', batch.corrupt);
    if (!batch.events.length) return;
    for (const e of batch.events) {
      this.history.push(e);
      // Statuses an earlier launch wrote (before a --resume) are not this launch's result.
      if (e.type === 'status' && !historical) {
        this.status = e.status;
        if (e.error) this.lastError = e.error;
        if (TERMINAL_STATUSES.includes(e.status)) this.sawTerminal = true;
        this.emit('status', e.status);
      }
    }
    this.emit('events', batch.events);
  }

  /** New output in trainer.log becomes `output` lines (and the tail a crash is explained with). */
  private tailLog(final: boolean): void {
    let fd: number;
    try {
      fd = openSync(trainerLogPath(this.runDir), 'r');
    } catch {
      return;
    }
    try {
      const size = fstatSync(fd).size;
      if (size < this.logOffset) this.logOffset = 0; // truncated
      let budget = LOG_BYTES_PER_POLL;
      while (this.logOffset < size && budget > 0) {
        const buf = Buffer.allocUnsafe(Math.min(64 * 1024, size - this.logOffset, budget));
        const got = readSync(fd, buf, 0, buf.length, this.logOffset);
        if (got <= 0) break;
        this.logOffset += got;
        budget -= got;
        this.onText(this.logDecoder.write(buf.subarray(0, got)));
      }
    } finally {
      closeSync(fd);
    }
    if (final) this.onText(`${this.logDecoder.end()}\n`);
  }

  private onText(text: string): void {
    if (!text) return;
    this.stderrTail = (this.stderrTail + text).slice(-STDERR_TAIL_BYTES);
    const lines = (this.logLine + text).split(/\r?\n/);
    this.logLine = lines.pop() ?? '';
    for (const line of lines) if (line) this.emit('output', line);
  }

  private wireChild(child: ChildProcess): void {
    child.on('error', (err: NodeJS.ErrnoException) => {
      const message =
        err.code === 'ENOENT'
          ? `Python interpreter not found: ${child.spawnfile}. Set "factRlhf.pythonPath" (editor) or --python (CLI) to a Python with the trainer's packages.`
          : `could not start the trainer: ${err.message}`;
      this.lastError = message;
      void this.settle(null, null, message);
    });
    child.on('close', (code, signal) => void this.settle(code, signal));
  }

  private async settle(code: number | null, signal: NodeJS.Signals | null, spawnError?: string): Promise<void> {
    if (this.settling || this.finished) return;
    this.settling = true;
    if (this.timer) clearInterval(this.timer);
    if (this.killer) clearTimeout(this.killer);
    await this.reading; // never rejects: readOnce reports its own errors
    await this.readOnce(true); // drain the last lines, a final one without its newline included
    this.finished = true;
    let status: RunResult['status'];
    let error = spawnError ?? this.lastError;
    if (TERMINAL_STATUSES.includes(this.status)) {
      status = this.status as RunResult['status'];
    } else if (this.killedAfterGrace) {
      // Not `stopped`: the trainer never confirmed a checkpoint; work since its last one is lost.
      status = 'failed';
      error = `the trainer did not stop within the ${seconds(this.stopTimeoutMs)} grace period after SIGTERM and was killed (SIGKILL); progress since its last checkpoint is lost`;
      this.recordFinalStatus('failed', error);
    } else if (this.stopRequested) {
      status = 'stopped';
      this.recordFinalStatus('stopped', undefined);
    } else if (spawnError && this.createdRunDir) {
      // The trainer never ran: a folder made only for it would be an empty "failed run" forever.
      status = 'failed';
      rmSync(this.runDir, { recursive: true, force: true });
    } else {
      status = 'failed';
      error ??= this.crashMessage(code, signal);
      // A launch that never started (no interpreter) wrote nothing: leave an earlier launch's record alone.
      const neverStarted = spawnError && this.historyEnd > 0 && this.reader.bytesConsumed <= this.historyEnd;
      // A trainer refused because another one holds the folder's lock: the log is that one's, not ours.
      if (!neverStarted && !lockedByAnother(this.runDir, this.child?.pid)) this.recordFinalStatus('failed', error);
    }
    if (status !== 'failed') error = undefined;
    this.status = status;
    const result: RunResult = { runId: this.runId, runDir: this.runDir, status, exitCode: code, signal, error };
    this.emit('status', status);
    this.emit('exit', result);
    this.resolveDone(result);
  }

  private crashMessage(code: number | null, signal: NodeJS.Signals | null): string {
    const how = signal ? `was killed by ${signal}` : this.child ? `exited with code ${code ?? 'unknown'}` : 'exited';
    if (!this.stderrTail) this.stderrTail = readLogTail(this.runDir);
    const tail = this.stderrTail.trim().split('\n').slice(-20).join('\n');
    return tail ? `trainer ${how}:\n${tail}` : `trainer ${how} without writing a final status`;
  }

  /** The trainer died without a terminal status: record one so the run directory tells the truth. */
  private recordFinalStatus(status: 'failed' | 'stopped', error: string | undefined): void {
    const event: Record<string, unknown> = { v: PROTOCOL_VERSION, t: Date.now() / 1000, type: 'status', status };
    if (error) event.error = error;
    try {
      appendEventLine(eventsPath(this.runDir), JSON.stringify(event));
    } catch {
      // The run directory may be gone; the result still carries the status.
    }
  }
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

function readLogTail(runDir: string): string {
  try {
    const fd = openSync(trainerLogPath(runDir), 'r');
    try {
      const size = fstatSync(fd).size;
      const start = Math.max(0, size - STDERR_TAIL_BYTES);
      const buf = Buffer.alloc(size - start);
      readSync(fd, buf, 0, buf.length, start);
      return buf.toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return '';
  }
}

/** Appends one whole line, first closing a torn last line so it is not merged with ours. */
export function appendEventLine(path: string, line: string): void {
  let prefix = '';
  try {
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      if (size > 0) {
        const last = Buffer.alloc(1);
        readSync(fd, last, 0, 1, size - 1);
        if (last[0] !== 0x0a) prefix = '\n';
      }
    } finally {
      closeSync(fd);
    }
  } catch {
    // no file yet
  }
  appendFileSync(path, `${prefix}${line}\n`);
}

/** Signals a trainer's process group (torchrun children too); never pid 0, 1 or a negative one. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  if (!Number.isInteger(pid) || pid < 2) return;
  try {
    process.kill(-pid, signal); // the trainer leads its own process group
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** The argument vector of a trainer launch (never a shell string). */
export function trainerArgs(
  opts: Pick<StartOptions, 'stage' | 'configPath' | 'resume' | 'evalCheckpoint' | 'allowRandom'>,
  runDir: string,
): string[] {
  const args = ['-m', 'fact_rlhf', opts.stage, '--config', resolve(opts.configPath), '--run-dir', runDir];
  if (opts.resume) args.push('--resume');
  if (opts.stage === 'eval' && opts.evalCheckpoint) args.push('--checkpoint', resolve(opts.evalCheckpoint));
  if (opts.stage === 'eval' && opts.allowRandom) args.push('--allow-random');
  return args;
}

/**
 * The interpreter's arguments: the trainer's own, or with `torchrunProcesses` the same under
 * PyTorch's launcher (`python -m torch.distributed.run`, torchrun itself) on this node.
 */
export function trainerCommand(
  opts: Pick<StartOptions, 'stage' | 'configPath' | 'resume' | 'evalCheckpoint' | 'allowRandom' | 'torchrunProcesses'>,
  runDir: string,
): string[] {
  const trainer = trainerArgs(opts, runDir);
  const n = opts.torchrunProcesses;
  if (n === undefined) return trainer;
  if (!Number.isInteger(n) || n < 1) throw new Error(`torchrun processes must be a whole number of at least 1, got ${n}`);
  return ['-m', 'torch.distributed.run', '--standalone', `--nproc_per_node=${n}`, ...trainer];
}

/** What a launch sets in the trainer's environment on top of the caller's (its nonce aside). */
export function trainerEnvironment(
  opts: Pick<StartOptions, 'trainerRoot' | 'schemaDir'>,
  base: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  return {
    PYTHONPATH: [opts.trainerRoot, base.PYTHONPATH].filter(Boolean).join(delimiter),
    FACT_RLHF_SCHEMA_DIR: opts.schemaDir,
    PYTHONUNBUFFERED: '1',
    HF_HUB_OFFLINE: base.HF_HUB_OFFLINE ?? '1',
  };
}

/** The trainer's lock file in a run folder (trainer/fact_rlhf/rundir.py LOCK_FILE). */
const LOCK_FILE = '.lock';

/** Whether a live trainer other than `ownPid` holds the run folder's lock (the trainer's `.lock`: host, pid). */
export function lockedByAnother(runDir: string, ownPid: number | undefined): boolean {
  let lock: { host?: unknown; pid?: unknown };
  try {
    lock = JSON.parse(readFileSync(join(runDir, LOCK_FILE), 'utf8')) as { host?: unknown; pid?: unknown };
  } catch {
    return false; // no lock file (an older trainer) or a torn one: nothing says another run owns it
  }
  const pid = typeof lock.pid === 'number' && Number.isInteger(lock.pid) ? lock.pid : undefined;
  if (pid === undefined || pid < 2 || pid === ownPid) return false;
  // Another host's trainer on a shared file system cannot be checked from here: trust its lock.
  return lock.host !== hostname() || isAlive(pid);
}

export class RunManager {
  private readonly runs = new Map<string, RunHandle>();
  private readonly stopGraceMs: number;

  constructor(options: RunManagerOptions = {}) {
    this.stopGraceMs = options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS;
  }

  /** Live and finished runs this manager has seen, newest last. */
  list(): RunHandle[] {
    return [...this.runs.values()];
  }

  get(runId: string): RunHandle | undefined {
    return this.runs.get(runId);
  }

  start(opts: StartOptions): RunHandle {
    const runDir = resolve(opts.runDir ?? defaultRunDirectory(opts.configPath, opts.stage, opts.outputDir));
    const createdRunDir = !existsSync(runDir);
    mkdirSync(runDir, { recursive: true });
    const runId = basename(runDir);
    const nonce = randomUUID();
    const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env, ...trainerEnvironment(opts), [LAUNCH_NONCE_ENV]: nonce };
    // What earlier launches left (a --resume): history for the views, not this launch's result.
    const historyEnd = fileSize(eventsPath(runDir));
    const logPath = trainerLogPath(runDir);
    const logFd = openSync(logPath, 'a');
    const logStart = fstatSync(logFd).size;
    let child: ChildProcess;
    try {
      child = spawn(opts.python, trainerCommand(opts, runDir), {
        env,
        cwd: runDir,
        // Output to a file, not pipes to this process: the trainer must outlive a window reload.
        stdio: ['ignore', logFd, logFd],
        detached: process.platform !== 'win32', // own process group: stop() signals the whole tree
      });
    } finally {
      closeSync(logFd); // the child holds its own copy
    }
    const grace = opts.stopTimeoutMs ?? this.stopGraceMs;
    const handle = new RunHandle(runId, runDir, child, opts.pollMs ?? 100, grace, [], { historyEnd, logStart, nonce });
    handle.createdRunDir = createdRunDir;
    this.runs.set(runId, handle);
    handle.begin();
    return handle;
  }

  /** Re-attaches to a run directory (e.g. after a window reload); its trainer may still be live. */
  attach(runDir: string, pollMs = 250, options: AttachOptions = {}): RunHandle {
    const manifest = readManifest(runDir);
    const runId = manifest?.id ?? basename(runDir);
    const existing = this.runs.get(runId);
    if (existing) return existing;
    const dir = resolve(runDir);
    const logStart = fileSize(trainerLogPath(dir)); // output already there is old; the tail still explains a crash
    const handle = new RunHandle(runId, dir, undefined, pollMs, this.stopGraceMs, manifest?.pids ?? [], {
      logStart,
      nonce: options.nonce,
    });
    this.runs.set(runId, handle);
    handle.begin();
    return handle;
  }

  /** Stops every live run (extension deactivation, CLI Ctrl-C). */
  async stopAll(): Promise<void> {
    await Promise.all(this.list().map((r) => r.stop()));
  }
}
