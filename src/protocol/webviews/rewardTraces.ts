// The reward-trace webview's contract (see ../ipc.ts for the mechanism).
// Host → webview notifications: snapshot (full state, answers `ready`), delta (new points since the
// last message), status (run status changes). Webview → host commands: ready, selectStep (a click
// on a chart point), rendered (what it has drawn). No requests yet.

import type { RunStatus } from '../index';
import type { Validator } from '../guards';
import { finite, integer, literal, nullable, numberColumn, object, optional, recordOf, string, arrayOf } from '../guards';
import { defineContract } from '../ipc';
import { primaryMetricKeys } from '../metrics';

/**
 * Columnar series of one metric: steps[i] pairs with values[i]; NaN in values where the log had null.
 * Typed arrays, so a snapshot of millions of points crosses postMessage as a few buffers (structured
 * clone in a browser, VS Code's ArrayBuffer transfer from the extension host) instead of number[].
 */
export interface SeriesData {
  steps: Float64Array;
  values: Float64Array;
}

/** The same in plain arrays (null = no value): what a JSON-only sender writes; the webview takes both. */
export interface PlainSeriesData {
  steps: number[];
  values: (number | null)[];
}

/** A series as it may arrive in a message. */
export type WireSeriesData = SeriesData | PlainSeriesData;

export interface RunSummary {
  runId: string;
  runDir: string;
  stage: string;
  status: RunStatus;
  /** Trainer error text when status is failed. */
  error?: string;
  /** Latest progress. */
  progress?: { step: number; total: number; eta: number | null };
}

export interface RunTraces extends RunSummary {
  /** Metric key (group/name) → series. */
  series: Record<string, WireSeriesData>;
}

export interface TraceSnapshotMessage {
  type: 'snapshot';
  runs: RunTraces[];
}

export interface TraceDeltaMessage {
  type: 'delta';
  runId: string;
  /** Metric key → points appended since the previous snapshot/delta. */
  series: Record<string, WireSeriesData>;
  progress?: RunSummary['progress'];
}

export interface TraceStatusMessage {
  type: 'status';
  run: RunSummary;
}

export type HostToTraceWebview = TraceSnapshotMessage | TraceDeltaMessage | TraceStatusMessage;

export interface TraceReadyMessage {
  type: 'ready';
}

export interface TraceSelectStepMessage {
  type: 'selectStep';
  runId: string;
  step: number;
}

/** Sent after the webview has drawn new data: lets the host (and editor tests) know it arrived. */
export interface TraceRenderedMessage {
  type: 'rendered';
  /** Runs shown and total metric points held by the webview. */
  runs: number;
  points: number;
}

export type TraceWebviewToHost = TraceReadyMessage | TraceSelectStepMessage | TraceRenderedMessage;

/** Default metric keys the trace view shows first: the ppo stage's primary keys in schema/metrics.json. */
export const PRIMARY_TRACE_KEYS: readonly string[] = primaryMetricKeys('ppo');

// --- runtime validators: every inbound message is checked against these before it is acted on ---

const runStatus: Validator<RunStatus> = literal('starting', 'running', 'finished', 'failed', 'stopped');
const seriesData: Validator<WireSeriesData> = object({ steps: numberColumn(), values: numberColumn(true) }) as Validator<WireSeriesData>;
const seriesRecord = recordOf(seriesData);
const progress: Validator<NonNullable<RunSummary['progress']>> = object({ step: finite, total: finite, eta: nullable(finite) });
const runSummaryFields = {
  runId: string,
  runDir: string,
  stage: string,
  status: runStatus,
  error: optional(string),
  progress: optional(progress),
};
const runSummary: Validator<RunSummary> = object(runSummaryFields);
const runTraces: Validator<RunTraces> = object({ ...runSummaryFields, series: seriesRecord });

export const rewardTracesContract = defineContract<
  { snapshot: TraceSnapshotMessage; delta: TraceDeltaMessage; status: TraceStatusMessage },
  { selectStep: TraceSelectStepMessage; rendered: TraceRenderedMessage }
>({
  name: 'reward-traces',
  notifications: {
    snapshot: object({ type: literal('snapshot'), runs: arrayOf(runTraces) }),
    delta: object({ type: literal('delta'), runId: string, series: seriesRecord, progress: optional(progress) }),
    status: object({ type: literal('status'), run: runSummary }),
  },
  commands: {
    // A step is a chart point's step: a whole number the trainer wrote, never NaN or a fraction.
    selectStep: object({ type: literal('selectStep'), runId: string, step: integer }),
    rendered: object({ type: literal('rendered'), runs: integer, points: integer }),
  },
});

export type RewardTracesContract = typeof rewardTracesContract;
