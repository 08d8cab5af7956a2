// Health rules on synthetic series with known signatures: each unhealthy one trips its rule (at the
// step where it began), the healthy ones trip nothing; thresholds come from the monitor: config.
import test from 'node:test';
import assert from 'node:assert/strict';
import type { RunEvent } from '../../src/protocol';
import { HealthMonitor, MonitorConfigError, RULES, checkHealth, type MonitorConfig } from '../../src/runs/health';
import experimentSchema from '../../schema/experiment.schema.json';

/** Deterministic noise in [-1, 1] (a fixed LCG, so the tests never flake). */
function noise(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  };
}

function run(n: number, row: (step: number) => Record<string, number | null>): RunEvent[] {
  return Array.from({ length: n }, (_, step) => ({ v: 1, t: 1.7e9 + step, type: 'metric', step, values: row(step) }) as RunEvent);
}

/** A healthy PPO run: reward improves with noise, length and entropy steady, KL small and linear. */
function healthy(seed: number): (step: number) => Record<string, number> {
  const r = noise(seed);
  return (step) => ({
    'ppo/reward_total': -5 + 0.1 * step + 0.3 * r(),
    'ppo/response_length': 40 + 2 * r(),
    'ppo/kl_sum': 0.05 * step + 0.02 * r(),
    'ppo/kl_mean': 0.001 * step + 0.0005 * Math.abs(r()),
    'ppo/entropy': 3 - 0.005 * step + 0.05 * r(),
    'ppo/clipfrac': 0.1 + 0.05 * r(),
    'ppo/approx_kl': 0.01 + 0.005 * r(),
    'ppo/ratio': 1 + 0.05 * r(),
    'ppo/value_loss': 2 + 0.5 * r(),
  });
}

const ids = (events: RunEvent[], config?: MonitorConfig): string[] => checkHealth(events, config).alarms.map((a) => a.rule);

test('healthy runs raise no alarm (several seeds, 200 steps)', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const { alarms, steps } = checkHealth(run(200, healthy(seed)));
    assert.equal(steps, 200);
    assert.deepEqual(alarms, [], `seed ${seed}: ${JSON.stringify(alarms)}`);
  }
});

test('length hack: reward rising with longer answers (Singhal et al.) fires reward_hacking where it began', () => {
  const base = healthy(7);
  const events = run(60, (step) => {
    const v = base(step);
    if (step >= 30) {
      v['ppo/response_length'] = 40 + 4 * (step - 30) + noise(step)();
      v['ppo/reward_total'] = -2 + 0.5 * (step - 30) + 0.2 * noise(step + 99)();
    }
    return v;
  });
  const { alarms } = checkHealth(events);
  const hack = alarms.find((a) => a.rule === 'reward_hacking');
  assert.ok(hack, JSON.stringify(alarms));
  assert.equal(hack.severity, 'warning');
  // Onset is the start of the first window that shows the trend: within one window (8) before step 30.
  assert.ok(hack.step >= 22 && hack.step <= 30, `began by step 30, got ${hack.step}`);
  assert.ok(hack.detectedAt <= 38, `seen within a window, at ${hack.detectedAt}`);
  assert.ok(hack.evidence.correlation > 0.9);
  assert.ok(hack.evidence.shareExplainedByLength >= 0.5);
  assert.match(hack.message, /longer/);
});

test('collapse: mean length falling towards zero fires collapse (error), entropy collapse too', () => {
  const base = healthy(8);
  const shrinking = run(40, (step) => ({ ...base(step), 'ppo/response_length': Math.max(0, 40 - 2 * step) }));
  const c = checkHealth(shrinking).alarms.find((a) => a.rule === 'collapse');
  assert.ok(c);
  assert.equal(c.severity, 'error');
  assert.equal(c.step, 11, 'began where length first fell below half the baseline (38)');
  // Answers that were always one token long have not collapsed.
  assert.ok(!ids(run(40, (step) => ({ ...base(step), 'ppo/response_length': 1 }))).includes('collapse'));
  const entropy = run(40, (step) => ({ ...base(step), 'ppo/entropy': 3 * 0.85 ** step }));
  const e = checkHealth(entropy).alarms.find((a) => a.rule === 'collapse');
  assert.ok(e);
  assert.match(e.message, /entropy/i);
});

test('NaN: a null value (the trainer spells NaN/inf as null) or a non-finite number fires nan at that step', () => {
  const base = healthy(9);
  const withNull = run(20, (step) => ({ ...base(step), ...(step === 12 ? { 'ppo/value_loss': null } : {}) }));
  const alarms = checkHealth(withNull).alarms;
  assert.equal(alarms.length, 1);
  assert.equal(alarms[0].rule, 'nan');
  assert.equal(alarms[0].step, 12);
  assert.match(alarms[0].message, /ppo\/value_loss/);
  assert.deepEqual(ids(run(5, (step) => ({ 'x/y': step === 2 ? Infinity : 1 }))), ['nan']);
});

