// A short, human summary of a run's outcome (CLI output, editor notifications).
import type { RunSeries } from './runSeries';
import type { RunResult } from './runManager';

export interface RunSummaryFigures {
  status: RunResult['status'];
  runDir: string;
  iterations: number;
  firstReward?: number;
  finalReward?: number;
  /** Least-squares slope of ppo/reward_total per iteration. */
  rewardTrend?: number;
  finalKl?: number;
  wallSeconds: number;
  corruptLines: number;
  error?: string;
}

export const REWARD_KEY = 'ppo/reward_total';
export const KL_KEY = 'ppo/kl_sum';

export function leastSquaresSlope(xs: readonly number[], ys: readonly number[]): number | undefined {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return undefined;
  let sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (let i = 0; i < n; i++) {
    sx += xs[i];
    sy += ys[i];
    sxx += xs[i] * xs[i];
    sxy += xs[i] * ys[i];
  }
  const den = n * sxx - sx * sx;
  return den === 0 ? undefined : (n * sxy - sx * sy) / den;
}

export function summarize(series: RunSeries, result: RunResult, wallSeconds: number, corruptLines: number): RunSummaryFigures {
  const reward = series.get(REWARD_KEY);
  const pairs: [number, number][] = [];
  if (reward) reward.steps.forEach((s, i) => { const v = reward.values[i]; if (v !== null && Number.isFinite(v)) pairs.push([s, v]); });
  const kl = series.last(KL_KEY);
  return {
    status: result.status,
    runDir: result.runDir,
    iterations: Math.max(0, series.lastStep),
    firstReward: pairs[0]?.[1],
    finalReward: pairs[pairs.length - 1]?.[1],
    rewardTrend: leastSquaresSlope(pairs.map((p) => p[0]), pairs.map((p) => p[1])),
    finalKl: kl === null ? undefined : kl,
    wallSeconds,
    corruptLines,
    error: result.error,
  };
}

const num = (x: number | undefined, digits = 3): string => (x === undefined ? 'n/a' : x.toFixed(digits));

export function formatSummary(f: RunSummaryFigures): string[] {
  const lines = [
    `status:        ${f.status}`,
    `iterations:    ${f.iterations}`,
    `final reward:  ${num(f.finalReward)}  (first ${num(f.firstReward)}, trend ${f.rewardTrend === undefined ? 'n/a' : `${f.rewardTrend >= 0 ? '+' : ''}${f.rewardTrend.toFixed(4)}/iter`})`,
    `final KL:      ${num(f.finalKl, 4)}`,
    `wall time:     ${f.wallSeconds.toFixed(1)} s`,
    `run folder:    ${f.runDir}`,
  ];
  if (f.corruptLines) lines.push(`corrupt lines: ${f.corruptLines} skipped in events.jsonl`);
  return lines;
}
