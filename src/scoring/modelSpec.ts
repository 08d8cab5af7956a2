// rm.json, the description the trainer's export writes beside model.onnx (trainer/fact_rlhf/export):
// read and checked here so that a missing or foreign model fails with a message naming the file.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

export const RM_FORMAT = 'fact-rlhf-reward-model';
export const RM_VERSION = 2;
export const RM_FILE = 'rm.json';

/** An error about one file the user can look at. */
export class ScoringError extends Error {
  constructor(
    message: string,
    readonly file?: string,
  ) {
    super(message);
    this.name = 'ScoringError';
  }
}

export interface RmInputPieces {
  prefix: string;
  question_prefix: string;
  before_response: string;
  without_facts: string;
  facts: { head: string; fact_prefix: string; tail: string };
  strip_response: boolean;
}

export interface SpecialToken {
  id: number;
  token: string;
}

export interface RmEncoding {
  padding_side: 'left';
  pad_id: number;
  bos_id: number | null;
  prepend_bos: boolean;
  add_special_tokens: boolean;
  vocab_size: number;
  special_tokens: Record<string, SpecialToken>;
  image_token_id: number;
  image_token: string;
  image_tokens: number;
  max_length: number;
}

export interface ImageSpec {
  mode: 'RGB';
  /** [width, height] (PIL's order) or {height, width}. */
  resize: [number, number] | { height: number; width: number };
  resample: string;
  crop: null | { height: number; width: number };
  rescale: number;
  mean: [number, number, number];
  std: [number, number, number];
  layout: 'CHW';
}

export interface CheckpointFingerprint {
  path: string;
  step: number | null;
  files: string[];
  mtime: number;
  sha256: string;
}

export interface RmSpec {
  dir: string;
  model: string;
  tokenizer: string;
  inputNames: string[];
  outputName: string;
  encoding: RmEncoding;
  image: ImageSpec;
  rmInput: RmInputPieces;
  factAugmentation: boolean;
  source: { run_dir: string; stage: string; checkpoint: string; fingerprint: CheckpointFingerprint };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads and checks `<dir>/rm.json`; throws ScoringError naming the file. */
export function readRmSpec(dir: string): RmSpec {
  const file = join(dir, RM_FILE);
  if (!existsSync(file)) {
    throw new ScoringError(
      `${file} not found: ${dir} is not a reward-model export (make one with \`python -m fact_rlhf export-rm-onnx --run-dir RUN --out DIR\`, or point at the rm run folder)`,
      file,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ScoringError(`${file}: not JSON: ${(err as Error).message}`, file);
  }
  return parseRmSpec(data, dir, file);
}

export function parseRmSpec(data: unknown, dir: string, file = join(dir, RM_FILE)): RmSpec {
  const fail = (why: string): never => {
    throw new ScoringError(`${file}: ${why}`, file);
  };
  if (!isObject(data)) return fail('not a JSON object');
  if (data.format !== RM_FORMAT)
    return fail(`not a Fact-RLHF reward-model export (format ${JSON.stringify(data.format)}, expected "${RM_FORMAT}")`);
  if (data.version !== RM_VERSION) {
    return fail(
      `format version ${JSON.stringify(data.version)}; this scorer reads version ${RM_VERSION} — re-export the model with this trainer (export-rm-onnx)`,
    );
  }
  const inputs = data.inputs;
  const outputs = data.outputs;
  if (!Array.isArray(inputs) || !inputs.every((i) => isObject(i) && typeof i.name === 'string'))
    return fail('`inputs` must list named inputs');
  if (!Array.isArray(outputs) || !isObject(outputs[0]) || typeof outputs[0].name !== 'string')
    return fail('`outputs` must name the score output');
  const enc = data.encoding;
  if (!isObject(enc)) return fail('no `encoding`');
  for (const key of ['pad_id', 'image_token_id', 'image_tokens', 'vocab_size', 'max_length'] as const) {
    if (typeof enc[key] !== 'number') fail(`encoding.${key} must be a number`);
  }
  if (enc.padding_side !== 'left')
    fail(`encoding.padding_side ${JSON.stringify(enc.padding_side)}: the score is read at the last position, so only "left" works`);
  if (typeof enc.prepend_bos !== 'boolean' || typeof enc.add_special_tokens !== 'boolean')
    fail('encoding.prepend_bos and add_special_tokens must be booleans');
  if (enc.prepend_bos && typeof enc.bos_id !== 'number') fail('encoding.prepend_bos needs a bos_id');
  if (!isObject(enc.special_tokens)) fail('encoding.special_tokens must be an object');
  const pieces = data.rm_input;
  if (!isObject(pieces) || !isObject(pieces.facts)) return fail('no `rm_input` template pieces');
  for (const key of ['prefix', 'question_prefix', 'before_response', 'without_facts'] as const) {
    if (typeof pieces[key] !== 'string') fail(`rm_input.${key} must be a string`);
  }
  for (const key of ['head', 'fact_prefix', 'tail'] as const) {
    if (typeof pieces.facts[key] !== 'string') fail(`rm_input.facts.${key} must be a string`);
  }
  const image = data.image;
  if (!isObject(image)) return fail('no `image` spec');
  if (!Array.isArray(image.mean) || !Array.isArray(image.std) || typeof image.rescale !== 'number')
    fail('image.mean, image.std and image.rescale are needed');
  const source = data.source;
  if (!isObject(source) || !isObject(source.fingerprint)) return fail('no `source.fingerprint` (the checkpoint it was exported from)');
  return {
    dir,
    model: typeof data.model === 'string' ? data.model : 'model.onnx',
    tokenizer: typeof data.tokenizer === 'string' ? data.tokenizer : 'tokenizer.json',
    inputNames: inputs.map((i) => String((i as Record<string, unknown>).name)),
    outputName: String(outputs[0].name),
    encoding: enc as unknown as RmEncoding,
    image: image as unknown as ImageSpec,
    rmInput: pieces as unknown as RmInputPieces,
    factAugmentation: data.fact_augmentation !== false,
    source: source as unknown as RmSpec['source'],
  };
}
