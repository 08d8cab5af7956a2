// A short, human summary of a run's outcome (CLI output, editor notifications).
import type { Stage } from '../protocol';
import { headlineMetric, primaryMetricKeys } from '../protocol/metrics';
import type { MetricKey } from '../protocol/metrics';
import type { RunSeries } from './runSeries';
import type { RunResult } from './runManager';

export interface RunSummaryFigures {
  stage: Stage;
  /** The stage's headline metric (reward for PPO, loss for SFT, held-out accuracy for the RM). */
  primaryLabel: string;
  status: RunResult['status'];
  runDir: string;
  iterations: number;
  firstReward?: number;
  finalReward?: number;
  /** Least-squares slope of the primary metric per step. */
  rewardTrend?: number;
  finalKl?: number;
  wallSeconds: number;
  corruptLines: number;
  error?: string;
  /** Other final figures worth printing (evaluation results). */
  extra: [string, number][];
}

export const REWARD_KEY: MetricKey = 'ppo/reward_total';
export const KL_KEY: MetricKey = 'ppo/kl_sum';

function headline(stage: Stage): { key: string; label: string } {
  const h = headlineMetric(stage);
  if (!h) throw new Error(`schema/metrics.json has no headline metric for the ${stage} stage`);
  return h;
}

/** Each stage's headline metric, as the trainer names it (schema/metrics.json `headline`). */
export const PRIMARY_METRIC: Record<Stage, { key: string; label: string }> = {
  ppo: headline('ppo'),
  sft: headline('sft'),
  rl_init: headline('rl_init'),
  rm: headline('rm'),
  eval: headline('eval'),
};

/** Figures an evaluation run reports, shown when present: the eval stage's primary metrics. */
const EVAL_KEYS = primaryMetricKeys('eval');

export function leastSquaresSlope(xs: readonly number[], ys: readonly number[]): number | undefined {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return undefined;
  let sx = 0,
    sy = 0,
    sxx = 0,
    sxy = 0;
  for (let i = 0; i < n; i++) {
    sx += xs[i];
    sy += ys[i];
    sxx += xs[i] * xs[i];
    sxy += xs[i] * ys[i];
  }
  const den = n * sxx - sx * sx;
  return den === 0 ? undefined : (n * sxy - sx * sy) / den;
}

export function summarize(
  series: RunSeries,
  result: RunResult,
  wallSeconds: number,
  corruptLines: number,
  stage: Stage = 'ppo',
): RunSummaryFigures {
  const primary = PRIMARY_METRIC[stage];
  const reward = series.get(primary.key);
  const pairs: [number, number][] = [];
  if (reward)
    reward.steps.forEach((s, i) => {
      const v = reward.values[i];
      if (v !== null && Number.isFinite(v)) pairs.push([s, v]);
    });
  const kl = series.last(KL_KEY);
  const extra: [string, number][] = [];
  for (const key of EVAL_KEYS) {
    const v = series.last(key);
    if (typeof v === 'number') extra.push([key, v]);
  }
  return {
    stage,
    primaryLabel: primary.label,
    extra,
    status: result.status,
    runDir: result.runDir,
    iterations: Math.max(0, series.lastStep),
    firstReward: pairs[0]?.[1],
    finalReward: pairs[pairs.length - 1]?.[1],
    rewardTrend: leastSquaresSlope(
      pairs.map((p) => p[0]),
      pairs.map((p) => p[1]),
    ),
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
    `${`final ${f.primaryLabel}:`.padEnd(15)}${num(f.finalReward)}  (first ${num(f.firstReward)}, trend ${f.rewardTrend === undefined ? 'n/a' : `${f.rewardTrend >= 0 ? '+' : ''}${f.rewardTrend.toFixed(4)}/step`})`,
    ...(f.stage === 'ppo' ? [`final KL:      ${num(f.finalKl, 4)}`] : []),
    ...f.extra.map(([k, v]) => `${`${k}:`.padEnd(15)}${v.toFixed(4)}`),
    `wall time:     ${f.wallSeconds.toFixed(1)} s`,
    `run folder:    ${f.runDir}`,
  ];
  if (f.corruptLines) lines.push(`corrupt lines: ${f.corruptLines} skipped in events.jsonl`);
  return lines;
}
