// Opens any sample file or folder by looking at what is there: a run folder or its samples/ (ours), a
// LLaVA-RLHF rollouts/ folder or step_N.json, a veRL rollout folder or <step>.jsonl, a TRL
// completions/ folder or completions_N.parquet. Anything else is refused with the path and what
// was expected (SourceError, as the metric readers do).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetSchema } from 'hyparquet';
import type { SampleFormat } from '../../protocol/webviews/sampleInspector';
import { parseLenient, readFirstLine } from '../readers/jsonl';
import { SourceError } from '../readers/types';
import { MANIFEST_FILE } from '../runDirectory';
import { ChunkTable, type ChunkReader } from './chunkTable';
import { oneFile, stepFilesIn } from './formats/common';
import { SAMPLES_DIR, STEP_FILE as OUR_STEP, looksLikeSampleRecord, mapFactRlhf } from './formats/factRlhf';
import { ROLLOUTS_DIR, STEP_FILE as LLAVA_STEP, isLlavaRolloutsDir, llavaReader, mapLlava } from './formats/llavaRollouts';
import { COMPLETIONS_DIR, STEP_FILE as TRL_STEP, mapTrl, trlReader } from './formats/trlCompletions';
import { STEP_FILE as VERL_STEP, isVerlRolloutsDir, looksLikeVerlRecord, mapVerl } from './formats/verlRollouts';
import { IndexedSampleSource, type SourceOptions } from './indexedSource';
import { JsonlTable, type StepFile } from './jsonlTable';
import type { RowMapper } from './table';
import type { SampleSource } from './types';

export { SourceError };
export type { SourceOptions };

interface Plan {
  format: SampleFormat;
  path: string;
  runDir: string | null;
  title: string;
  baseDir: string;
  files: () => StepFile[];
}

const MAPPERS: Record<SampleFormat, RowMapper> = {
  'fact-rlhf': mapFactRlhf,
  'llava-rollouts': mapLlava,
  'verl-rollouts': mapVerl,
  'trl-completions': mapTrl,
};
const CHUNKED: Partial<Record<SampleFormat, ChunkReader>> = { 'llava-rollouts': llavaReader, 'trl-completions': trlReader };

const EXPECTED =
  'expected a run folder (run.json, samples/step-N.jsonl), a samples/ folder, LLaVA-RLHF rollouts/step_N.json, veRL <step>.jsonl rollout dumps or TRL completions/completions_N.parquet';

const isDir = (p: string): boolean => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/** Opens the samples at `path` (see the file comment for what it may be). */
export async function openSampleSource(path: string, opts: SourceOptions = {}): Promise<SampleSource> {
  const abs = resolve(path);
  let dir: boolean;
  try {
    dir = statSync(abs).isDirectory();
  } catch {
    throw new SourceError(`${abs}: no such file or folder`);
  }
  const plan = dir ? planFolder(abs) : await planFile(abs);
  const chunked = CHUNKED[plan.format];
  const table = chunked ? await ChunkTable.open(plan.files, chunked) : new JsonlTable(plan.files);
  return new IndexedSampleSource(table, MAPPERS[plan.format], plan, opts);
}

/** Our samples folder and the run it belongs to (a folder named samples/, or one beside a run.json). */
function ours(samplesDir: string, runDir: string | null, path: string, files: () => StepFile[], title?: string): Plan {
  return {
    format: 'fact-rlhf',
    path,
    runDir,
    title: title ?? basename(runDir ?? path),
    baseDir: runDir ?? samplesDir,
    files,
  };
}

const runOf = (samplesDir: string): string | null => {
  const parent = dirname(samplesDir);
  return basename(samplesDir) === SAMPLES_DIR || existsSync(join(parent, MANIFEST_FILE)) ? parent : null;
};

function peer(format: SampleFormat, dir: string, path: string, pattern: RegExp): Plan {
  return { format, path, runDir: null, title: basename(path), baseDir: dir, files: () => stepFilesIn(dir, pattern) };
}

