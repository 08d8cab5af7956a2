// The reward scorer: a worker thread (worker.ts) started on first use holds the ONNX session, so
// the extension host never blocks on a model. Requests run one at a time; each can be cancelled
// (AbortSignal) or time out — the worker is then terminated, since a running onnxruntime batch
// cannot be interrupted, and the next request starts a fresh one. A changed model.onnx or rm.json
// (mtime) is reloaded before the next request.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { parseWorkerMessage, type HostToWorker, type LoadedModel, type ScoreItem, type WorkerToHost } from '../protocol/scoring';
import { ensureExport, type ExportOptions } from './exportOnDemand';
import { RM_FILE, ScoringError } from './modelSpec';

export interface RewardScorerOptions extends Omit<ExportOptions, 'signal'> {
  /** An export folder (model.onnx, tokenizer.json, rm.json) or an rm run folder (exported on demand). */
  model: string;
  /** Lines for an output channel or stderr: provider, loads, reloads. */
  log?: (line: string) => void;
  /** Rows per onnxruntime run (default 16). */
  batchSize?: number;
  /** Default per-request timeout in ms (default: none). */
  timeoutMs?: number;
  /** Try the CUDA execution provider first (default true). */
  preferCuda?: boolean;
  /** The worker script (default: the bundled dist/scoring-worker.js, or worker.ts under tsx). */
  workerPath?: string;
}

export interface ScoreOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface ScoredRecord {
  withFacts: number;
  withoutFacts: number;
  difference: number;
}

export interface RecordToScore {
  prompt: string;
  response: string;
  facts: string[];
  image: string;
}

export class ScoringCancelled extends Error {
  constructor(
    readonly reason: 'aborted' | 'timeout',
    ms?: number,
  ) {
    super(reason === 'timeout' ? `scoring timed out after ${ms} ms` : 'scoring was cancelled');
    this.name = reason === 'timeout' ? 'TimeoutError' : 'AbortError';
  }
}

function defaultWorkerPath(): string {
  const candidates = [join(__dirname, 'scoring-worker.js'), join(__dirname, 'worker.ts'), join(__dirname, 'worker.js')];
  return candidates.find((c) => existsSync(c)) ?? candidates[0];
}

function mtimeKey(dir: string, modelFile = 'model.onnx'): string {
  const stamp = (f: string): string => {
    try {
      return String(statSync(join(dir, f)).mtimeMs);
    } catch {
      return 'missing';
    }
  };
  return `${stamp(modelFile)}|${stamp(RM_FILE)}`;
}

interface Pending {
  resolve: (m: WorkerToHost) => void;
  reject: (e: Error) => void;
}

export class RewardScorer {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private chain: Promise<unknown> = Promise.resolve();
  private model: LoadedModel | undefined;
  private loadedKey: string | undefined;
  private exportDir: string | undefined;
  private disposed = false;

  constructor(private readonly opts: RewardScorerOptions) {}

  /** What is loaded now (after the first request), with its execution provider. */
  get loaded(): LoadedModel | undefined {
    return this.model;
  }

  /** Scores, one per item, in order. */
  score(items: ScoreItem[], options: ScoreOptions = {}): Promise<number[]> {
    return this.enqueue(options, async (signal) => {
      await this.ensureModel(signal);
      const reply = await this.request({ type: 'score', id: 0, items, batchSize: this.opts.batchSize ?? 16 }, signal);
      if (reply.type !== 'scored' || reply.scores.length !== items.length)
        throw new Error(`scoring worker: unexpected reply ${reply.type}`);
      return reply.scores;
    });
  }

  /** Each record scored with its facts and without them. */
  async scoreRecords(records: RecordToScore[], options: ScoreOptions = {}): Promise<ScoredRecord[]> {
    const items: ScoreItem[] = records.flatMap((r) => [
      { prompt: r.prompt, response: r.response, facts: r.facts, image: r.image },
      { prompt: r.prompt, response: r.response, facts: null, image: r.image },
    ]);
    const scores = await this.score(items, options);
    return records.map((_, i) => ({
      withFacts: scores[2 * i],
      withoutFacts: scores[2 * i + 1],
      difference: scores[2 * i] - scores[2 * i + 1],
    }));
  }