test('KL out of band, negative and accelerating', () => {
  const base = healthy(10);
  assert.ok(ids(run(30, (s) => ({ ...base(s), 'ppo/kl_mean': s === 20 ? 2 : 0.01 }))).includes('kl'));
  assert.ok(ids(run(30, (s) => ({ ...base(s), 'ppo/kl_sum': s === 20 ? -3 : 0.1 }))).includes('kl'));
  const accel = checkHealth(run(30, (s) => ({ ...base(s), 'ppo/kl_sum': s < 20 ? 0.05 * s : 1 + 1.5 * (s - 20) }))).alarms.find(
    (a) => a.rule === 'kl',
  );
  assert.ok(accel);
  assert.match(accel.message, /accelerating/);
  assert.ok(accel.step >= 18 && accel.step <= 24, String(accel.step));
});

test('PPO ratio / clip fraction / approx-KL out of range for `patience` steps', () => {
  const base = healthy(11);
  assert.ok(ids(run(30, (s) => ({ ...base(s), 'ppo/ratio': s >= 10 ? 2.5 : 1 }))).includes('ppo_stability'));
  assert.ok(ids(run(30, (s) => ({ ...base(s), 'ppo/clipfrac': s >= 10 ? 0.5 : 0.1 }))).includes('ppo_stability'));
  // Two bad steps in a row are below the default patience of 3.
  assert.ok(!ids(run(30, (s) => ({ ...base(s), 'ppo/approx_kl': s === 10 || s === 11 ? 0.5 : 0.01 }))).includes('ppo_stability'));
  assert.ok(ids(run(30, (s) => ({ ...base(s), 'ppo/approx_kl': s >= 10 && s < 13 ? 0.5 : 0.01 }))).includes('ppo_stability'));
});

test('value-loss spike', () => {
  const base = healthy(12);
  const a = checkHealth(run(30, (s) => ({ ...base(s), 'ppo/value_loss': s === 15 ? 80 : 2 }))).alarms.find(
    (x) => x.rule === 'value_loss_spike',
  );
  assert.ok(a);
  assert.equal(a.step, 15);
});

test('reward model that does not read its facts; one that does is fine', () => {
  const ignores = run(3, (s) => ({ 'rm/eval_accuracy': 0.8 + 0.01 * s, 'rm/eval_accuracy_other_facts': 0.79 + 0.01 * s }));
  assert.deepEqual(ids(ignores), ['rm_ignores_facts']);
  const reads = run(3, (s) => ({ 'rm/eval_accuracy': 0.8 + 0.01 * s, 'rm/eval_accuracy_other_facts': 0.6 }));
  assert.deepEqual(ids(reads), []);
  // An RM that learnt nothing yet is not judged on the probe.
  assert.deepEqual(ids(run(3, () => ({ 'rm/eval_accuracy': 0.5, 'rm/eval_accuracy_other_facts': 0.5 }))), []);
});

test('monitor: config disables rules and overrides thresholds; unknown names are errors', () => {
  const base = healthy(13);
  const spike = run(30, (s) => ({ ...base(s), 'ppo/value_loss': s === 15 ? 15 : 2 }));
  assert.ok(!ids(spike).includes('value_loss_spike'), '7.5x is under the default factor 10');
  assert.ok(ids(spike, { value_loss_spike: { factor: 5 } }).includes('value_loss_spike'));
  assert.ok(!ids(spike, { value_loss_spike: { factor: 5, enabled: false } }).includes('value_loss_spike'));
  assert.throws(() => new HealthMonitor({ no_such_rule: {} }), MonitorConfigError);
  assert.throws(() => new HealthMonitor({ kl: { max_kl: 3 } }), /monitor\.kl\.max_kl: no such parameter/);
});

test('values of one step spread over several events (TensorBoard) are judged as one row; live batches give the same alarms', () => {
  const events = run(40, (s) => ({ 'ppo/reward_total': s, 'ppo/response_length': Math.max(0, 40 - 2 * s) }));
  const split = events.flatMap((e) =>
    e.type === 'metric' ? Object.entries(e.values).map(([k, v]) => ({ ...e, values: { [k]: v } }) as RunEvent) : [],
  );
  const whole = checkHealth(events).alarms;
  assert.deepEqual(checkHealth(split).alarms, whole);
  const live = new HealthMonitor();
  for (let i = 0; i < split.length; i += 7) live.apply(split.slice(i, i + 7));
  live.flush();
  assert.deepEqual(live.alarms, whole);
  assert.ok(whole.some((a) => a.rule === 'collapse'));
});

test("the schema monitor: section carries exactly each rule's parameters and default thresholds", () => {
  const monitor = (
    experimentSchema.properties as unknown as Record<
      string,
      { properties: Record<string, { properties: Record<string, { default: unknown }> }> }
    >
  ).monitor;
  assert.deepEqual(Object.keys(monitor.properties).sort(), RULES.map((r) => r.id).sort());
  for (const rule of RULES) {
    const props = monitor.properties[rule.id].properties;
    const defaults = Object.fromEntries(
      Object.entries(props)
        .filter(([k]) => k !== 'enabled')
        .map(([k, v]) => [k, v.default]),
    );
    assert.deepEqual(defaults, rule.defaults, rule.id);
    assert.equal(props.enabled.default, true);
  }
});
