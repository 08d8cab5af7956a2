// The webview's copy of every run's traces, applied from the host's snapshot/delta/status messages.
// Series live in typed arrays (Series); each carries its EMA cache and the first index changed
// since it was last drawn, so smoothing is extended rather than recomputed on every delta.
import type {
  RunSummary,
  RunTraces,
  SeriesTimes,
  TraceAlarm,
  TraceDeltaMessage,
  WireSeriesData,
} from '../../src/protocol/webviews/rewardTraces';
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
  /**
   * When the host sent wall times: x = seconds since the run's first point, value = that point's
   * step, in arrival order. Kept for every track (a typed-array append); the drawable wall-time
   * track is built from it only when the wall-time axis is shown (wallTrack()).
   */
  wallSteps?: Series;
  wall?: Track;
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
  alarms: TraceAlarm[];
  /** Wall time (unix seconds) of the run's first point: 0 on the wall-time axis. */
  t0?: number;
}

export class TraceStore {
  readonly runs = new Map<string, RunState>();

  applySnapshot(runs: RunTraces[]): void {
    this.runs.clear();
    for (const r of runs) {
      const { series, times, alarms, ...summary } = r;
      const state: RunState = { summary, tracks: new Map(), alarms: alarms ?? [] };
      this.runs.set(r.runId, state);
      appendAll(state, series, times);
    }
  }

  applyDelta(msg: TraceDeltaMessage): void {
    let state = this.runs.get(msg.runId);
    if (!state) {
      // A delta before any status for this run: show it as running until its status arrives.
      state = { summary: { runId: msg.runId, runDir: '', stage: 'ppo', status: 'running' }, tracks: new Map(), alarms: [] };
      this.runs.set(msg.runId, state);
    }
    appendAll(state, msg.series, msg.times);
    if (msg.progress) state.summary = { ...state.summary, progress: msg.progress };
  }

  applyStatus(run: RunSummary): void {
    const state = this.runs.get(run.runId);
    if (state) state.summary = { ...state.summary, ...run };
    else this.runs.set(run.runId, { summary: run, tracks: new Map(), alarms: [] });
  }

  applyAlarms(runId: string, alarms: TraceAlarm[]): void {
    const state = this.runs.get(runId);
    if (state) state.alarms = alarms;
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

  /**
   * The track against wall time, brought up to date with what arrived since it was last asked for;
   * undefined when the source had no wall times. Values come from the step series (a resumed run's
   * rewritten steps show their latest values).
   */
  wallTrack(track: Track): Track | undefined {
    const ws = track.wallSteps;
    if (!ws) return undefined;
    let wall = track.wall;
    if (!wall || wall.series.length > ws.length) wall = track.wall = newTrack(ws.length);
    const from = wall.series.length;
    if (from < ws.length) {
      const xs = ws.steps.subarray(from);
      const steps = ws.values.subarray(from);
      const values = new Float64Array(xs.length);
      const s = track.series;
      for (let i = 0; i < xs.length; i++) {
        const k = s.lowerBound(steps[i]);
        values[i] = k < s.length && s.steps[k] === steps[i] ? s.values[k] : Number.NaN;
      }
      appendTo(wall, xs, values);
    }
    return wall;
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

/** `adopt`: the first column is a typed array, taken over as the series' storage (no copy); plain arrays are copied in. */
function newTrack(capacity: number, adopt = false): Track {
  return {
    series: adopt ? new Series(0) : new Series(Math.max(64, capacity)),
    ema: new EmaCache(),
    rawLod: new MinMaxPyramid(),
    smoothLod: new MinMaxPyramid(),
    rawDirtyFrom: 0,
    smoothDirtyFrom: 0,
    smoothWeight: -1,
    drawnWeight: -1,
    version: 0,
  };
}

function appendTo(track: Track, xs: ArrayLike<number>, values: ArrayLike<number | null>): void {
  const changed = track.series.append(xs, values);
  track.rawDirtyFrom = Math.min(track.rawDirtyFrom, changed);
  track.smoothDirtyFrom = Math.min(track.smoothDirtyFrom, changed);
}

function appendAll(state: RunState, series: Record<string, WireSeriesData>, times: SeriesTimes | undefined): void {
  if (times && state.t0 === undefined) {
    let t0 = Infinity;
    for (const t of Object.values(times)) if (t.length && t[0] < t0) t0 = t[0];
    if (t0 < Infinity) state.t0 = t0;
  }
  for (const [key, data] of Object.entries(series)) {
    if (!data || !isColumn(data.steps) || !isColumn(data.values)) continue;
    let track = state.tracks.get(key);
    if (!track) {
      track = newTrack(data.steps.length, isFloat64Array(data.steps));
      state.tracks.set(key, track);
    }
    appendTo(track, data.steps, data.values);
    const t = times?.[key];
    if (t && t.length === data.steps.length && state.t0 !== undefined) {
      const t0 = state.t0;
      const rel = new Float64Array(t.length);
      for (let i = 0; i < t.length; i++) rel[i] = t[i] - t0;
      track.wallSteps ??= new Series(Math.max(64, rel.length));
      track.wallSteps.append(rel, data.steps);
    }
  }
}
