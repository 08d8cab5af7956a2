// veRL's rollout dumps (`trainer.rollout_data_dir`): `<dir>/<step>.jsonl`, one sample per line —
// {"input", "output", "gts", "score", "step", ...the reward function's extra fields} (_dump_generations
// in verl/trainer/ppo/ray_trainer.py). Mapping:
// - `score` is the reward function's final score of the sequence, what veRL's advantage is computed
//   from: reward.total (veRL has no separate reward-model part to call `rm`);
// - every other numeric field (the reward function's extra infos, a numeric `gts`) goes to `extra`;
// - `gts` (ground truth) is not facts: a non-numeric one is left out;
// - no prompt id: a hash of the input text (common.ts `promptHash`); no image, spans or caption type.
import type { RowMapper } from '../table';
import { bareRecord, finiteOrNull, isObject, promptHash, stringOrNull } from './common';

export { STEP_FILE, isVerlRolloutFile, isVerlRolloutsDir, looksLikeVerlRecord } from '../../readers/verlRollouts';

const NOT_EXTRA = new Set(['input', 'output', 'score', 'step']);

export const mapVerl: RowMapper = (raw, ctx) => {
  if (!isObject(raw) || typeof raw.output !== 'string') return 'not a veRL rollout record (no "output" text)';
  const step = ctx.step ?? (Number.isInteger(raw.step) ? (raw.step as number) : null);
  const rec = bareRecord(raw.output, step);
  rec.prompt = stringOrNull(raw.input);
  rec.promptId = rec.prompt === null ? null : promptHash(rec.prompt);
  const score = finiteOrNull(raw.score);
  if (score !== null) rec.reward.total = score;
  for (const [k, v] of Object.entries(raw)) {
    const n = NOT_EXTRA.has(k) ? null : finiteOrNull(v);
    if (n !== null) rec.extra[k] = n;
  }
  return rec;
};
