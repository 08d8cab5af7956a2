// Small pieces every sample format's mapping shares.
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { InspectorRecord } from '../../../protocol/webviews/sampleInspector';
import type { StepFile } from '../jsonlTable';

export const finiteOrNull = (v: unknown): number | null => {
  const n = typeof v === 'bigint' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : null;
};

export const stringOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The prompt id of a source that has none (LLaVA-RLHF, veRL, TRL dumps hold the prompt text only): a
 * stable hash of the prompt text, so the same prompt is followed across steps and matched between two
 * runs. Marked `text:` so nobody takes it for a dataset id.
 */
export function promptHash(text: string): string {
  return `text:${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
}

/** A record with every field missing but the response (a format fills in what it has). */
export function bareRecord(response: string, step: number | null): Omit<InspectorRecord, 'index'> {
  return {
    step,
    promptId: null,
    prompt: null,
    response,
    facts: null,
    image: null,
    reward: {},
    extra: {},
    advantage: null,
    hallucination: null,
    captionType: null,
  };
}

/** The files of `dir` whose name matches `pattern` (group 1: the step), by step. */
export function stepFilesIn(dir: string, pattern: RegExp): StepFile[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .map((n) => ({ n, m: pattern.exec(n) }))
    .filter((x): x is { n: string; m: RegExpExecArray } => x.m !== null)
    .map(({ n, m }) => ({ path: join(dir, n), step: Number(m[1]) }))
    .sort((a, b) => a.step - b.step || a.path.localeCompare(b.path));
}

/** One file as a listing (a source opened on a single step file). */
export function oneFile(path: string, pattern: RegExp, name: string): StepFile[] {
  const m = pattern.exec(name);
  return [{ path, step: m ? Number(m[1]) : null }];
}
