// schema/metrics.json names every metric key the trainer writes, once; the CLI summary and the
// trace panel read it. These tests tie it to what the trainer really writes.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Ajv from 'ajv';
import catalogueSchema from '../../schema/metrics.schema.json';
import { METRIC_CATALOGUE, headlineMetric, metricInfo, metricTitle, primaryMetricKeys } from '../../src/protocol/metrics';
import { PRIMARY_TRACE_KEYS } from '../../src/protocol/webviews/rewardTraces';
import { KL_KEY, PRIMARY_METRIC, REWARD_KEY } from '../../src/runs/runSummary';

const root = resolve(__dirname, '../..');
const catalogue = JSON.parse(readFileSync(join(root, 'schema', 'metrics.json'), 'utf8')) as { metrics: Array<{ key: string }> };

/** Metric events copied from real trainer runs of every stage (sft, rm, ppo with its RM warm-up, eval). */
function fixtureKeys(): string[] {
  const keys = new Set<string>();
  for (const line of readFileSync(join(root, 'test', 'fixtures', 'trainer-metrics.events.jsonl'), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const e = JSON.parse(line) as { type: string; values?: Record<string, unknown> };
    if (e.type === 'metric' && e.values) for (const k of Object.keys(e.values)) keys.add(k);
  }
  return [...keys].sort();
}

function trainerSource(): string {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.py')) out.push(readFileSync(p, 'utf8'));
    }
  };
  walk(join(root, 'trainer', 'fact_rlhf'));
  return out.join('\n');
}

test('metrics.json matches its schema and has one entry per key', () => {
  const validate = new Ajv({ allErrors: true }).compile(catalogueSchema);
  assert.ok(validate(catalogue), JSON.stringify(validate.errors, null, 2));
  const keys = catalogue.metrics.map((m) => m.key);
  assert.deepEqual(
    keys.filter((k, i) => keys.indexOf(k) !== i),
    [],
    'duplicate keys',
  );
});

test('the generated catalogue module is current with schema/metrics.json', () => {
  assert.deepEqual(METRIC_CATALOGUE, catalogue.metrics, 'run `node scripts/gen-types.mjs`');
});

test('every key the trainer writes (metric events of real sft, rm, ppo and eval runs) is in the catalogue', () => {
  const keys = fixtureKeys();
  assert.ok(keys.length > 100, `the fixture holds only ${keys.length} keys`);
  assert.deepEqual(
    keys.filter((k) => !metricInfo(k)),
    [],
    'keys missing from schema/metrics.json',
  );
  assert.equal(metricInfo('pope/adversarial/f1')?.key, 'pope/*/f1', 'a family matches one segment');
  assert.equal(metricInfo('pope/adversarial'), undefined);
  assert.equal(metricInfo('no/such_key'), undefined);
});

test('the catalogue names no key the trainer does not write', () => {
  const written = new Set(fixtureKeys());
  const source = trainerSource();
  const known = (k: string): boolean => written.has(k) || source.includes(`"${k}"`);
  // sft/trainer.py names its keys f"{group}/..." for the sft and rl_init stages alike.
  const dead = METRIC_CATALOGUE.filter((m) => !m.key.includes('*'))
    .map((m) => m.key)
    .filter(
      (k) =>
        !known(k) &&
        !(k.startsWith('rl_init/') && known(k.replace('rl_init/', 'sft/'))) &&
        !(k === 'time/rl_init_step' && known('time/sft_step')),
    );
  assert.deepEqual(dead, []);
});

test('primary keys, headlines and titles come from the catalogue', () => {
  assert.deepEqual([...PRIMARY_TRACE_KEYS], ['ppo/reward_total', 'ppo/kl_sum']);
  assert.deepEqual([...PRIMARY_TRACE_KEYS], primaryMetricKeys('ppo'));
  assert.equal(PRIMARY_METRIC.ppo.key, REWARD_KEY);
  assert.deepEqual(PRIMARY_METRIC, {
    ppo: { key: 'ppo/reward_total', label: 'reward' },
    sft: { key: 'sft/loss', label: 'loss' },
    rl_init: { key: 'rl_init/loss', label: 'loss' },
    rm: { key: 'rm/eval_accuracy', label: 'held-out acc' },
    eval: { key: 'shapes/hallucination_rate', label: 'halluc. rate' },
  });
  for (const stage of ['sft', 'rl_init', 'rm', 'ppo', 'eval'] as const) {
    assert.equal(METRIC_CATALOGUE.filter((m) => m.stage === stage && m.headline).length, 1, `${stage}: one headline`);
    assert.equal(headlineMetric(stage)?.key, METRIC_CATALOGUE.find((m) => m.stage === stage && m.headline)?.key);
  }
  assert.ok(metricInfo(KL_KEY)?.primary);
  assert.equal(metricTitle('ppo/reward_total'), 'Total reward');
  assert.equal(metricTitle('pope/random/f1'), 'POPE F1 by split');
  assert.deepEqual(primaryMetricKeys('eval'), [
    'shapes/score',
    'shapes/hallucination_rate',
    'pope/f1',
    'chair/chair_i',
    'chair/chair_s',
    'mmhal/score',
    'mmhal/hallucination_rate',
  ]);
});