function planFolder(dir: string): Plan {
  if (existsSync(join(dir, MANIFEST_FILE)) || isDir(join(dir, SAMPLES_DIR))) {
    const samples = join(dir, SAMPLES_DIR);
    return ours(samples, dir, dir, () => stepFilesIn(samples, OUR_STEP));
  }
  if (basename(dir) === SAMPLES_DIR || stepFilesIn(dir, OUR_STEP).length)
    return ours(dir, runOf(dir), dir, () => stepFilesIn(dir, OUR_STEP));
  if (isLlavaRolloutsDir(dir)) return peer('llava-rollouts', dir, dir, LLAVA_STEP);
  if (isLlavaRolloutsDir(join(dir, ROLLOUTS_DIR))) return peer('llava-rollouts', join(dir, ROLLOUTS_DIR), dir, LLAVA_STEP);
  // TRL: completions_N.parquet here, in completions/, or (a fork's layout) in completions/train/.
  for (const d of [dir, join(dir, COMPLETIONS_DIR), join(dir, 'train'), join(dir, COMPLETIONS_DIR, 'train')])
    if (stepFilesIn(d, TRL_STEP).length) return peer('trl-completions', d, dir, TRL_STEP);
  if (isVerlRolloutsDir(dir)) return peer('verl-rollouts', dir, dir, VERL_STEP);
  throw new SourceError(`${dir}: no sample files here: ${EXPECTED}`);
}

/** Keys of a parsed first record, for an error that says what was there instead. */
const keysOf = (v: unknown): string =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
    ? `keys ${Object.keys(v).slice(0, 8).join(', ') || '(none)'}`
    : `a JSON ${Array.isArray(v) ? 'list' : typeof v}`;

async function planFile(file: string): Promise<Plan> {
  const name = basename(file);
  const dir = dirname(file);
  const single = (format: SampleFormat, pattern: RegExp): Plan => ({
    format,
    path: file,
    runDir: null,
    title: name,
    baseDir: dir,
    files: () => oneFile(file, pattern, name),
  });
  if (OUR_STEP.test(name)) {
    const runDir = runOf(dir);
    return ours(dir, runDir, file, () => oneFile(file, OUR_STEP, name), runDir ? `${basename(runDir)} · ${name}` : name);
  }
  if (LLAVA_STEP.test(name)) return single('llava-rollouts', LLAVA_STEP);
  if (extname(name) === '.parquet') {
    let columns: string[];
    try {
      const meta = await parquetMetadataAsync(await asyncBufferFromFile(file));
      columns = parquetSchema(meta).children.map((c) => c.element.name);
    } catch (err) {
      throw new SourceError(`${file}: not a readable parquet file (${(err as Error).message}); expected a TRL completions_N.parquet table`);
    }
    if (!columns.includes('completion'))
      throw new SourceError(
        `${file}: not a TRL completions table: columns ${columns.join(', ')}; expected step, prompt, completion, reward columns, advantage`,
      );
    return single('trl-completions', TRL_STEP);
  }
  if (extname(name) === '.jsonl') {
    // Which JSONL: ours or veRL's, by the first record (a file still empty goes by its name).
    let first: unknown;
    const line = readFirstLine(file);
    if (line !== undefined) {
      try {
        first = parseLenient(line);
      } catch {
        throw new SourceError(`${file}:1: not valid JSON; expected a sample record per line (fact-rlhf samples or veRL rollouts)`);
      }
      if (looksLikeSampleRecord(first)) return ours(dir, runOf(dir), file, () => oneFile(file, OUR_STEP, name), name);
      if (looksLikeVerlRecord(first)) return single('verl-rollouts', VERL_STEP);
      throw new SourceError(
        `${file}:1: not a sample record (${keysOf(first)}); expected a fact-rlhf sample (prompt_id, response, reward) or a veRL rollout line (input, output, score)`,
      );
    }
    if (VERL_STEP.test(name)) return single('verl-rollouts', VERL_STEP);
  }
  if (extname(name) === '.json') {
    let all: unknown;
    try {
      all = parseLenient(readFileSync(file, 'utf8'));
    } catch {
      throw new SourceError(`${file}: not valid JSON; expected a LLaVA-RLHF rollout dump (a JSON list of {queries, responses, rewards})`);
    }
    if (Array.isArray(all) && (!all.length || looksLikeLlava(all[0]))) return single('llava-rollouts', LLAVA_STEP);
    throw new SourceError(
      `${file}: not a LLaVA-RLHF rollout dump (${Array.isArray(all) ? `first entry has ${keysOf(all[0])}` : keysOf(all)}); expected a JSON list of {queries, responses, rewards}`,
    );
  }
  throw new SourceError(`${file}: not a sample file: ${EXPECTED}`);
}

const looksLikeLlava = (v: unknown): boolean =>
  typeof v === 'object' && v !== null && typeof (v as Record<string, unknown>).responses === 'string';
