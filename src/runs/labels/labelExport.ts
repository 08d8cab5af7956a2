// The human labels of a run as files the trainer reads (issue #11): preference pairs in the
// LLaVA-RLHF format of the `rm` stage's `data.preference` (trainer/fact_rlhf/data/llava_json.py
// load_preferences), the facts its fact-augmented critique needs (`data.facts`, keyed by pair id as
// facts_for looks them up), and the span labels in the judge's [start, end, label] form.
//
// Images are written as the label lines hold them: relative to the run folder (absolute when the
// sample's image lay outside it), so an rm config uses the export with `data.image_folder: <run folder>`.
import { utf16SpansToCodePoints } from '../../protocol/spans';
import { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import type { Span } from '../../protocol/webviews/sampleInspector';
import { LabelError, type LabelStore, type LabelledRecord, type PreferenceLine } from './labelStore';

export const PREFERENCES_EXPORT = 'preferences.json';
export const FACTS_EXPORT = 'facts.json';
export const SPANS_EXPORT = 'spans.json';
/** LLaVA's image placeholder in a conversation turn (the trainer's processor expands it once). */
const IMAGE_TOKEN = '<image>';

/** One pair as load_preferences reads it (FACT_RLHF.md §2 preference record). */
export interface PreferenceRecord {
  id: string;
  image: string;
  conversations: { from: 'human'; value: string }[];
  output_1: { value: string };
  output_2: { value: string };
  preference: 1 | 2;
  hallucination: boolean;
  /** Present when the sample had a valid one (1..7): multiple-choice items read rationales as facts. */
  caption_type?: number;
  /** Not read by the loader: where the pair came from, to trace it back to the samples. */
  source: 'human';
  label_keys: [string, string];
}

export interface SpanExportRecord {
  key: string;
  step: number | null;
  prompt_id: string | null;
  prompt: string | null;
  image: string | null;
  response: string;
  spans: Span[];
  source: 'human';
}

export interface ExportResult {
  /** preferences.json, or null when there is no pair (the loader refuses an empty list). */
  path: string | null;
  pairs: number;
  /** facts.json beside it (null with no pair). */
  factsPath: string | null;
  /** spans.json beside it, or null when no span is labelled. */
  spansPath: string | null;
  spanLabels: number;
  /** What the rm config's data.image_folder must be: the run folder the exported image names are relative to. */
  imageFolder: string;
}

/** The pair's id in the export (and its key in facts.json): stable for the same two records. */
export function pairId(line: PreferenceLine): string {
  return `human-${createHash('sha256').update(line.key, 'utf8').digest('hex').slice(0, 12)}`;
}

/** A record "hallucinates" when the human marked a span, or, with no human label, the judge did. */
function hallucinated(record: LabelledRecord, humanSpans: Map<string, Span[]>): boolean {
  const human = humanSpans.get(record.key);
  return human ? human.length > 0 : (record.judge_spans ?? 0) > 0;
}

export function preferenceRecord(line: PreferenceLine, humanSpans: Map<string, Span[]>): PreferenceRecord {
  const { a, b } = line;
  if (line.preferred === null || a.prompt === null || a.image === null)
    throw new Error(`pair ${line.key}: removed, or without prompt or image (the store refuses those)`);
  const record: PreferenceRecord = {
    id: pairId(line),
    image: a.image,
    // One image token: a prompt that already carries it (LLaVA-style data) keeps its own.
    conversations: [{ from: 'human', value: a.prompt.includes(IMAGE_TOKEN) ? a.prompt : `${IMAGE_TOKEN}\n${a.prompt}` }],
    output_1: { value: a.response },
    output_2: { value: b.response },
    preference: line.preferred,
    hallucination: hallucinated(a, humanSpans) || hallucinated(b, humanSpans),
    source: 'human',
    label_keys: [a.key, b.key],
  };
  const captionType = a.caption_type ?? b.caption_type;
  if (captionType !== null && captionType >= 1 && captionType <= 7) record.caption_type = captionType;
  return record;
}

/** Writes whole files only: a reader never sees half an export. */
function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 1)}\n`, 'utf8');
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Where the side files go. In labels/ (the default) they are facts.json and spans.json; beside a file
 * the user named they are named after it (prefs.json → prefs.facts.json), so a facts.json of the
 * user's own in that folder is never overwritten.
 */
function sidePaths(out: string, isDefault: boolean): { facts: string; spans: string } {
  if (isDefault) return { facts: join(dirname(out), FACTS_EXPORT), spans: join(dirname(out), SPANS_EXPORT) };
  const stem = join(dirname(out), basename(out).replace(/\.json$/i, ''));
  return { facts: `${stem}.facts.json`, spans: `${stem}.spans.json` };
}

/**
 * Exports the store's labels: `outPath` (default <run>/labels/preferences.json) with facts.json and
 * spans.json beside it. With no pair, no preferences.json is written (path null).
 */
export function exportLabels(store: LabelStore, outPath?: string): ExportResult {
  const out = resolve(outPath ?? join(store.dir, PREFERENCES_EXPORT));
  if (existsSync(out) && statSync(out).isDirectory())
    throw new LabelError(`${out} is a folder: name the preference file to write (e.g. ${join(out, PREFERENCES_EXPORT)})`);
  const side = sidePaths(out, outPath === undefined);
  const spanLines = store.spanLabels();
  const humanSpans = new Map(spanLines.map((l) => [l.key, l.spans ?? []]));
  const pairLines = store.preferences();
  const pairs = pairLines.map((line) => preferenceRecord(line, humanSpans));
  const result: ExportResult = {
    path: null,
    pairs: pairs.length,
    factsPath: null,
    spansPath: null,
    spanLabels: spanLines.length,
    imageFolder: store.runDir,
  };
  if (pairs.length) {
    const facts: Record<string, string[]> = {};
    for (const line of pairLines) facts[pairId(line)] = line.a.facts ?? line.b.facts ?? [];
    result.factsPath = side.facts;
    writeJson(result.factsPath, facts);
    writeJson(out, pairs);
    result.path = out;
  } else if (outPath === undefined) {
    // Nothing labelled any more: an earlier export in labels/ would say otherwise.
    rmSync(out, { force: true });
    rmSync(side.facts, { force: true });
  }
  if (spanLines.length) {
    const spans: SpanExportRecord[] = spanLines.map((l) => ({
      key: l.key,
      step: l.record.step,
      prompt_id: l.record.prompt_id,
      prompt: l.record.prompt,
      image: l.record.image,
      response: l.record.response,
      // The judge's format counts Python code points; the inspector's spans are UTF-16 offsets.
      spans: utf16SpansToCodePoints(l.record.response, l.spans ?? []),
      source: 'human',
    }));
    result.spansPath = side.spans;
    writeJson(result.spansPath, spans);
  } else if (outPath === undefined) rmSync(side.spans, { force: true });
  return result;
}
