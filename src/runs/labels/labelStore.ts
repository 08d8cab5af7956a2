// Human labels of one run's samples (issue #11): hallucinated spans of a response and which of two
// responses to one prompt is better. They live in <run>/labels/ as two append-only JSONL files,
// one whole line per change, the last line for a key winning: two windows labelling the same run,
// or a crash mid-write, never lose a label that was written in full. Each line carries the record
// it labels (prompt, response, image, facts), so the export needs nothing but this folder.
import { createHash } from 'node:crypto';
import { appendFileSync, closeSync, fstatSync, mkdirSync, openSync, readSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { PROTOCOL_VERSION } from '../../protocol';
import type { Validator } from '../../protocol/guards';
import { arrayOf, finite, integer, literal, nullable, object, string } from '../../protocol/guards';
import type { InspectorRecord, LabelsState, Span } from '../../protocol/webviews/sampleInspector';
import { exportLabels, type ExportResult } from './labelExport';

export const LABELS_DIR = 'labels';
export const SPANS_FILE = 'spans.jsonl';
export const PREFERENCES_FILE = 'preferences.jsonl';
/** How many corrupt lines are named by file:line (all are counted). */
const MAX_CORRUPT_NAMED = 10;

export class LabelError extends Error {}

/**
 * The record as a label line keeps it: enough to export a preference pair or a span label without
 * the sample source. `image` is relative to the run folder when it lies inside it, else absolute.
 */
export interface LabelledRecord {
  key: string;
  step: number | null;
  prompt_id: string | null;
  prompt: string | null;
  response: string;
  image: string | null;
  facts: string[] | null;
  caption_type: number | null;
  /** The judge's span count on the record when it was labelled (null: the source has no judge). */
  judge_spans: number | null;
}

export interface SpanLine {
  v: number;
  t: number;
  key: string;
  record: LabelledRecord;
  /** null: the human's label was cleared (back to "not labelled"); []: "no hallucination". */
  spans: Span[] | null;
}

export interface PreferenceLine {
  v: number;
  t: number;
  /** The pair's key: its two record keys, sorted, so (a, b) and (b, a) are one pair. */
  key: string;
  a: LabelledRecord;
  b: LabelledRecord;
  /** Which of a and b is better; null removes the pair. */
  preferred: 1 | 2 | null;
}

const spanValue: Validator<Span> = {
  check(value, path) {
    if (!Array.isArray(value) || value.length !== 3) return `${path} must be [start, end, label]`;
    const [s, e, label] = value as unknown[];
    return Number.isInteger(s) && Number.isInteger(e) && typeof label === 'string'
      ? undefined
      : `${path} must be [integer, integer, string]`;
  },
};
const labelledRecord: Validator<LabelledRecord> = object({
  key: string,
  step: nullable(integer),
  prompt_id: nullable(string),
  prompt: nullable(string),
  response: string,
  image: nullable(string),
  facts: nullable(arrayOf(string)),
  caption_type: nullable(integer),
  judge_spans: nullable(integer),
});
/** A validator that, once `base` passes, also checks what the types cannot say. */
function refined<T>(base: Validator<T>, rule: (value: T) => string | undefined): Validator<T> {
  return { check: (value, path) => base.check(value, path) ?? rule(value as T) };
}

// Lines are checked on read as on write: a hand-edited or foreign line is counted corrupt, not exported.
const spanLine: Validator<SpanLine> = refined(
  object({ v: integer, t: finite, key: string, record: labelledRecord, spans: nullable(arrayOf(spanValue)) }),
  (line) => {
    if (line.spans === null) return undefined;
    try {
      validateSpans(line.spans, line.record.response);
      return undefined;
    } catch (err) {
      return `line.${(err as Error).message}`;
    }
  },
);
const preferenceLine: Validator<PreferenceLine> = refined(
  object({ v: integer, t: finite, key: string, a: labelledRecord, b: labelledRecord, preferred: nullable(literal(1, 2)) }),
  (line) =>
    line.preferred !== null && (line.a.prompt === null || line.a.image === null) ? 'line.a must have a prompt and an image' : undefined,
);

const shortHash = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 16);

/**
 * A record's identity for labelling, independent of its index in whichever source is open:
 * `<step>/<prompt id>/<hash of the response>` (`-` for a missing step; `#<hash of the prompt>` for a
 * missing prompt id). Two identical responses to one prompt at one step are one sample here: the
 * human judges the text, and the two would get the same label anyway.
 */
export function recordKey(record: Pick<InspectorRecord, 'step' | 'promptId' | 'prompt' | 'response'>): string {
  const prompt = record.promptId ?? `#${shortHash(record.prompt ?? '')}`;
  return `${record.step ?? '-'}/${prompt}/${shortHash(record.response)}`;
}

