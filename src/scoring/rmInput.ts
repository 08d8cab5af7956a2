// The reward model's input built from rm.json's pieces (cut by the trainer out of its one
// template, algo/rm_prompt.py): text → token ids → left-padded int64 batches.
import type { RmEncoding, RmInputPieces } from './modelSpec';
import { ScoringError } from './modelSpec';

// Python's str.split()/str.strip() whitespace (str.isspace), which the trainer's fact cleaning and
// response strip use; JavaScript's \s and trim() differ on \x1c-\x1f, \x85 and \ufeff.
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const SPACE_RUN = new RegExp(`[${PY_SPACE}]+`, 'g');
const EDGES = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'g');

export function pyStrip(text: string): string {
  return text.replace(EDGES, '');
}

/** One fact per bullet: whitespace runs collapsed, empty facts dropped; order kept. */
export function cleanFacts(facts: readonly string[]): string[] {
  return facts.map((f) => pyStrip(f.replace(SPACE_RUN, ' '))).filter((f) => f.length > 0);
}

/** The RM text for a sample record's prompt and a response, with `facts` (null: without facts). */
export function rmText(pieces: RmInputPieces, prompt: string, response: string, facts: readonly string[] | null): string {
  const head =
    pieces.prefix + pieces.question_prefix + prompt + pieces.before_response + (pieces.strip_response ? pyStrip(response) : response);
  const cleaned = facts ? cleanFacts(facts) : [];
  if (cleaned.length === 0) return head + pieces.without_facts;
  const f = pieces.facts;
  return head + f.head + cleaned.map((fact) => f.fact_prefix + fact).join('') + f.tail;
}

/** What the scorer needs of a tokenizer (the worker wraps the `tokenizers` binding). */
export interface TextTokenizer {
  encode(text: string, addSpecialTokens: boolean): Promise<number[]>;
}

/** Token ids as the trainer's codec makes them: each image token expanded to `image_tokens`
 *  ids, BOS prepended when the export says so; longer than max_length is an error (never cut). */
export async function encodeRmText(encoding: RmEncoding, tokenizer: TextTokenizer, text: string, what: string): Promise<number[]> {
  const raw = await tokenizer.encode(text, encoding.add_special_tokens);
  const ids: number[] = encoding.prepend_bos && encoding.bos_id !== null ? [encoding.bos_id] : [];
  for (const id of raw) {
    if (id === encoding.image_token_id) for (let k = 0; k < encoding.image_tokens; k++) ids.push(id);
    else ids.push(id);
  }
  if (ids.length > encoding.max_length) {
    throw new ScoringError(`${what}: the RM input is ${ids.length} tokens, longer than the model's max_length ${encoding.max_length}`);
  }
  return ids;
}

export interface PaddedBatch {
  ids: BigInt64Array;
  mask: BigInt64Array;
  rows: number;
  width: number;
}

/** Pads on the LEFT: the model reads its score at the last position of every row. */
export function leftPad(rows: readonly number[][], padId: number): PaddedBatch {
  const width = Math.max(1, ...rows.map((r) => r.length));
  const ids = new BigInt64Array(rows.length * width).fill(BigInt(padId));
  const mask = new BigInt64Array(rows.length * width);
  rows.forEach((row, i) => {
    const start = i * width + width - row.length;
    for (let j = 0; j < row.length; j++) {
      ids[start + j] = BigInt(row[j]);
      mask[start + j] = 1n;
    }
  });
  return { ids, mask, rows: rows.length, width };
}
