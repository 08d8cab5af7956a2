// Messages between the reward scorer (src/scoring/rewardScorer.ts) and its worker thread
// (src/scoring/worker.ts). Both ends validate what they receive: a worker_threads channel is typed
// only by convention, and a malformed message must fail loudly, not be half-acted on.

/** One response to score: the record's prompt (without the image marker), the response, the facts
 *  to put into the critique (null: the text without facts) and an absolute image path. */
export interface ScoreItem {
  prompt: string;
  response: string;
  facts: string[] | null;
  image: string;
}

export type HostToWorker =
  | { type: 'load'; id: number; exportDir: string; preferCuda: boolean }
  | { type: 'score'; id: number; items: ScoreItem[]; batchSize: number };

export type ExecutionProvider = 'cuda' | 'cpu';

export interface LoadedModel {
  exportDir: string;
  provider: ExecutionProvider;
  /** Why a preferred provider was not used (e.g. CUDA not installed), for the log. */
  providerNote?: string;
  inputNames: string[];
  loadMs: number;
}

export type WorkerToHost =
  | { type: 'loaded'; id: number; model: LoadedModel }
  | { type: 'scored'; id: number; scores: number[]; ms: number }
  | { type: 'error'; id: number; message: string; file?: string }
  | { type: 'log'; message: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

function isScoreItem(v: unknown): v is ScoreItem {
  return (
    isObject(v) &&
    typeof v.prompt === 'string' &&
    typeof v.response === 'string' &&
    (v.facts === null || isStringArray(v.facts)) &&
    typeof v.image === 'string'
  );
}

/** The message, or a reason it is malformed. */
export function parseHostMessage(v: unknown): HostToWorker | string {
  if (!isObject(v)) return 'not an object';
  if (!isInt(v.id)) return 'no integer id';
  if (v.type === 'load') {
    if (typeof v.exportDir !== 'string' || typeof v.preferCuda !== 'boolean') return 'load: needs exportDir and preferCuda';
    return { type: 'load', id: v.id, exportDir: v.exportDir, preferCuda: v.preferCuda };
  }
  if (v.type === 'score') {
    if (!Array.isArray(v.items) || !v.items.every(isScoreItem)) return 'score: items must be ScoreItems';
    if (!isInt(v.batchSize) || v.batchSize < 1) return 'score: batchSize must be a positive integer';
    return { type: 'score', id: v.id, items: v.items, batchSize: v.batchSize };
  }
  return `unknown type ${JSON.stringify(v.type)}`;
}

export function parseWorkerMessage(v: unknown): WorkerToHost | string {
  if (!isObject(v)) return 'not an object';
  if (v.type === 'log') return typeof v.message === 'string' ? { type: 'log', message: v.message } : 'log: no message';
  if (!isInt(v.id)) return 'no integer id';
  switch (v.type) {
    case 'loaded': {
      const m = v.model;
      if (
        !isObject(m) ||
        typeof m.exportDir !== 'string' ||
        (m.provider !== 'cuda' && m.provider !== 'cpu') ||
        !isStringArray(m.inputNames) ||
        typeof m.loadMs !== 'number' ||
        (m.providerNote !== undefined && typeof m.providerNote !== 'string')
      ) {
        return 'loaded: malformed model';
      }
      const model: LoadedModel = { exportDir: m.exportDir, provider: m.provider, inputNames: m.inputNames, loadMs: m.loadMs };
      if (typeof m.providerNote === 'string') model.providerNote = m.providerNote;
      return { type: 'loaded', id: v.id, model };
    }
    case 'scored':
      if (!Array.isArray(v.scores) || !v.scores.every((s) => typeof s === 'number') || typeof v.ms !== 'number')
        return 'scored: scores must be numbers';
      return { type: 'scored', id: v.id, scores: v.scores as number[], ms: v.ms };
    case 'error':
      if (typeof v.message !== 'string' || (v.file !== undefined && typeof v.file !== 'string')) return 'error: needs a message';
      return v.file === undefined
        ? { type: 'error', id: v.id, message: v.message }
        : { type: 'error', id: v.id, message: v.message, file: v.file };
    default:
      return `unknown type ${JSON.stringify(v.type)}`;
  }
}
