// LLaVA-RLHF's rollout dumps, `<output_dir>/rollouts/step_N.json`: one JSON list per PPO step of
// {"queries": text, "responses": text, "rewards": "<float as text>"} (record_step_stats in
// RLHF/models/ppo_trainer.py). `rewards` is the reward model's score before the length bonus and KL,
// so it maps to reward.rm (not total). The dump has no prompt id: the id is a hash of the query text
// (formats/common.ts `promptHash`). No image, facts, spans, advantage or caption type: all missing.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parseLenient } from '../../readers/jsonl';
import type { ChunkReader } from '../chunkTable';
import type { RowMapper } from '../table';
import { bareRecord, isObject, promptHash, stringOrNull } from './common';

export { STEP_FILE, isLlavaRolloutsDir } from '../../readers/llavaRollouts';
export const ROLLOUTS_DIR = 'rollouts';

const KEY = Buffer.from('"responses"');
const isBlank = (b: number): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/** Occurrences of the "responses" key: in JSON text a `"` inside a string is escaped, so an
 * unescaped `"responses"` followed by `:` is a key; each record has one. */
function countRecords(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(KEY); i !== -1; i = buf.indexOf(KEY, i + KEY.length)) {
    let j = i + KEY.length;
    while (j < buf.length && isBlank(buf[j])) j++;
    if (buf[j] === 0x3a && (i === 0 || buf[i - 1] !== 0x5c)) n++;
  }
  return n;
}

export const llavaReader: ChunkReader = {
  async count(path) {
    const buf = await readFile(path);
    let end = buf.length - 1;
    while (end >= 0 && isBlank(buf[end])) end--;
    // json.dump is not atomic: until the closing bracket is there the file is still being written.
    if (end < 0 || buf[end] !== 0x5d) return undefined;
    const n = countRecords(buf);
    if (n === 0) {
      const all = parseLenient(buf.toString('utf8'));
      if (!Array.isArray(all) || all.length)
        throw new Error('not a LLaVA-RLHF rollout dump (expected a JSON list of {queries, responses, rewards})');
    }
    return n;
  },
  async rows(path) {
    const all = parseLenient(readFileSync(path, 'utf8'));
    if (!Array.isArray(all)) throw new Error('not a LLaVA-RLHF rollout dump (expected a JSON list of {queries, responses, rewards})');
    // Positions must match the key count: entries without the key are not records (and were not
    // counted); one with a non-text response is kept, for the mapping to reject and count.
    return all.filter((r) => isObject(r) && 'responses' in r);
  },
};

export const mapLlava: RowMapper = (raw, ctx) => {
  if (!isObject(raw) || typeof raw.responses !== 'string') return 'not a LLaVA-RLHF rollout record (no "responses" text)';
  const rec = bareRecord(raw.responses, ctx.step);
  rec.prompt = stringOrNull(raw.queries);
  rec.promptId = rec.prompt === null ? null : promptHash(rec.prompt);
  const rm = typeof raw.rewards === 'string' ? parseFloat(raw.rewards) : typeof raw.rewards === 'number' ? raw.rewards : NaN;
  if (Number.isFinite(rm)) rec.reward.rm = rm;
  return rec;
};
