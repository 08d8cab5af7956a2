// The sample inspector's contract (see ../ipc.ts for the mechanism): a read-only custom editor over a
// run's samples/*.jsonl or a peer trainer's sample files (LLaVA-RLHF rollouts, veRL dumps, TRL
// completion tables). The host owns the source (a byte-offset index: nothing is parsed until asked
// for) and answers page queries; the view only ever holds the records on screen.
//
// Host → view: `summary` (what the source holds; answers `ready` and follows every growth of a live
// run), `reveal` (go to a step: a chart click while the inspector is open), `compareRun` (the second
// run chosen for side by side, or none), `labels` (the human labels so far).
// View → host commands: `rendered` (what is on screen: lets the host, tests and benches know),
// `pickCompareRun` (the host asks which run, with a quick pick).
// Requests: `query` (a page of records), `timeline` (one prompt across steps), `compare` (the other
// run's records for the same prompts at the nearest step), `labelSpans`, `labelPreference`,
// `exportPreferences`, `score` (what-if reward of an edited response, #12).

import type { Validator } from '../guards';
import { arrayOf, boolean, finite, integer, literal, nullable, object, optional, recordOf, string } from '../guards';
import { defineContract } from '../ipc';

/** A hallucination span as the judge writes it: [start, end) in UTF-16 code units of the response, label. */
export type Span = [number, number, string];

/** Where a sample file came from: decides which fields can be present at all. */
export type SampleFormat = 'fact-rlhf' | 'llava-rollouts' | 'verl-rollouts' | 'trl-completions';

/** The reward taken apart (schema/sample-record.schema.json `reward`); a part a source lacks is absent. */
export interface RewardParts {
  rm?: number;
  eos_penalty?: number;
  length?: number;
  symbolic?: number;
  kl?: number;
  total?: number;
}

/**
 * One sample in the one model every source is read into. A field the source does not have is null
 * (or absent in `reward`): shown as missing, never invented.
 */
export interface InspectorRecord {
  /** Position in the source's index: stable while the inspector is open (appends only add). */
  index: number;
  step: number | null;
  promptId: string | null;
  prompt: string | null;
  response: string;
  facts: string[] | null;
  /** Host side: absolute path of the image; on the wire: the webview URI the host made of it. */
  image: string | null;
  reward: RewardParts;
  /** Other named numbers of the record: TRL's per-reward-function columns, veRL's extra reward keys. */
  extra: Record<string, number>;
  advantage: number | null;
  hallucination: { spans: Span[]; source: string } | null;
  captionType: number | null;
}

export type SortKey = 'index' | 'total' | 'rm' | 'halluc' | 'length';

export interface SampleFilter {
  captionType: number | null;
  hallucinatedOnly: boolean;
  /** Case-insensitive substring of prompt, response or facts; '' matches all. */
  text: string;
}

export interface QueryParams {
  /** null: every step. */
  step: number | null;
  sort: SortKey;
  descending: boolean;
  filter: SampleFilter;
  offset: number;
  limit: number;
}

export interface QueryResult {
  /** Records matching step and filter (the list's length, for the virtual scroll). */
  matching: number;
  offset: number;
  records: InspectorRecord[];
}

export interface SourceSummary {
  title: string;
  format: SampleFormat;
  /** Path of the file or folder opened (for the title bar and errors). */
  path: string;
  /** Run folder when the source belongs to one (images and labels are relative to it). */
  runDir: string | null;
  total: number;
  /** Distinct steps, ascending. */
  steps: number[];
  /** Distinct caption types present, ascending. */
  captionTypes: number[];
  /** Lines skipped as corrupt (counted, never fatal); a torn last line is waited for, not counted. */
  corrupt: number;
  /** The step to show first (a chart click); null: the first step. */
  initialStep: number | null;
  /** True while the run is live: new steps may still arrive. */
  live: boolean;
  /** Whether Score Response (what-if) is available: a reward model export is configured. */
  canScore: boolean;
}

export interface TimelinePoint {
  index: number;
  step: number;
  response: string;
  reward: RewardParts;
  spans: number;
}

export interface CompareResult {
  /** The step of the other run that was used (nearest to the asked one); null when none is chosen. */
  step: number | null;
  title: string | null;
  /** Index for index with the asked prompt ids: that prompt's first record at that step, or null. */
  records: (InspectorRecord | null)[];
}

/** Human labels of one source, as the view shows them. */
export interface LabelsState {
  /** Record index → spans as the human left them (replacing the judge's for that record). */
  spans: Record<string, Span[]>;
  /** Preference pairs: two record indices with the same prompt, and which is better (1 or 2). */
  pairs: { a: number; b: number; preferred: 1 | 2 }[];
}

export interface ScoreResult {
  withFacts: number;
  withoutFacts: number;
}

export interface SummaryMessage {
  type: 'summary';
  summary: SourceSummary;
}
export interface RevealMessage {
  type: 'reveal';
  step: number;
}
export interface CompareRunMessage {
  type: 'compareRun';
  title: string | null;
}
export interface LabelsMessage {
  type: 'labels';
  labels: LabelsState;
}

export type HostToSampleInspector = SummaryMessage | RevealMessage | CompareRunMessage | LabelsMessage;

