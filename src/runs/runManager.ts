// Launches the Python trainer, watches its run directory and stops it. No `vscode` import: the CLI,
// the extension and the tests all drive runs through this module.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdirSync, appendFileSync, openSync, readSync, closeSync, fstatSync } from 'node:fs';
import { basename, delimiter, resolve } from 'node:path';
import type { RunEvent, RunStatus, Stage } from '../protocol';
import { PROTOCOL_VERSION, TERMINAL_STATUSES } from '../protocol';
import { EventFileReader, type CorruptLine } from './eventReader';
import { eventsPath, readManifest } from './runDirectory';
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
  pollMs?: number;
  stopTimeoutMs?: number;
}

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
  events: [RunEvent[]];
  corrupt: [CorruptLine[]];
  output: [string];
  status: [RunStatus];
  exit: [RunResult];
}

const STDERR_TAIL_BYTES = 16 * 1024;

/** A run being watched: launched by us (has a child process) or re-attached after a reload. */
export class RunHandle extends EventEmitter<RunHandleEvents> {
  readonly reader: EventFileReader;
  status: RunStatus = 'starting';
  lastError: string | undefined;
  readonly done: Promise<RunResult>;
  private resolveDone!: (r: RunResult) => void;
  private timer: NodeJS.Timeout | undefined;
  private stderrTail = '';
  private stopRequested = false;
  private finished = false;

