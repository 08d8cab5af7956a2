// The webview's copy of every run's traces, applied from the host's snapshot/delta/status messages.
// Series live in typed arrays (Series); each carries its EMA cache and the first index changed
// since it was last drawn, so smoothing is extended rather than recomputed on every delta.
import type { RunSummary, RunTraces, TraceDeltaMessage, WireSeriesData } from '../../src/protocol/webviews/rewardTraces';
import { isFloat64Array } from '../../src/protocol/guards';
import { Series } from '../shared/charts/series';
import { MinMaxPyramid } from '../shared/charts/minMaxPyramid';
import { EmaCache } from '../shared/charts/smoothing';

export interface Track {
  series: Series;
  ema: EmaCache;
  /** Level-of-detail indexes over the raw and the smoothed values. */
  rawLod: MinMaxPyramid;
  smoothLod: MinMaxPyramid;
  /** First index changed since the raw index / the smoothing was last brought up to date. */
  rawDirtyFrom: number;
  smoothDirtyFrom: number;
  /** Weight the smoothed values were computed with; weight of the last prepare() (0 = off). */
  smoothWeight: number;
  drawnWeight: number;
  /** Bumped whenever what a chart draws for this track changes. */
  version: number;
}

/** What a chart needs to draw one track. */
export interface PreparedTrack {
  series: Series;
  smoothed: Float64Array | null;
  rawLod: MinMaxPyramid;
  smoothLod: MinMaxPyramid | null;
  version: number;
}

export interface RunState {
  summary: RunSummary;
  tracks: Map<string, Track>;
}

export class TraceStore {
  readonly runs = new Map<string, RunState>();

  applySnapshot(runs: RunTraces[]): void {
    this.runs.clear();
    for (const r of runs) {
      const { series, ...summary } = r;
      const state: RunState = { summary, tracks: new Map() };
      this.runs.set(r.runId, state);
      appendAll(state, series);
    }
  }

  applyDelta(msg: TraceDeltaMessage): void {
    let state = this.runs.get(msg.runId);
    if (!state) {
      // A delta before any status for this run: show it as running until its status arrives.
      state = { summary: { runId: msg.runId, runDir: '', stage: 'ppo', status: 'running' }, tracks: new Map() };
      this.runs.set(msg.runId, state);
    }
    appendAll(state, msg.series);
    if (msg.progress) state.summary = { ...state.summary, progress: msg.progress };
  }

  applyStatus(run: RunSummary): void {
    const state = this.runs.get(run.runId);
    if (state) state.summary = { ...state.summary, ...run };
    else this.runs.set(run.runId, { summary: run, tracks: new Map() });
  }

  /** Total metric points held, over every run and key. */
  totalPoints(): number {
    let n = 0;
    for (const r of this.runs.values()) for (const t of r.tracks.values()) n += t.series.length;
    return n;
  }

  /** Every metric key present in any run, sorted. */
  keys(): string[] {
    const keys = new Set<string>();
    for (const r of this.runs.values()) for (const k of r.tracks.keys()) keys.add(k);
    return [...keys].sort();
  }

  /** Brings a track's smoothing and indexes up to date, from where it last changed. */
  prepare(track: Track, weight: number): PreparedTrack {
    if (track.rawDirtyFrom !== Number.POSITIVE_INFINITY || weight !== track.drawnWeight) track.version++;
    track.drawnWeight = weight;
    track.rawLod.update(track.series.values, track.rawDirtyFrom);
    track.rawDirtyFrom = Number.POSITIVE_INFINITY;
    let smoothed: Float64Array | null = null;
    if (weight > 0) {
      const from = weight === track.smoothWeight ? track.smoothDirtyFrom : 0;
      smoothed = track.ema.values(track.series, weight, from);
      track.smoothLod.update(smoothed, from);
      track.smoothWeight = weight;
      track.smoothDirtyFrom = Number.POSITIVE_INFINITY;
    }
    return { series: track.series, smoothed, rawLod: track.rawLod, smoothLod: smoothed ? track.smoothLod : null, version: track.version };
  }
}

const isColumn = (c: unknown): boolean => Array.isArray(c) || isFloat64Array(c);

function appendAll(state: RunState, series: Record<string, WireSeriesData>): void {
  for (const [key, data] of Object.entries(series)) {
    if (!data || !isColumn(data.steps) || !isColumn(data.values)) continue;
    let track = state.tracks.get(key);
    if (!track) {
      track = {
        // A typed-array column is taken over as the series' storage (no copy); plain arrays are copied in.
        series: isFloat64Array(data.steps) ? new Series(0) : new Series(Math.max(64, data.steps.length)),
        ema: new EmaCache(),
        rawLod: new MinMaxPyramid(),
        smoothLod: new MinMaxPyramid(),
        rawDirtyFrom: 0,
        smoothDirtyFrom: 0,
        smoothWeight: -1,
        drawnWeight: -1,
        version: 0,
      };
      state.tracks.set(key, track);
    }
    const changed = track.series.append(data.steps, data.values);
    track.rawDirtyFrom = Math.min(track.rawDirtyFrom, changed);
    track.smoothDirtyFrom = Math.min(track.smoothDirtyFrom, changed);
  }
}
