// TRL's completion tables: GRPOTrainer with `log_completions=True` writes, at each logging step,
// `<output_dir>/completions/completions_{global_step:05d}.parquet` (pandas `to_parquet`) with the
// columns `step`, `prompt`, `completion`, one column per reward function (named after it) and
// `advantage` — `log()` in trl/trainer/grpo_trainer.py (huggingface/trl), and the "TRL Completion
// logs" dataset card TRL pushes with them ("<reward_function_name>: the reward(s) assigned to the
// completion by the reward function(s)"). Some TRL versions write only step/prompt/completion, some
// forks a `mode` column and one folder per mode (completions/train/): both read the same way.
// Mapping: every reward-function column goes to `extra` under its own name — TRL sums them with
// weights we do not know, so no `total` (nor `rm`) is invented, even for a single column;
// `advantage` → advantage; a conversational prompt or completion (a list of {role, content}) is shown
// as "role: text" lines. No prompt id: a hash of the prompt text (common.ts `promptHash`).
import { readFile } from 'node:fs/promises';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import type { ChunkReader } from '../chunkTable';
import type { RowMapper } from '../table';
import { bareRecord, finiteOrNull, isObject, promptHash } from './common';

export const STEP_FILE = /^completions_(\d+)\.parquet$/;
export const COMPLETIONS_DIR = 'completions';

const NOT_EXTRA = new Set(['step', 'prompt', 'completion', 'advantage', 'mode', 'image', 'images']);

export const trlReader: ChunkReader = {
  async count(path) {
    try {
      const meta = await parquetMetadataAsync(await asyncBufferFromFile(path));
      return Number(meta.num_rows);
    } catch (err) {
      // pandas writes the footer last: a file without one yet is still being written.
      if (/magic|footer|too short|length/i.test((err as Error).message)) return undefined;
      throw err;
    }
  },
  async rows(path) {
    const buf = await readFile(path);
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
    const rows = await parquetReadObjects({ file: ab, compressors, rowFormat: 'object' });
    if (rows.length && !('completion' in rows[0]))
      throw new Error(`not a TRL completions table (columns ${Object.keys(rows[0]).join(', ')}; expected prompt, completion)`);
    return rows;
  },
};

/** Text of a plain or conversational (list of {role, content}) prompt or completion. */
export function messageText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (!Array.isArray(v)) return null;
  const lines: string[] = [];
  for (const m of v) {
    if (!isObject(m)) continue;
    const c = m.content;
    // Multimodal content is a list of parts ({type: 'text', text} or {type: 'image'}).
    const text =
      typeof c === 'string'
        ? c
        : Array.isArray(c)
          ? c.map((p) => (isObject(p) ? (typeof p.text === 'string' ? p.text : p.type === 'image' ? '<image>' : '') : '')).join('')
          : '';
    lines.push(typeof m.role === 'string' ? `${m.role}: ${text}` : text);
  }
  return lines.join('\n');
}

export const mapTrl: RowMapper = (raw, ctx) => {
  if (!isObject(raw)) return 'not a TRL completion row';
  const response = messageText(raw.completion);
  if (response === null) return 'not a TRL completion row (no "completion")';
  const column = finiteOrNull(typeof raw.step === 'string' ? Number(raw.step) : raw.step);
  const rec = bareRecord(response, ctx.step ?? (column !== null && Number.isInteger(column) ? column : null));
  rec.prompt = messageText(raw.prompt);
  rec.promptId = rec.prompt === null ? null : promptHash(rec.prompt);
  rec.advantage = finiteOrNull(raw.advantage);
  for (const [k, v] of Object.entries(raw)) {
    const n = NOT_EXTRA.has(k) || typeof v === 'boolean' ? null : finiteOrNull(v);
    if (n !== null) rec.extra[k] = n;
  }
  return rec;
};