/** Order-free key of a pair of records. */
export function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

/** Throws LabelError unless every span is [start, end, label] with 0 ≤ start < end ≤ response length. */
export function validateSpans(spans: unknown, response: string): Span[] {
  if (!Array.isArray(spans)) throw new LabelError('spans must be a list of [start, end, label]');
  return spans.map((span, i) => {
    const problem = spanValue.check(span, `spans[${i}]`);
    if (problem) throw new LabelError(problem);
    const [start, end, label] = span as Span;
    if (start < 0 || start >= end || end > response.length)
      throw new LabelError(`spans[${i}]: [${start}, ${end}) must satisfy 0 ≤ start < end ≤ ${response.length} (the response's length)`);
    if (!label.trim()) throw new LabelError(`spans[${i}]: the label must not be empty`);
    return [start, end, label] as Span;
  });
}

/** Appended lines of one JSONL file, read from a byte offset; a torn last line waits for the rest. */
class AppendLog<L> {
  private offset = 0;
  private lineNo = 0;
  corrupt = 0;
  readonly corruptAt: string[] = [];

  constructor(
    readonly path: string,
    private readonly validator: Validator<L>,
  ) {}

  /** The complete lines added since the last call, parsed and validated; bad ones are counted. */
  readNew(): L[] {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    let buf: Buffer;
    try {
      const size = fstatSync(fd).size;
      buf = Buffer.alloc(Math.max(0, size - this.offset));
      const got = buf.length ? readSync(fd, buf, 0, buf.length, this.offset) : 0;
      buf = buf.subarray(0, got);
    } finally {
      closeSync(fd);
    }
    const end = buf.lastIndexOf(0x0a);
    if (end < 0) return [];
    this.offset += end + 1;
    const out: L[] = [];
    for (const text of buf.subarray(0, end).toString('utf8').split('\n')) {
      this.lineNo++;
      if (!text.trim()) continue;
      const problem = this.problem(text);
      if (typeof problem === 'string') {
        this.corrupt++;
        if (this.corruptAt.length < MAX_CORRUPT_NAMED) this.corruptAt.push(`${this.path}:${this.lineNo}: ${problem}`);
      } else out.push(problem.line);
    }
    return out;
  }

  private problem(text: string): string | { line: L } {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return 'not valid JSON';
    }
    const problem = this.validator.check(value, 'line');
    return problem ?? { line: value as L };
  }

  /**
   * Appends one whole line. A file whose last line is torn (a crash mid-write) gets a newline
   * first, so the torn piece stays one corrupt line and never swallows this one.
   */
  append(line: L): void {
    const text = `${JSON.stringify(line)}\n`;
    appendFileSync(this.path, this.endsTorn() ? `\n${text}` : text, 'utf8');
  }

  private endsTorn(): boolean {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return false;
    }
    try {
      const size = fstatSync(fd).size;
      if (size === 0) return false;
      const last = Buffer.alloc(1);
      readSync(fd, last, 0, 1, size - 1);
      return last[0] !== 0x0a;
    } finally {
      closeSync(fd);
    }
  }
}

export class LabelStore {
  readonly runDir: string;
  readonly dir: string;
  private readonly spanLog: AppendLog<SpanLine>;
  private readonly preferenceLog: AppendLog<PreferenceLine>;
  /** The last line for each key (file order: a later line replaces an earlier one). */
  private readonly spanLines = new Map<string, SpanLine>();
  private readonly preferenceLines = new Map<string, PreferenceLine>();

  constructor(runDir: string) {
    this.runDir = resolve(runDir);
    this.dir = join(this.runDir, LABELS_DIR);
    this.spanLog = new AppendLog(join(this.dir, SPANS_FILE), spanLine);
    this.preferenceLog = new AppendLog(join(this.dir, PREFERENCES_FILE), preferenceLine);
    this.refresh();
  }

  /** Picks up lines another window (or process) appended since. */
  refresh(): void {
    for (const line of this.spanLog.readNew()) this.spanLines.set(line.key, line);
    for (const line of this.preferenceLog.readNew()) this.preferenceLines.set(line.key, line);
  }

  /** Corrupt lines skipped in both files, and where the first few are (file:line: why). */
  get corrupt(): { count: number; at: string[] } {
    return { count: this.spanLog.corrupt + this.preferenceLog.corrupt, at: [...this.spanLog.corruptAt, ...this.preferenceLog.corruptAt] };
  }

  /** The human's full span list for a record; [] says "no hallucination" (not the same as unlabelled). */
  setSpans(record: InspectorRecord, spans: Span[]): void {
    const checked = validateSpans(spans, record.response).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    this.write(this.spanLog, { v: PROTOCOL_VERSION, t: now(), key: recordKey(record), record: this.labelled(record), spans: checked });
  }

