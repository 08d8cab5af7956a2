// LLaVA-RLHF's rollout dumps: `<output_dir>/rollouts/step_<N>.json`, each a list of
// {"queries": text, "responses": text, "rewards": "<float as text>"} (record_step_stats in
// RLHF/models/ppo_trainer.py). Each file becomes one metric event at step N: the mean reward-model
// score (`ppo/score_rm`; the dump's rewards are the RM's, before the length bonus and KL) and the mean
// response length in words (`ppo/response_length` — the dump holds decoded text, not token ids; the
// health rules use its trend, which words track). New step files are picked up on each read.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { MetricEvent, RunEvent } from '../../protocol';
import { PROTOCOL_VERSION } from '../../protocol';
import { parseLenient } from './jsonl';
import type { MetricReader, ReaderBatch } from './types';

/** A rollout dump's file name; group 1 is the step (the sample inspector reads the same files). */
export const STEP_FILE = /^step_(\d+)\.json$/;

export const isLlavaRolloutsDir = (dir: string): boolean => {
  try {
    return readdirSync(dir).some((n) => STEP_FILE.test(n));
  } catch {
    return false;
  }
};

export class LlavaRolloutsReader implements MetricReader {
  readonly format = 'llava-rollouts' as const;
  readonly renamed = new Map<string, string>([
    ['ppo/score_rm', 'rewards'],
    ['ppo/response_length', 'responses (words)'],
  ]);
  corruptCount = 0;
  private readonly done = new Set<string>();

  /** `dir`: the rollouts/ folder. */
  constructor(readonly path: string) {}

  readNew(): ReaderBatch {
    const files = readdirSync(this.path)
      .map((n) => ({ n, m: STEP_FILE.exec(n) }))
      .filter((x): x is { n: string; m: RegExpExecArray } => x.m !== null && !this.done.has(x.n))
      .sort((a, b) => Number(a.m[1]) - Number(b.m[1]));
    const events: RunEvent[] = [];
    let corrupt = 0;
    for (const { n, m } of files) {
      let records: unknown;
      try {
        records = parseLenient(readFileSync(join(this.path, n), 'utf8'));
      } catch {
        // Possibly still being written (json.dump is not atomic): retry on the next read, count once.
        corrupt++;
        continue;
      }
      this.done.add(n);
      if (!Array.isArray(records) || !records.length) continue;
      let rewardSum = 0;
      let rewards = 0;
      let words = 0;
      let nonFinite = false;
      for (const r of records as Record<string, unknown>[]) {
        const reward = Number(r?.rewards);
        if (Number.isFinite(reward)) {
          rewardSum += reward;
          rewards++;
        } else if (r?.rewards !== undefined) nonFinite = true;
        if (typeof r?.responses === 'string') words += r.responses.split(/\s+/).filter(Boolean).length;
      }
      const values: Record<string, number | null> = { 'ppo/response_length': words / records.length };
      values['ppo/score_rm'] = nonFinite || !rewards ? null : rewardSum / rewards;
      events.push({ v: PROTOCOL_VERSION, t: 0, type: 'metric', step: Number(m[1]), values } as MetricEvent);
    }
    this.corruptCount += corrupt;
    return { events, corrupt };
  }
}