  constructor(
    readonly runId: string,
    readonly runDir: string,
    private readonly child: ChildProcess | undefined,
    private readonly pollMs: number,
    private readonly stopTimeoutMs: number,
    private readonly pids: number[] = [],
  ) {
    super();
    this.reader = new EventFileReader(eventsPath(runDir));
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  get pid(): number | undefined {
    return this.child?.pid ?? this.pids[0];
  }

  /** @internal */
  begin(): void {
    this.timer = setInterval(() => this.poll(), this.pollMs);
    if (this.child) this.wireChild(this.child);
    this.poll();
  }

  /** Reads new events now (the timer also does it every pollMs). */
  poll(): void {
    if (this.finished) return;
    let result;
    try {
      result = this.reader.readNew();
    } catch (err) {
      this.emit('output', `[fact-rlhf] cannot read ${this.reader.path}: ${(err as Error).message}`);
      return;
    }
    if (result.corrupt.length) this.emit('corrupt', result.corrupt);
    if (result.events.length) {
      for (const e of result.events) {
        if (e.type === 'status') {
          this.status = e.status;
          if (e.error) this.lastError = e.error;
          this.emit('status', e.status);
        }
      }
      this.emit('events', result.events);
    }
    if (!this.child && this.pids.length && !this.pids.some(isAlive)) {
      // A re-attached run whose trainer is gone: finish with what the events say.
      this.settle(null, null);
    }
  }

  /** Graceful stop: SIGTERM (the trainer checkpoints and writes `stopped`), SIGKILL after a timeout. */
  stop(): Promise<RunResult> {
    if (this.finished) return this.done;
    this.stopRequested = true;
    const pid = this.pid;
    if (pid) {
      signalGroup(pid, 'SIGTERM');
      const killer = setTimeout(() => signalGroup(pid, 'SIGKILL'), this.stopTimeoutMs);
      void this.done.then(() => clearTimeout(killer));
    } else {
      this.settle(null, null);
    }
    return this.done;
  }

  private wireChild(child: ChildProcess): void {
    child.stderr?.setEncoding('utf8');
    child.stdout?.setEncoding('utf8');
    const onText = (text: string): void => {
      this.stderrTail = (this.stderrTail + text).slice(-STDERR_TAIL_BYTES);
      for (const line of text.split(/\r?\n/)) if (line) this.emit('output', line);
    };
    child.stderr?.on('data', onText);
    child.stdout?.on('data', onText);
    child.on('error', (err: NodeJS.ErrnoException) => {
      const message =
        err.code === 'ENOENT'
          ? `Python interpreter not found: ${child.spawnfile}. Set "factRlhf.pythonPath" or run scripts/setup-python.sh.`
          : `could not start the trainer: ${err.message}`;
      this.lastError = message;
      this.settle(null, null, message);
    });
    child.on('close', (code, signal) => this.settle(code, signal));
  }

  private settle(code: number | null, signal: NodeJS.Signals | null, spawnError?: string): void {
    if (this.finished) return;
    this.poll(); // drain the last complete lines
    this.finished = true;
    if (this.timer) clearInterval(this.timer);
    let status: RunResult['status'];
    let error = spawnError ?? this.lastError;
    if (TERMINAL_STATUSES.includes(this.status)) {
      status = this.status as RunResult['status'];
    } else if (this.stopRequested) {
      status = 'stopped';
      this.recordFinalStatus('stopped', undefined);
    } else {
      status = 'failed';
      error ??= this.crashMessage(code, signal);
      this.recordFinalStatus('failed', error);
    }
    if (status !== 'failed') error = undefined;
    this.status = status;
    const result: RunResult = { runId: this.runId, runDir: this.runDir, status, exitCode: code, signal, error };
    this.emit('status', status);
    this.emit('exit', result);
    this.resolveDone(result);
  }

  private crashMessage(code: number | null, signal: NodeJS.Signals | null): string {
    const how = signal ? `was killed by ${signal}` : `exited with code ${code ?? 'unknown'}`;
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

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal); // the trainer leads its own process group (torchrun children too)
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** The argument vector of a trainer launch (never a shell string). */
export function trainerArgs(opts: Pick<StartOptions, 'stage' | 'configPath' | 'resume' | 'evalCheckpoint' | 'allowRandom'>, runDir: string): string[] {
  const args = ['-m', 'fact_rlhf', opts.stage, '--config', resolve(opts.configPath), '--run-dir', runDir];
  if (opts.resume) args.push('--resume');
  if (opts.stage === 'eval' && opts.evalCheckpoint) args.push('--checkpoint', resolve(opts.evalCheckpoint));
  if (opts.stage === 'eval' && opts.allowRandom) args.push('--allow-random');
  return args;
}

export class RunManager {
  private readonly runs = new Map<string, RunHandle>();

  /** Live and finished runs this manager has seen, newest last. */
  list(): RunHandle[] {
    return [...this.runs.values()];
  }

  get(runId: string): RunHandle | undefined {
    return this.runs.get(runId);
  }

  start(opts: StartOptions): RunHandle {
    const runDir = resolve(opts.runDir ?? defaultRunDirectory(opts.configPath, opts.stage, opts.outputDir));
    mkdirSync(runDir, { recursive: true });
    const runId = basename(runDir);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...opts.env,
      PYTHONPATH: [opts.trainerRoot, process.env.PYTHONPATH].filter(Boolean).join(delimiter),
      FACT_RLHF_SCHEMA_DIR: opts.schemaDir,
      PYTHONUNBUFFERED: '1',
      HF_HUB_OFFLINE: process.env.HF_HUB_OFFLINE ?? '1',
    };
    const child = spawn(opts.python, trainerArgs(opts, runDir), {
      env,
      cwd: runDir,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: process.platform !== 'win32', // own process group: stop() signals the whole tree
    });
    const handle = new RunHandle(runId, runDir, child, opts.pollMs ?? 100, opts.stopTimeoutMs ?? 30_000);
    this.runs.set(runId, handle);
    handle.begin();
    return handle;
  }

  /** Re-attaches to a run directory (e.g. after a window reload); its trainer may still be live. */
  attach(runDir: string, pollMs = 250): RunHandle {
    const manifest = readManifest(runDir);
    const runId = manifest?.id ?? basename(runDir);
    const existing = this.runs.get(runId);
    if (existing) return existing;
    const handle = new RunHandle(runId, resolve(runDir), undefined, pollMs, 30_000, manifest?.pids ?? []);
    this.runs.set(runId, handle);
    handle.begin();
    return handle;
  }

  /** Stops every live run (extension deactivation, CLI Ctrl-C). */
  async stopAll(): Promise<void> {
    await Promise.all(this.list().map((r) => r.stop()));
  }
}