  /** Back to "not labelled": the judge's spans (if any) show again. */
  clearSpans(record: InspectorRecord): void {
    const key = recordKey(record);
    this.refresh();
    if (this.spanLines.get(key)?.spans == null) return;
    this.write(this.spanLog, { v: PROTOCOL_VERSION, t: now(), key, record: this.labelled(record), spans: null });
  }

  /**
   * Which of two responses to the same prompt is better (1: a, 2: b); null removes the pair.
   * Refused: the same record twice, different prompts (text or id), different images, or a
   * record without prompt or image (the preference format cannot hold it).
   */
  setPreference(a: InspectorRecord, b: InspectorRecord, preferred: 1 | 2 | null): void {
    if (preferred !== null && preferred !== 1 && preferred !== 2)
      throw new LabelError(`preferred must be 1, 2 or null, got ${String(preferred)}`);
    const ka = recordKey(a);
    const kb = recordKey(b);
    if (ka === kb)
      throw new LabelError(`a preference needs two different responses: records ${a.index} and ${b.index} are the same sample (${ka})`);
    const key = pairKey(ka, kb);
    if (preferred === null) {
      this.refresh();
      if (this.preferenceLines.get(key)?.preferred == null) return;
    } else {
      if (a.promptId !== b.promptId || a.prompt !== b.prompt)
        throw new LabelError(
          `records ${a.index} and ${b.index} answer different prompts (${describePrompt(a)} vs ${describePrompt(b)}): a preference compares two responses to one prompt`,
        );
      if (a.prompt === null)
        throw new LabelError(`records ${a.index} and ${b.index} have no prompt text: a preference pair needs the prompt`);
      if (a.image === null || b.image === null)
        throw new LabelError(`record ${a.image === null ? a.index : b.index} has no image: the rm stage's preference format needs one`);
      if (resolve(a.image) !== resolve(b.image))
        throw new LabelError(`records ${a.index} and ${b.index} show different images (${a.image} vs ${b.image})`);
    }
    this.write(this.preferenceLog, { v: PROTOCOL_VERSION, t: now(), key, a: this.labelled(a), b: this.labelled(b), preferred });
  }

  /** Span labels in force (cleared ones left out), by record key. */
  spanLabels(): SpanLine[] {
    this.refresh();
    return [...this.spanLines.values()].filter((l) => l.spans !== null);
  }

  /** Preference pairs in force (removed ones left out). */
  preferences(): PreferenceLine[] {
    this.refresh();
    return [...this.preferenceLines.values()].filter((l) => l.preferred !== null);
  }

  /** The labels for the view: `indexOf` maps a record key to its index in the open source (or none). */
  state(indexOf: (key: string) => number | undefined): LabelsState {
    const spans: Record<string, Span[]> = {};
    for (const line of this.spanLabels()) {
      const index = indexOf(line.key);
      if (index !== undefined) spans[String(index)] = line.spans ?? [];
    }
    const pairs: LabelsState['pairs'] = [];
    for (const line of this.preferences()) {
      const a = indexOf(line.a.key);
      const b = indexOf(line.b.key);
      if (a !== undefined && b !== undefined && line.preferred !== null) pairs.push({ a, b, preferred: line.preferred });
    }
    return { spans, pairs };
  }

  /**
   * Writes labels/preferences.json (or `outPath`) for the rm stage's data.preference, with
   * facts.json and spans.json beside it; use data.image_folder = this run folder (see labelExport.ts).
   */
  exportPreferences(outPath?: string): ExportResult {
    return exportLabels(this, outPath);
  }

  private labelled(record: InspectorRecord): LabelledRecord {
    return {
      key: recordKey(record),
      step: record.step,
      prompt_id: record.promptId,
      prompt: record.prompt,
      response: record.response,
      image: record.image === null ? null : this.imageName(record.image),
      facts: record.facts,
      caption_type: record.captionType,
      judge_spans: record.hallucination ? record.hallucination.spans.length : null,
    };
  }

  /** Relative to the run folder when inside it (the export's data.image_folder is the run folder). */
  private imageName(image: string): string {
    const full = resolve(this.runDir, image);
    return full.startsWith(this.runDir + sep) ? relative(this.runDir, full).split(sep).join('/') : isAbsolute(image) ? image : full;
  }

  private write<L>(log: AppendLog<L>, line: L): void {
    mkdirSync(this.dir, { recursive: true });
    log.append(line);
    this.refresh();
  }
}

const now = (): number => Date.now() / 1000;

function describePrompt(r: InspectorRecord): string {
  const text = r.prompt === null ? 'no prompt' : JSON.stringify(r.prompt.length > 40 ? `${r.prompt.slice(0, 40)}…` : r.prompt);
  return `${r.promptId ?? 'no id'}: ${text}`;
}
