// The scorer's worker thread: the ONLY importer of onnxruntime-node (DESIGN.md §2). It loads an
// export (model.onnx, tokenizer.json, rm.json), builds the reward model's input from rm.json and
// runs it; the host (rewardScorer.ts) queues, cancels and times out requests.
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { Tokenizer } from 'tokenizers';
import {
  parseHostMessage,
  type ExecutionProvider,
  type HostToWorker,
  type LoadedModel,
  type ScoreItem,
  type WorkerToHost,
} from '../protocol/scoring';
import { readRmSpec, ScoringError, type RmSpec } from './modelSpec';
import { encodeRmText, leftPad, rmText, type TextTokenizer } from './rmInput';
import { pixelCount, pixelValues, readImage } from './image';

interface Loaded {
  spec: RmSpec;
  session: ort.InferenceSession;
  tokenizer: TextTokenizer;
  pixels: number;
}

// The inputs the reward model takes (export/rm_onnx.py INPUT_NAMES).
const FED = ['input_ids', 'attention_mask', 'pixel_values'] as const;
let current: Loaded | undefined;
// Decoded pixel_values per image (key: path and mtime); a record is scored with and without facts.
const imageCache = new Map<string, Float32Array>();
const IMAGE_CACHE_MAX = 512;

function post(message: WorkerToHost): void {
  parentPort?.postMessage(message);
}

function loadTokenizer(spec: RmSpec): TextTokenizer {
  const file = join(spec.dir, spec.tokenizer);
  if (!existsSync(file)) throw new ScoringError(`${file} not found (rm.json names it as the model's tokenizer)`, file);
  let tok: Tokenizer;
  try {
    tok = Tokenizer.fromFile(file);
  } catch (err) {
    throw new ScoringError(`${file}: not a tokenizer the \`tokenizers\` library can read: ${(err as Error).message}`, file);
  }
  const problems: string[] = [];
  const size = tok.getVocabSize(true);
  if (size !== spec.encoding.vocab_size) problems.push(`vocabulary of ${size} tokens, rm.json says ${spec.encoding.vocab_size}`);
  for (const [role, special] of Object.entries(spec.encoding.special_tokens)) {
    const id = tok.tokenToId(special.token);
    if (id !== special.id) problems.push(`${role} token ${special.token} is id ${id ?? 'missing'}, rm.json says ${special.id}`);
  }
  if (problems.length) throw new ScoringError(`${file} does not match ${join(spec.dir, 'rm.json')}: ${problems.join('; ')}`, file);
  return { encode: async (text, addSpecialTokens) => (await tok.encode(text, null, { addSpecialTokens })).getIds() };
}

