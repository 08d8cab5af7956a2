// "Run from here" with the REAL trainer: from the reward model through PPO on the tiny built-in
// world (rl_init skipped, as the demo does), launched through RunManager. The PPO run must be
// trained against the reward model the chain just made (its derived config and run.json say so),
// both finish, and the pipeline strip and `fact-rlhf pipeline --json` show them as this config's.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import type { PipelineState, RunManifest } from '../../src/protocol';
import { runPipeline } from '../../src/cli/pipeline';
import { ChainRunner } from '../../src/runs/chainRunner';
import { DERIVED_CONFIG_FILE } from '../../src/runs/derivedConfig';
import { pipelineState } from '../../src/runs/pipeline';
import { planChain } from '../../src/runs/pipelinePlan';
import { venvPython } from '../../src/runs/pythonResolver';
import { RunManager } from '../../src/runs/runManager';

const root = join(__dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'fact-rlhf-chain-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

test('run from rm through ppo: the PPO run takes the rm run just made; both finished; the strip shows them', async () => {
  const config = join(work, 'chain.rlhf.yaml');
  // The tiny example cut to a few steps: 8 images, 1 RM epoch, 2 PPO iterations.
  writeFileSync(
    config,
    [
      `extends: ${join(root, 'examples', 'tiny-ppo.rlhf.yaml')}`,
      'name: chain',
      'output_dir: runs',
      'data: { num_images: 8 }',
      'reward_model: { epochs: 1, held_out: 8, eval_every: 4 }',
      'ppo: { max_iterations: 2, save_every: 2, samples_per_step: 2 }',
      '',
    ].join('\n'),
  );
  const manager = new RunManager();
  const plan = planChain(config, pipelineState(config), { from: 'rm', through: 'ppo', skip: ['rl_init'] });
  const runner = new ChainRunner(plan, async (l) => {
    const handle = manager.start({
      stage: l.stage,
      configPath: l.configPath,
      runDir: l.runDir,
      python: venvPython(root),
      trainerRoot: join(root, 'trainer'),
      schemaDir: join(root, 'schema'),
      pollMs: 100,
    });
    const r = await handle.done;
    return { status: r.status, runDir: r.runDir, error: r.error };
  });
  const result = await runner.run();
  assert.equal(result.status, 'finished', JSON.stringify(result.steps, null, 1));
  const [rm, ppo] = result.steps;
  assert.deepEqual(
    result.steps.map((s) => [s.stage, s.status]),
    [
      ['rm', 'finished'],
      ['ppo', 'finished'],
    ],
  );
  assert.equal(rm.configPath, config, 'the rm step sets nothing: the config itself');
  assert.equal(ppo.configPath, join(ppo.runDir ?? '', DERIVED_CONFIG_FILE));
  assert.equal(dirname(ppo.runDir ?? ''), join(work, 'runs'));

  const manifest = JSON.parse(readFileSync(join(ppo.runDir ?? '', 'run.json'), 'utf8')) as RunManifest;
  const model = (manifest.config as { model: { reward_model?: string; policy?: string } }).model;
  assert.equal(manifest.status, 'finished');
  assert.equal(manifest.config_path, ppo.configPath);
  assert.equal(model.reward_model, rm.runDir, 'PPO was trained against the rm run the chain made');
  assert.equal(model.policy, join(rm.runDir ?? '', 'model'), "on the rm run's base model (builtin: would be a new random one)");
  const rmManifest = JSON.parse(readFileSync(join(rm.runDir ?? '', 'run.json'), 'utf8')) as RunManifest;
  assert.equal(rmManifest.status, 'finished');
  assert.equal(readFileSync(config, 'utf8').includes('reward_model: /'), false, "the user's config is not rewritten");

  const state = pipelineState(config);
  const by = Object.fromEntries(state.stages.map((s) => [s.stage, s]));
  assert.equal(by.rm.status, 'finished');
  assert.equal(by.rm.runDir, rm.runDir);
  assert.equal(by.ppo.status, 'finished');
  assert.equal(by.ppo.runDir, ppo.runDir, 'the derived-config run counts as a run of this config');
  assert.equal(by.ppo.headline?.label, 'reward');
  assert.equal(typeof by.ppo.headline?.value, 'number');
  assert.equal(by.sft.status, 'not-run');

  let printed = '';
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      printed += chunk.toString();
      done();
    },
  });
  assert.equal(runPipeline([config, '--json'], out), 0);
  const cli = JSON.parse(printed) as PipelineState;
  assert.deepEqual(
    cli.stages.map((s) => s.status),
    ['not-run', 'finished', 'not-run', 'finished', 'not-run'],
  );
});
