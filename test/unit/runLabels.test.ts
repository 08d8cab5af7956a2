// Runs in the trace view are named by their config, and overlaid runs by what differs between them.
import test from 'node:test';
import assert from 'node:assert/strict';
import type { RunManifest } from '../../src/protocol';
import { runLabels } from '../../src/runs/runLabels';

const manifest = (config: object, configPath: string | null = '/x/tiny-ppo.rlhf.yaml', started = 1_760_000_000): RunManifest =>
  ({
    id: 'x',
    stage: 'ppo',
    config,
    config_path: configPath,
    config_hash: 'h',
    host: 'h',
    pids: [],
    world_size: 1,
    started,
    status: 'finished',
    protocol_version: 1,
  }) as RunManifest;

test('the config name, then the values that tell overlaid runs apart', () => {
  const base = {
    name: 'tiny-ppo',
    output_dir: '/a',
    seed: 0,
    ppo: { kl_coef: 0.05, learning_rate: 0.01 },
    model: { policy: 'builtin:tiny-llava' },
  };
  const labels = runLabels([
    { runId: 'tiny-ppo-ppo-20260101-000000', manifest: manifest(base) },
    {
      runId: 'tiny-ppo-ppo-20260101-010000',
      manifest: manifest({ ...base, output_dir: '/b', ppo: { kl_coef: 0.2, learning_rate: 0.01 } }),
    },
    { runId: 'other-ppo-1', manifest: manifest({ ppo: { kl_coef: 0.05 } }, '/x/other.rlhf.yaml') },
    { runId: 'fresh', manifest: undefined },
  ]);
  assert.deepEqual(labels.get('tiny-ppo-ppo-20260101-000000'), {
    name: 'tiny-ppo',
    differs: ['seed=0', 'ppo.kl_coef=0.05', 'ppo.learning_rate=0.01'],
  });
  assert.deepEqual(labels.get('tiny-ppo-ppo-20260101-010000')?.differs, ['seed=0', 'ppo.kl_coef=0.2', 'ppo.learning_rate=0.01']);
  assert.deepEqual(labels.get('other-ppo-1'), { name: 'other', differs: ['seed=unset', 'ppo.kl_coef=0.05', 'ppo.learning_rate=unset'] });
  assert.deepEqual(labels.get('fresh'), { name: 'fresh', differs: [] }, 'no run.json yet: the run id, nothing compared');
});

test('two runs of one config with nothing different are told apart by their start', () => {
  const a = manifest({ name: 'n', ppo: { kl_coef: 0.1 } }, null, 1_760_000_000);
  const b = manifest({ name: 'n', ppo: { kl_coef: 0.1 } }, null, 1_760_003_600);
  const labels = runLabels([
    { runId: 'a', manifest: a },
    { runId: 'b', manifest: b },
  ]);
  assert.equal(labels.get('a')?.name, 'n');
  assert.match(labels.get('a')?.differs[0] ?? '', /^started \d\d-\d\d \d\d:\d\d$/);
  assert.notEqual(labels.get('a')?.differs[0], labels.get('b')?.differs[0]);
  assert.deepEqual(runLabels([{ runId: 'a', manifest: a }]).get('a'), { name: 'n', differs: [] }, 'alone: nothing to tell apart');
});
