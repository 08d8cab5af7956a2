// Our own samples: <run>/samples/step-NNNNNN.jsonl, one schema/sample-record.schema.json record per
// line (trainer/fact_rlhf/rundir.py `samples()`). Image paths are relative to the run folder (or
// absolute); hallucination spans are the Python judge's code-point offsets, converted to UTF-16.
import { isAbsolute, resolve, sep } from 'node:path';
import type { RewardParts, Span } from '../../../protocol/webviews/sampleInspector';
import { codePointSpansToUtf16 } from '../../../protocol/spans';
import type { RowMapper } from '../table';
import { bareRecord, finiteOrNull, isObject, stringOrNull } from './common';

export const STEP_FILE = /^step-(\d+)\.jsonl$/;
export const SAMPLES_DIR = 'samples';

const REWARD_PARTS: (keyof RewardParts)[] = ['rm', 'eos_penalty', 'length', 'symbolic', 'kl', 'total'];

const isSpan = (s: unknown): s is Span =>
  Array.isArray(s) && s.length === 3 && Number.isInteger(s[0]) && Number.isInteger(s[1]) && typeof s[2] === 'string';

/** Whether a parsed line is one of ours (for telling our JSONL from a peer's). */
export const looksLikeSampleRecord = (v: unknown): boolean => isObject(v) && typeof v.response === 'string' && 'prompt_id' in v;

/** The image's absolute path; a plain relative path (the trainer's `world/images/x.png`) is joined
 * without path.resolve, which costs more than the rest of a record's mapping. */
function absoluteImage(baseDir: string, image: string): string {
  if (isAbsolute(image)) return image;
  return /(^|[\\/])\.\.?([\\/]|$)/.test(image) ? resolve(baseDir, image) : `${baseDir}${sep}${image}`;
}

export const mapFactRlhf: RowMapper = (raw, ctx) => {
  if (!isObject(raw)) return 'not a sample record (expected a JSON object)';
  if (typeof raw.response !== 'string') return 'not a sample record (no "response" text)';
  const rec = bareRecord(raw.response, Number.isInteger(raw.step) ? (raw.step as number) : ctx.step);
  rec.promptId = stringOrNull(raw.prompt_id);
  rec.prompt = stringOrNull(raw.prompt);
  if (Array.isArray(raw.facts)) rec.facts = raw.facts.filter((f): f is string => typeof f === 'string');
  if (typeof raw.image === 'string' && raw.image) rec.image = absoluteImage(ctx.baseDir, raw.image);
  if (isObject(raw.reward))
    for (const part of REWARD_PARTS) {
      const v = finiteOrNull(raw.reward[part]);
      if (v !== null) rec.reward[part] = v;
    }
  rec.advantage = finiteOrNull(raw.advantage);
  const h = raw.hallucination;
  if (isObject(h) && Array.isArray(h.spans))
    rec.hallucination = {
      // A malformed span cannot be drawn or sent to the view: dropped here; out-of-range ones are kept
      // (segmentSpans counts them, so the view can say some could not be placed).
      spans: codePointSpansToUtf16(raw.response, h.spans.filter(isSpan)),
      source: typeof h.source === 'string' ? h.source : 'unknown',
    };
  rec.captionType = Number.isInteger(raw.caption_type) ? (raw.caption_type as number) : null;
  return rec;
};
