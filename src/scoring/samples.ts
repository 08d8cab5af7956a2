// Sample records to score (schema/sample-record.schema.json), read as the trainer's reference
// (trainer/fact_rlhf/score/samples.py) reads them, and the output line both print.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { ScoringError } from './modelSpec';

export interface ScoreRecord {
  /** 0-based position among the file's records. */
  index: number;
  prompt_id: string;
  step: number | null;
  prompt: string;
  response: string;
  facts: string[];
  /** Absolute image path. */
  image: string;
}

/** The nearest folder above the file with a run.json; else `samples/`'s parent; else its folder. */
export function runFolder(samplesFile: string): string {
  const here = resolve(samplesFile);
  for (let dir = dirname(here); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'run.json'))) return dir;
    if (dirname(dir) === dir) break;
  }
  return basename(dirname(here)) === 'samples' ? dirname(dirname(here)) : dirname(here);
}

/** Whether `file` is a run's sample-record file: `samples/<name>.jsonl`. */
export function isSamplesFile(file: string): boolean {
  return basename(dirname(resolve(file))) === 'samples' && file.endsWith('.jsonl');
}

/**
 * One sample-record line (1-based `lineNumber`) as a record to score; `base` is the run folder its
 * image is relative to. Throws ScoringError naming the file, line and field; a blank line is null.
 */
export function parseScoreRecordLine(line: string, samplesFile: string, lineNumber: number, base: string, index = 0): ScoreRecord | null {
  if (!line.trim()) return null;
  const where = `${samplesFile}:${lineNumber}`;
  let r: unknown;
  try {
    r = JSON.parse(line);
  } catch (err) {
    throw new ScoringError(`${where}: not JSON: ${(err as Error).message}`, samplesFile);
  }
  if (typeof r !== 'object' || r === null || Array.isArray(r))
    throw new ScoringError(`${where}: a sample record must be an object`, samplesFile);
  const rec = r as Record<string, unknown>;
  for (const key of ['prompt', 'response'] as const) {
    if (typeof rec[key] !== 'string') throw new ScoringError(`${where}: \`${key}\` must be a str`, samplesFile);
  }
  if (!Array.isArray(rec.facts) || !rec.facts.every((f) => typeof f === 'string')) {
    throw new ScoringError(`${where}: \`facts\` must be a list of strings`, samplesFile);
  }
  if (typeof rec.image !== 'string' || !rec.image)
    throw new ScoringError(`${where}: the record has no image (the reward model needs one)`, samplesFile);
  return {
    index,
    prompt_id: rec.prompt_id === undefined ? '' : String(rec.prompt_id),
    step: Number.isInteger(rec.step) ? (rec.step as number) : null,
    prompt: rec.prompt as string,
    response: rec.response as string,
    facts: rec.facts as string[],
    image: isAbsolute(rec.image) ? rec.image : join(base, rec.image),
  };
}

export function readScoreRecords(samplesFile: string): ScoreRecord[] {
  if (!existsSync(samplesFile)) throw new ScoringError(`--samples ${samplesFile}: file not found`, samplesFile);
  const base = runFolder(samplesFile);
  const out: ScoreRecord[] = [];
  readFileSync(samplesFile, 'utf8')
    .split(/\r?\n/)
    .forEach((line, i) => {
      const record = parseScoreRecordLine(line, samplesFile, i + 1, base, out.length);
      if (record) out.push(record);
    });
  if (out.length === 0) throw new ScoringError(`--samples ${samplesFile}: no sample records`, samplesFile);
  return out;
}

function signed(x: number): string {
  const s = x.toFixed(6);
  return s.startsWith('-') ? s : `${Object.is(x, -0) ? '-' : '+'}${s}`;
}

/** One output line, as `python -m fact_rlhf score` prints it. */
export function formatResult(record: ScoreRecord, withFacts: number, withoutFacts: number, json: boolean): string {
  const difference = withFacts - withoutFacts;
  if (json) {
    return JSON.stringify({
      index: record.index,
      prompt_id: record.prompt_id,
      step: record.step,
      with_facts: withFacts,
      without_facts: withoutFacts,
      difference,
    });
  }
  return `${String(record.index).padStart(4)}  ${record.prompt_id}  with_facts ${signed(withFacts)}  without_facts ${signed(withoutFacts)}  difference ${signed(difference)}`;
}