function cudaProviderInstalled(): boolean {
  const bin = join(dirname(require.resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
  return existsSync(join(bin, process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so'));
}

async function createSession(
  file: string,
  preferCuda: boolean,
): Promise<{ session: ort.InferenceSession; provider: ExecutionProvider; note?: string }> {
  let note: string | undefined;
  if (preferCuda) {
    // `cuda` is listed even when its provider library was never installed (the package's install
    // step downloads it); look for the library so a CPU-only install does not log a native error.
    const cuda = ort.listSupportedBackends().some((b) => b.name === 'cuda') && cudaProviderInstalled();
    if (cuda) {
      try {
        return { session: await ort.InferenceSession.create(file, { executionProviders: ['cuda'] }), provider: 'cuda' };
      } catch (err) {
        note = `CUDA execution provider failed: ${(err as Error).message.split('\n')[0]}`;
      }
    } else {
      note = 'CUDA execution provider not installed with onnxruntime-node';
    }
  }
  // Sequential execution and the default intra-op pool: the scorer runs one batch at a time.
  const session = await ort.InferenceSession.create(file, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  });
  return note === undefined ? { session, provider: 'cpu' } : { session, provider: 'cpu', note };
}

async function load(exportDir: string, preferCuda: boolean): Promise<LoadedModel> {
  const started = performance.now();
  const spec = readRmSpec(exportDir);
  const modelFile = join(exportDir, spec.model);
  if (!existsSync(modelFile)) throw new ScoringError(`${modelFile} not found (rm.json names it as the model)`, modelFile);
  const unknown = spec.inputNames.filter((n) => !(FED as readonly string[]).includes(n));
  if (unknown.length || spec.inputNames.length !== FED.length) {
    throw new ScoringError(
      `${join(exportDir, 'rm.json')}: inputs [${spec.inputNames.join(', ')}]; this scorer feeds exactly [${FED.join(', ')}]`,
      join(exportDir, 'rm.json'),
    );
  }
  const tokenizer = loadTokenizer(spec);
  let created;
  try {
    created = await createSession(modelFile, preferCuda);
  } catch (err) {
    throw new ScoringError(`${modelFile}: onnxruntime cannot load it: ${(err as Error).message}`, modelFile);
  }
  const { session } = created;
  const names = [...session.inputNames];
  const missing = spec.inputNames.filter((n) => !names.includes(n));
  const extra = names.filter((n) => !spec.inputNames.includes(n));
  if (missing.length || extra.length || !session.outputNames.includes(spec.outputName)) {
    await session.release();
    throw new ScoringError(
      `${modelFile}: inputs [${names.join(', ')}] → [${session.outputNames.join(', ')}] do not match rm.json's [${spec.inputNames.join(', ')}] → [${spec.outputName}]`,
      modelFile,
    );
  }
  if (current) await current.session.release();
  current = { spec, session, tokenizer, pixels: pixelCount(spec.image, join(exportDir, 'rm.json')) };
  imageCache.clear();
  const model: LoadedModel = { exportDir, provider: created.provider, inputNames: names, loadMs: performance.now() - started };
  if (created.note) model.providerNote = created.note;
  return model;
}

function imagePixels(m: Loaded, file: string): Float32Array {
  let key: string;
  try {
    key = `${file}\0${statSync(file).mtimeMs}`;
  } catch (err) {
    throw new ScoringError(`${file}: cannot read the image: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, file);
  }
  let px = imageCache.get(key);
  if (!px) {
    px = new Float32Array(m.pixels);
    pixelValues(readImage(file), m.spec.image, join(m.spec.dir, 'rm.json'), px, 0);
    if (imageCache.size >= IMAGE_CACHE_MAX) imageCache.delete(imageCache.keys().next().value as string);
    imageCache.set(key, px);
  }
  return px;
}

async function score(items: ScoreItem[], batchSize: number): Promise<number[]> {
  const m = current;
  if (!m) throw new ScoringError('no model loaded');
  const { spec } = m;
  const ids = await Promise.all(
    items.map((it, i) => encodeRmText(spec.encoding, m.tokenizer, rmText(spec.rmInput, it.prompt, it.response, it.facts), `item ${i}`)),
  );
  const [h, w] = imageShape(m);
  const scores: number[] = [];
  for (let start = 0; start < items.length; start += batchSize) {
    const rows = ids.slice(start, start + batchSize);
    const batch = leftPad(rows, spec.encoding.pad_id);
    const px = new Float32Array(rows.length * m.pixels);
    for (let r = 0; r < rows.length; r++) px.set(imagePixels(m, items[start + r].image), r * m.pixels);
    const out = await m.session.run({
      input_ids: new ort.Tensor('int64', batch.ids, [batch.rows, batch.width]),
      attention_mask: new ort.Tensor('int64', batch.mask, [batch.rows, batch.width]),
      pixel_values: new ort.Tensor('float32', px, [rows.length, 3, h, w]),
    });
    const result = out[spec.outputName];
    if (!result || result.data.length !== rows.length)
      throw new ScoringError(`${join(spec.dir, spec.model)}: output ${spec.outputName} does not have one score per row`);
    for (const s of result.data as Float32Array) scores.push(s);
  }
  return scores;
}

function imageShape(m: Loaded): [number, number] {
  const r = m.spec.image.resize;
  return Array.isArray(r) ? [r[1], r[0]] : [r.height, r.width];
}

async function handle(msg: HostToWorker): Promise<void> {
  try {
    if (msg.type === 'load') {
      post({ type: 'loaded', id: msg.id, model: await load(msg.exportDir, msg.preferCuda) });
    } else {
      const started = performance.now();
      const scores = await score(msg.items, msg.batchSize);
      post({ type: 'scored', id: msg.id, scores, ms: performance.now() - started });
    }
  } catch (err) {
    const e = err as Error & { file?: string };
    post(
      e instanceof ScoringError && e.file
        ? { type: 'error', id: msg.id, message: e.message, file: e.file }
        : { type: 'error', id: msg.id, message: e.message || String(err) },
    );
  }
}

// One request at a time, in order: the host sends the next only after this one's answer.
let queue: Promise<void> = Promise.resolve();
parentPort?.on('message', (raw: unknown) => {
  const msg = parseHostMessage(raw);
  if (typeof msg === 'string') {
    post({ type: 'log', message: `scoring worker: dropped a malformed message (${msg})` });
    const id = typeof raw === 'object' && raw !== null ? (raw as { id?: unknown }).id : undefined;
    if (Number.isInteger(id)) post({ type: 'error', id: id as number, message: `malformed request: ${msg}` });
    return;
  }
  queue = queue.then(() => handle(msg));
});