  /** Loads (exporting on demand) without scoring: the worker start, for warm-up. */
  load(options: ScoreOptions = {}): Promise<LoadedModel> {
    return this.enqueue(options, async (signal) => {
      await this.ensureModel(signal);
      return this.model as LoadedModel;
    });
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await this.stopWorker(new Error('the scorer was disposed'));
  }

  private enqueue<T>(options: ScoreOptions, job: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.disposed) return Promise.reject(new Error('the scorer was disposed'));
    const timeoutMs = options.timeoutMs ?? this.opts.timeoutMs;
    const run = async (): Promise<T> => {
      const controller = new AbortController();
      let cancelled: ScoringCancelled | undefined;
      const abort = (why: ScoringCancelled): void => {
        cancelled ??= why;
        controller.abort(why);
        // Whatever the worker is doing for this request is abandoned with it.
        void this.stopWorker(why);
      };
      if (options.signal?.aborted) throw new ScoringCancelled('aborted');
      const onAbort = (): void => abort(new ScoringCancelled('aborted'));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const timer = timeoutMs !== undefined ? setTimeout(() => abort(new ScoringCancelled('timeout', timeoutMs)), timeoutMs) : undefined;
      try {
        return await job(controller.signal);
      } catch (err) {
        throw cancelled ?? err;
      } finally {
        options.signal?.removeEventListener('abort', onAbort);
        if (timer) clearTimeout(timer);
      }
    };
    const result = this.chain.then(run, run);
    this.chain = result.catch(() => undefined);
    return result;
  }

  private async ensureModel(signal: AbortSignal): Promise<void> {
    // A run folder is checked against its checkpoint every time (a few stats): a new checkpoint
    // is exported before it is scored.
    this.exportDir = await ensureExport(this.opts.model, { ...this.opts, signal });
    const key = mtimeKey(this.exportDir);
    if (this.model && this.worker && key === this.loadedKey) return;
    if (this.model && this.worker) this.opts.log?.(`reward model changed on disk: reloading ${this.exportDir}`);
    const reply = await this.request({ type: 'load', id: 0, exportDir: this.exportDir, preferCuda: this.opts.preferCuda ?? true }, signal);
    if (reply.type !== 'loaded') throw new Error(`scoring worker: unexpected reply ${reply.type}`);
    this.model = reply.model;
    this.loadedKey = key;
    const m = reply.model;
    this.opts.log?.(
      `reward model ${m.exportDir} loaded in ${m.loadMs.toFixed(0)} ms on onnxruntime-node's ${m.provider === 'cuda' ? 'CUDA' : 'CPU'} execution provider` +
        (m.providerNote ? ` (${m.providerNote})` : ''),
    );
  }

  private startWorker(): Worker {
    const path = this.opts.workerPath ?? defaultWorkerPath();
    // Under tsx (tests, benches) a TypeScript worker needs tsx's CommonJS hook in its own thread.
    const worker = path.endsWith('.ts')
      ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(path)});`, { eval: true })
      : new Worker(path);
    worker.unref(); // an idle scorer never keeps the process alive
    worker.on('message', (raw: unknown) => {
      const msg = parseWorkerMessage(raw);
      if (typeof msg === 'string') {
        this.opts.log?.(`scorer: dropped a malformed message from the worker (${msg})`);
        return;
      }
      if (msg.type === 'log') {
        this.opts.log?.(msg.message);
        return;
      }
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.type === 'error') p.reject(new ScoringError(msg.message, msg.file));
      else p.resolve(msg);
    });
    const fail = (err: Error): void => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.model = undefined;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', (err) => fail(new Error(`scoring worker crashed: ${err.message}`)));
    worker.on('exit', (code) => fail(new Error(`scoring worker exited (code ${code})`)));
    return worker;
  }

  private request(message: HostToWorker, signal: AbortSignal): Promise<WorkerToHost> {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    if (!this.worker) {
      this.worker = this.startWorker();
      this.model = undefined;
    }
    const worker = this.worker;
    const id = this.nextId++;
    return new Promise<WorkerToHost>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...message, id });
    });
  }

  private async stopWorker(reason: Error): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.model = undefined;
    this.loadedKey = undefined;
    for (const p of this.pending.values()) p.reject(reason);
    this.pending.clear();
    if (worker) await worker.terminate();
  }
}
