// Typed IPC between the extension host and the reward-trace webview.
// Host → webview: snapshot (full state, answers `ready`), delta (new points since the last message),
// status (run status changes). Webview → host: ready, selectStep (a click on a chart point).

import type { RunStatus } from './index';
import { primaryMetricKeys } from './metrics';

/** Columnar series of one metric: steps[i] pairs with values[i]. */
export interface SeriesData {
  steps: number[];
  values: (number | null)[];
}

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
  series: Record<string, SeriesData>;
}

export interface TraceSnapshotMessage {
  type: 'snapshot';
  runs: RunTraces[];
}

export interface TraceDeltaMessage {
  type: 'delta';
  runId: string;
  /** Metric key → points appended since the previous snapshot/delta. */
  series: Record<string, SeriesData>;
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