export interface InspectorRenderedMessage {
  type: 'rendered';
  step: number | null;
  /** Index of the first record on screen and how many are drawn. */
  first: number;
  shown: number;
  matching: number;
}
export interface PickCompareRunMessage {
  type: 'pickCompareRun';
}

export type SampleInspectorToHost = { type: 'ready' } | InspectorRenderedMessage | PickCompareRunMessage;

// --- runtime validators: every inbound message is checked against these before it is acted on ---

const span: Validator<Span> = {
  check(value, path) {
    if (!Array.isArray(value) || value.length !== 3) return `${path || 'span'} must be [start, end, label]`;
    const [start, end, label] = value as unknown[];
    if (!Number.isInteger(start) || !Number.isInteger(end) || typeof label !== 'string')
      return `${path || 'span'} must be [integer, integer, string]`;
    return undefined;
  },
};
const rewardParts: Validator<RewardParts> = object({
  rm: optional(finite),
  eos_penalty: optional(finite),
  length: optional(finite),
  symbolic: optional(finite),
  kl: optional(finite),
  total: optional(finite),
});
const inspectorRecord: Validator<InspectorRecord> = object({
  index: integer,
  step: nullable(integer),
  promptId: nullable(string),
  prompt: nullable(string),
  response: string,
  facts: nullable(arrayOf(string)),
  image: nullable(string),
  reward: rewardParts,
  extra: recordOf(finite),
  advantage: nullable(finite),
  hallucination: nullable(object({ spans: arrayOf(span), source: string })),
  captionType: nullable(integer),
});
const sortKey: Validator<SortKey> = literal('index', 'total', 'rm', 'halluc', 'length');
const filter: Validator<SampleFilter> = object({ captionType: nullable(integer), hallucinatedOnly: boolean, text: string });
const summary: Validator<SourceSummary> = object({
  title: string,
  format: literal('fact-rlhf', 'llava-rollouts', 'verl-rollouts', 'trl-completions'),
  path: string,
  runDir: nullable(string),
  total: integer,
  steps: arrayOf(integer),
  captionTypes: arrayOf(integer),
  corrupt: integer,
  initialStep: nullable(integer),
  live: boolean,
  canScore: boolean,
});
const timelinePoint: Validator<TimelinePoint> = object({
  index: integer,
  step: integer,
  response: string,
  reward: rewardParts,
  spans: integer,
});
const labelsState: Validator<LabelsState> = object({
  spans: recordOf(arrayOf(span)),
  pairs: arrayOf(object({ a: integer, b: integer, preferred: literal(1, 2) })),
});

/** Bounds the view may ask for in one page: the host never serialises more than this at once. */
export const MAX_PAGE = 500;

export const sampleInspectorContract = defineContract<
  { summary: SummaryMessage; reveal: RevealMessage; compareRun: CompareRunMessage; labels: LabelsMessage },
  { rendered: InspectorRenderedMessage; pickCompareRun: PickCompareRunMessage },
  {
    query: { params: QueryParams; result: QueryResult };
    timeline: { params: { promptId: string }; result: { points: TimelinePoint[] } };
    compare: { params: { step: number; promptIds: string[] }; result: CompareResult };
    /** spans: the human's full list for the record ([]: no hallucination); null: back to the judge's. */
    labelSpans: { params: { index: number; spans: Span[] | null }; result: { labels: LabelsState } };
    labelPreference: { params: { a: number; b: number; preferred: 1 | 2 | null }; result: { labels: LabelsState } };
    exportPreferences: { params: Record<string, never>; result: { path: string | null; pairs: number } };
    score: { params: { index: number; response: string }; result: ScoreResult };
  }
>({
  name: 'sample-inspector',
  notifications: {
    summary: object({ type: literal('summary'), summary }),
    reveal: object({ type: literal('reveal'), step: integer }),
    compareRun: object({ type: literal('compareRun'), title: nullable(string) }),
    labels: object({ type: literal('labels'), labels: labelsState }),
  },
  commands: {
    rendered: object({
      type: literal('rendered'),
      step: nullable(integer),
      first: integer,
      shown: integer,
      matching: integer,
    }),
    pickCompareRun: object({ type: literal('pickCompareRun') }),
  },
  requests: {
    query: {
      params: object({
        step: nullable(integer),
        sort: sortKey,
        descending: boolean,
        filter,
        offset: integer,
        limit: integer,
      }),
      result: object({ matching: integer, offset: integer, records: arrayOf(inspectorRecord) }),
    },
    timeline: {
      params: object({ promptId: string }),
      result: object({ points: arrayOf(timelinePoint) }),
    },
    compare: {
      params: object({ step: integer, promptIds: arrayOf(string) }),
      result: object({ step: nullable(integer), title: nullable(string), records: arrayOf(nullable(inspectorRecord)) }),
    },
    labelSpans: {
      params: object({ index: integer, spans: nullable(arrayOf(span)) }),
      result: object({ labels: labelsState }),
    },
    labelPreference: {
      params: object({ a: integer, b: integer, preferred: nullable(literal(1, 2)) }),
      result: object({ labels: labelsState }),
    },
    exportPreferences: {
      params: object({}),
      result: object({ path: nullable(string), pairs: integer }),
    },
    score: {
      params: object({ index: integer, response: string }),
      result: object({ withFacts: finite, withoutFacts: finite }),
    },
  },
});

export type SampleInspectorContract = typeof sampleInspectorContract;
