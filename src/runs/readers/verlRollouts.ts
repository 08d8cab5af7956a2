// veRL's rollout dumps (`trainer.rollout_data_dir`): `<dir>/<step>.jsonl`, one sample per line —
// {"input", "output", "score", "step", ...the reward function's extra numeric fields} (_dump_generations
// in verl/trainer/ppo/ray_trainer.py). Each file becomes one metric event at its step: the mean score
// (`ppo/score_rm`), the mean output length in words (`ppo/response_length`; the dump holds text, not
// token ids) and the mean of each extra numeric field as `rollout/<field>`. A file is read once it ends
// with a newline (veRL writes it whole); new step files are picked up on each read.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { MetricEvent, RunEvent } from '../../protocol';
import { PROTOCOL_VERSION } from '../../protocol';
import { parseLenient, readFirstLine } from './jsonl';
import type { MetricReader, ReaderBatch } from './types';

/** A rollout dump's file name; group 1 is the step (the sample inspector reads the same files). */
export const STEP_FILE = /^(\d+)\.jsonl$/;
const NOT_FIELDS = new Set(['input', 'output', 'gts', 'score', 'step']);

/** Whether a parsed veRL dump line is one (its output text and score). */
export const looksLikeVerlRecord = (rec: unknown): boolean =>
  typeof rec === 'object' && rec !== null && typeof (rec as Record<string, unknown>).output === 'string' && 'score' in rec;

export function isVerlRolloutFile(file: string): boolean {
  if (!STEP_FILE.test(basename(file))) return false;
  try {
    const first = readFirstLine(file);
    return first !== undefined && looksLikeVerlRecord(parseLenient(first));
  } catch {
    return false;
  }
}

export const isVerlRolloutsDir = (dir: string): boolean => {
  try {
    const first = readdirSync(dir).find((n) => STEP_FILE.test(n));
    return first !== undefined && isVerlRolloutFile(join(dir, first));
  } catch {
    return false;
  }
};

export class VerlRolloutsReader implements MetricReader {
  readonly format = 'verl-rollouts' as const;
  readonly renamed = new Map<string, string>([
    ['ppo/score_rm', 'score'],
    ['ppo/response_length', 'output (words)'],
  ]);
  corruptCount = 0;
  private readonly done = new Set<string>();
  private readonly dir: string;
  private readonly only: string | undefined;

  /** `path`: the rollout_data_dir, or one of its `<step>.jsonl` files. */
  constructor(readonly path: string) {
    const isFile = statSync(path).isFile();
    this.dir = isFile ? dirname(path) : path;
    this.only = isFile ? basename(path) : undefined;
  }

  readNew(): ReaderBatch {
    const names = (this.only ? [this.only] : readdirSync(this.dir))
      .map((n) => ({ n, m: STEP_FILE.exec(n) }))
      .filter((x): x is { n: string; m: RegExpExecArray } => x.m !== null && !this.done.has(x.n))
      .sort((a, b) => Number(a.m[1]) - Number(b.m[1]));
    const events: RunEvent[] = [];
    let corrupt = 0;
    for (const { n, m } of names) {
      const text = readFileSync(join(this.dir, n), 'utf8');
      if (!text.endsWith('\n')) continue; // still being written
      this.done.add(n);
      const sums = new Map<string, { sum: number; count: number; nonFinite: boolean }>();
      const add = (key: string, v: unknown): void => {
        let s = sums.get(key);
        if (!s) sums.set(key, (s = { sum: 0, count: 0, nonFinite: false }));
        if (typeof v === 'number' && Number.isFinite(v)) {
          s.sum += v;
          s.count++;
        } else s.nonFinite = true; // NaN written by Python's json, or null
      };
      let step = Number(m[1]);
      for (const line of text.split('\n')) {
        if (!line.trim()) continue;
        let rec: Record<string, unknown>;
        try {
          rec = parseLenient(line) as Record<string, unknown>;
        } catch {
          corrupt++;
          continue;
        }
        if (typeof rec.step === 'number') step = rec.step;
        if ('score' in rec) add('ppo/score_rm', rec.score);
        if (typeof rec.output === 'string') add('ppo/response_length', rec.output.split(/\s+/).filter(Boolean).length);
        for (const [k, v] of Object.entries(rec)) if (!NOT_FIELDS.has(k) && (typeof v === 'number' || v === null)) add(`rollout/${k}`, v);
      }
      if (!sums.size) continue;
      const values: Record<string, number | null> = {};
      for (const [k, s] of sums) values[k] = s.nonFinite || !s.count ? null : s.sum / s.count;
      events.push({ v: PROTOCOL_VERSION, t: 0, type: 'metric', step, values } as MetricEvent);
    }
    this.corruptCount += corrupt;
    return { events, corrupt };
  }
}
