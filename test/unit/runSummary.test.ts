import test from 'node:test';
import assert from 'node:assert/strict';
import { RunSeries } from '../../src/runs/runSeries';
import { summarize, formatSummary, leastSquaresSlope } from '../../src/runs/runSummary';
import type { RunEvent } from '../../src/protocol';

const metric = (step: number, values: Record<string, number>): RunEvent => ({ v: 1, t: step, type: 'metric', step, values });
const result = { runId: 'r', runDir: '/runs/r', status: 'finished' as const, exitCode: 0, signal: null };

test('least-squares slope', () => {
  assert.equal(leastSquaresSlope([1, 2, 3], [1, 3, 5]), 2);
  assert.equal(leastSquaresSlope([1], [1]), undefined);
});

test('PPO summary: final reward, first reward, trend and KL', () => {
  const s = new RunSeries();
  s.apply([metric(1, { 'ppo/reward_total': -4, 'ppo/kl_sum': 0 }), metric(2, { 'ppo/reward_total': -2, 'ppo/kl_sum': 0.5 })]);
  const lines = formatSummary(summarize(s, result, 12.3, 0, 'ppo')).join('\n');
  assert.match(lines, /final reward:\s+-2\.000\s+\(first -4\.000, trend \+2\.0000\/step\)/);
  assert.match(lines, /final KL:\s+0\.5000/);
  assert.match(lines, /run folder:\s+\/runs\/r/);
});

test('stage-specific headline: SFT loss, evaluation figures', () => {
  const sft = new RunSeries();
  sft.apply([metric(1, { 'sft/loss': 5 }), metric(2, { 'sft/loss': 1 })]);
  const sftText = formatSummary(summarize(sft, result, 1, 0, 'sft')).join('\n');
  assert.match(sftText, /final loss:\s+1\.000/);
  assert.doesNotMatch(sftText, /final KL/);
  const ev = new RunSeries();
  ev.apply([metric(0, { 'shapes/hallucination_rate': 0.25, 'pope/f1': 0.8 })]);
  const evText = formatSummary(summarize(ev, result, 1, 0, 'eval')).join('\n');
  assert.match(evText, /pope\/f1:\s+0\.8000/);
  assert.match(evText, /final halluc\. rate:\s*0\.250/);
});
