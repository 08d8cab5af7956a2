// The reward-trace webview's contract (see ../ipc.ts for the mechanism).
// Host → webview notifications: snapshot (full state, answers `ready`), delta (new points since the
// last message), status (run status changes), alarms (a run's health alarms so far). Webview → host
// commands: ready, selectStep (a click on a chart point), rendered (what it has drawn). Requests:
// saveExport (the host asks where, with a save dialog, and writes the CSV/PNG: webviews cannot).

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

/**
 * Metric key → wall time (unix seconds, the event's `t`) of each point of that key's SeriesData,
 * index for index; a column beside the series so sources without wall time simply leave it out.
 */
export type SeriesTimes = Record<string, Float64Array | number[]>;

/** A health alarm as the view shows it (src/runs/health's Alarm, less its evidence). */
export interface TraceAlarm {
  rule: string;
  severity: 'error' | 'warning';
  /** Where the trouble began: the chart's marker goes here. */
  step: number;
  detectedAt: number;
  message: string;
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
  /** The config's name (run.json `config.name`, else the config file's stem). */
  name?: string;
  /** `key=value` of the config values that tell this run apart from the others in the view. */
  differs?: string[];
  /** Latest progress; `phase` (run-event ProgressEvent.phase) while the run is in a phase before
   * its main steps, whose own steps `step`/`total` then count. */
  progress?: { step: number; total: number; eta: number | null; phase?: string };
  /**
   * run.json's resolved config flattened to dotted keys, each leaf JSON-encoded: lets the view show
   * which keys differ between overlaid runs.
   */
  config?: Record<string, string>;
}

export interface RunTraces extends RunSummary {
  /** Metric key (group/name) → series. */
  series: Record<string, WireSeriesData>;
  times?: SeriesTimes;
  /** Health alarms raised so far. */
  alarms?: TraceAlarm[];
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
  times?: SeriesTimes;
  progress?: RunSummary['progress'];
}

export interface TraceStatusMessage {
  type: 'status';
  run: RunSummary;
}

/** Every alarm of one run so far (replaces what the view held for it). */
export interface TraceAlarmsMessage {
  type: 'alarms';
  runId: string;
  alarms: TraceAlarm[];
}

export type HostToTraceWebview = TraceSnapshotMessage | TraceDeltaMessage | TraceStatusMessage | TraceAlarmsMessage;

/** Export a file the view made: CSV text, or a PNG as base64. */
export interface SaveExportParams {
  format: 'csv' | 'png';
  /** File name offered in the save dialog (no folders). */
  suggestedName: string;
  /** CSV text, or base64 of the PNG bytes. */
  data: string;
}

/** saved false: the user cancelled the dialog. */
export interface SaveExportResult {
  saved: boolean;
  path?: string;
}

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
const seriesTimes: Validator<SeriesTimes> = recordOf(numberColumn()) as Validator<SeriesTimes>;
const seriesRecord = recordOf(seriesData);
const progress: Validator<NonNullable<RunSummary['progress']>> = object({
  step: finite,
  total: finite,
  eta: nullable(finite),
  phase: optional(string),
});
const runSummaryFields = {
  runId: string,
  runDir: string,
  stage: string,
  status: runStatus,
  error: optional(string),
  name: optional(string),
  differs: optional(arrayOf(string)),
  progress: optional(progress),
  config: optional(recordOf(string)),
};
const runSummary: Validator<RunSummary> = object(runSummaryFields);
const traceAlarm: Validator<TraceAlarm> = object({
  rule: string,
  severity: literal('error', 'warning'),
  step: finite,
  detectedAt: finite,
  message: string,
});
const runTraces: Validator<RunTraces> = object({
  ...runSummaryFields,
  series: seriesRecord,
  times: optional(seriesTimes),
  alarms: optional(arrayOf(traceAlarm)),
});

export const rewardTracesContract = defineContract<
  { snapshot: TraceSnapshotMessage; delta: TraceDeltaMessage; status: TraceStatusMessage; alarms: TraceAlarmsMessage },
  { selectStep: TraceSelectStepMessage; rendered: TraceRenderedMessage },
  { saveExport: { params: SaveExportParams; result: SaveExportResult } }
>({
  name: 'reward-traces',
  notifications: {
    snapshot: object({ type: literal('snapshot'), runs: arrayOf(runTraces) }),
    delta: object({
      type: literal('delta'),
      runId: string,
      series: seriesRecord,
      times: optional(seriesTimes),
      progress: optional(progress),
    }),
    status: object({ type: literal('status'), run: runSummary }),
    alarms: object({ type: literal('alarms'), runId: string, alarms: arrayOf(traceAlarm) }),
  },
  commands: {
    // A step is a chart point's step: a whole number the trainer wrote, never NaN or a fraction.
    selectStep: object({ type: literal('selectStep'), runId: string, step: integer }),
    rendered: object({ type: literal('rendered'), runs: integer, points: integer }),
  },
  requests: {
    saveExport: {
      params: object({ format: literal('csv', 'png'), suggestedName: string, data: string }),
      result: object({ saved: literal(true, false), path: optional(string) }),
    },
  },
});

export type RewardTracesContract = typeof rewardTracesContract;
