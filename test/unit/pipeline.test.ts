// The pipeline strip (src/runs/pipeline.ts), "Run from here" planning (pipelinePlan.ts), derived
// configs (derivedConfig.ts), the runs of a config (configRuns.ts) and the chain runner
// (chainRunner.ts), over run folders written here in the trainer's run-directory format. The chain
// runner's `launch` is a function of the test here; test/protocol/pipelineChain.test.ts drives it
// with the real trainer.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { parse } from 'yaml';
import type { PipelineState, Stage } from '../../src/protocol';
import { ChainRunner, type ChainLaunch } from '../../src/runs/chainRunner';
import { runsOfConfig } from '../../src/runs/configRuns';
import { DERIVED_CONFIG_FILE, derivedFrom, writeDerivedConfig } from '../../src/runs/derivedConfig';
import { processStartTime } from '../../src/runs/launchIdentity';
import { formatPipeline, pipelineState } from '../../src/runs/pipeline';
import { PipelinePlanError, chainStages, planChain, resolveInputs, runBaseModel } from '../../src/runs/pipelinePlan';

const work = mkdtempSync(join(tmpdir(), 'fact-rlhf-pipeline-'));
test.after(() => rmSync(work, { recursive: true, force: true }));
const T0 = 1_800_000_000;

function line(o: Record<string, unknown>): string {
  return `${JSON.stringify({ v: 1, t: T0, ...o })}\n`;
}

interface RunSpec {
  stage: Stage;
  status: 'running' | 'finished' | 'failed';
  started: number;
  configPath: string;
  headline?: number;
  checkpoint?: boolean;
  /** checkpoints/<ckpt>/base.json path. */
  base?: string;
}

const HEADLINE_KEY: Record<Stage, string> = {
  sft: 'sft/loss',
  rm: 'rm/eval_accuracy',
  rl_init: 'rl_init/loss',
  ppo: 'ppo/reward_total',
  eval: 'shapes/hallucination_rate',
};

function makeRun(dir: string, spec: RunSpec): string {
  mkdirSync(dir, { recursive: true });
  const live = spec.status === 'running';
  const pid = live ? process.pid : 999_999_999;
  writeFileSync(
    join(dir, 'run.json'),
    JSON.stringify({
      id: basename(dir),
      stage: spec.stage,
      config: {},
      config_path: spec.configPath,
      config_hash: 'h',
      host: hostname(),
      pids: [pid],
      launches: [{ host: hostname(), pid, start_time: live ? (processStartTime(process.pid) ?? null) : 1, nonce: null }],
      world_size: 1,
      started: spec.started,
      ended: live ? null : spec.started + 10,
      status: spec.status,
      protocol_version: 1,
    }),
  );
  let events = line({ type: 'status', status: 'starting' }) + line({ type: 'status', status: 'running' });
  events += line({ type: 'metric', step: 1, values: { [HEADLINE_KEY[spec.stage]]: spec.headline ?? 0.5 } });
  events += line({ type: 'progress', step: 1, total: 4, eta: 3 });
  if (spec.status === 'failed')
    events += line({ type: 'status', status: 'failed', error: 'Traceback ...\nRuntimeError: CUDA out of memory' });
  if (spec.status === 'finished') events += line({ type: 'status', status: 'finished' });
  writeFileSync(join(dir, 'events.jsonl'), events);
  if (spec.checkpoint ?? spec.status === 'finished') {
    mkdirSync(join(dir, 'checkpoints', 'step-4'), { recursive: true });
    writeFileSync(join(dir, 'checkpoints', 'latest'), 'step-4\n');
    if (spec.base) writeFileSync(join(dir, 'checkpoints', 'step-4', 'base.json'), JSON.stringify({ path: spec.base, signature: 's' }));
  }
  return dir;
}

/** A config folder with `exp.rlhf.yaml` (name `exp`, output_dir runs/) and what it adds. */
function experiment(folder: string, extra = ''): { config: string; runs: string } {
  const dir = join(work, folder);
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'exp.rlhf.yaml');
  writeFileSync(config, `version: 1\nname: exp\noutput_dir: runs\nmodel:\n  policy: builtin:tiny-llava\n${extra}`);
  return { config, runs: join(dir, 'runs') };
}

test('the strip: each stage from the newest run of THIS config: not run, running with progress, finished with its figure, failed with the error', () => {
  const { config, runs } = experiment('strip');
  makeRun(join(runs, 'exp-sft-20260101-000000'), { stage: 'sft', status: 'finished', started: T0, configPath: config, headline: 0.91 });
  makeRun(join(runs, 'exp-rm-20260101-000000'), { stage: 'rm', status: 'finished', started: T0, configPath: config, headline: 0.7 });
  makeRun(join(runs, 'exp-rm-20260102-000000'), { stage: 'rm', status: 'failed', started: T0 + 5, configPath: config });
  makeRun(join(runs, 'exp-ppo-20260101-000000'), { stage: 'ppo', status: 'running', started: T0, configPath: config });
  // Not this config's: another file of the same name, and a config named exp-big.
  makeRun(join(runs, 'exp-rl_init-20260101-000000'), {
    stage: 'rl_init',
    status: 'finished',
    started: T0,
    configPath: join(work, 'x.rlhf.yaml'),
  });
  makeRun(join(runs, 'exp-big-sft-20260101-000000'), { stage: 'sft', status: 'finished', started: T0 + 9, configPath: config });

  const state = pipelineState(config);
  const by = Object.fromEntries(state.stages.map((s) => [s.stage, s]));
  assert.deepEqual(
    state.stages.map((s) => [s.label, s.status]),
    [
      ['SFT', 'finished'],
      ['reward model', 'failed'],
      ['rl_init', 'not-run'],
      ['PPO', 'running'],
      ['eval', 'not-run'],
    ],
  );
  assert.deepEqual(by.sft.headline, { label: 'loss', value: 0.91 });
  assert.equal(by.sft.runId, 'exp-sft-20260101-000000');
  assert.equal(by.sft.progress, null, 'progress only while running');
  assert.deepEqual(by.ppo.progress, { step: 1, total: 4, eta: 3 });
  assert.match(by.rm.error ?? '', /CUDA out of memory/);
  assert.equal(by.rm.runCount, 2);
  assert.equal(by.rm.finishedRunDir, join(runs, 'exp-rm-20260101-000000'), 'the older finished rm run is still there to link');
  assert.equal(by.rl_init.runCount, 0);

  const text = formatPipeline(state);
  assert.match(text[0], /^SFT {11}finished {2}loss 0\.9100 {2}exp-sft-20260101-000000$/);
  assert.match(text[1], /failed .*\(\+1 earlier\) {2}error: RuntimeError: CUDA out of memory$/);
  assert.match(text[2], /rl_init +not run$/);
  assert.match(text[3], /running {2}1\/4 /);
});

test('a derived config in the run folder counts as its parent config; one elsewhere does not', () => {
  const { config, runs } = experiment('derived');
  const runDir = join(runs, 'exp-ppo-20260101-000000');
  const derived = writeDerivedConfig({
    runDir,
    parent: config,
    overrides: { 'model.reward_model': '/r/rm', 'model.policy': '/r/sft' },
    name: 'exp',
    outputDir: runs,
    reason: 'a test',
  });
  assert.equal(derived, join(runDir, DERIVED_CONFIG_FILE));
  const doc = parse(readFileSync(derived, 'utf8')) as Record<string, unknown>;
  assert.deepEqual(doc, { extends: config, name: 'exp', output_dir: runs, model: { policy: '/r/sft', reward_model: '/r/rm' } });
  assert.match(readFileSync(derived, 'utf8'), /^# Written by Fact-RLHF Studio: a test\.\n# It extends exp\.rlhf\.yaml/);
  assert.equal(readFileSync(config, 'utf8').includes('reward_model'), false, "the user's file is untouched");
  makeRun(runDir, { stage: 'ppo', status: 'finished', started: T0, configPath: derived });
  assert.equal(derivedFrom(derived, runDir), config);
  assert.deepEqual(
    runsOfConfig(config, 'ppo').map((r) => r.dir),
    [runDir],
  );

  // The same file name outside its run folder is some other config.
  const stray = join(runs, 'exp-ppo-20260102-000000');
  makeRun(stray, { stage: 'ppo', status: 'finished', started: T0 + 1, configPath: derived });
  assert.equal(derivedFrom(derived, stray), undefined);
  assert.deepEqual(
    runsOfConfig(config, 'ppo').map((r) => r.dir),
    [runDir],
  );
});

const stateOf = (finished: Partial<Record<Stage, string>>): PipelineState => ({
  configPath: 'x',
  stages: (['sft', 'rm', 'rl_init', 'ppo', 'eval'] as Stage[]).map((stage) => ({
    stage,
    label: stage,
    status: finished[stage] ? 'finished' : 'not-run',
    runId: null,
    runDir: finished[stage] ?? null,
    progress: null,
    headline: null,
    error: null,
    runCount: finished[stage] ? 1 : 0,
    finishedRunDir: finished[stage] ?? null,
  })),
});

test('chain stages: from a stage to eval, or through one, skipping some; bad ranges refused', () => {
  assert.deepEqual(chainStages({ from: 'rm' }), ['rm', 'rl_init', 'ppo', 'eval']);
  assert.deepEqual(chainStages({ from: 'rm', through: 'ppo', skip: ['rl_init'] }), ['rm', 'ppo']);
  assert.throws(() => chainStages({ from: 'ppo', through: 'sft' }), PipelinePlanError);
  assert.throws(() => chainStages({ from: 'rm', skip: ['rm'] }), /cannot skip it/);
});

test('run from rm on a builtin policy: PPO takes the rm run the chain makes, and its base model as policy', () => {
  const { config } = experiment('plan-builtin');
  const plan = planChain(config, stateOf({}), { from: 'rm', through: 'ppo', skip: ['rl_init'] });
  assert.deepEqual(
    plan.steps.map((s) => s.stage),
    ['rm', 'ppo'],
  );
  assert.deepEqual(plan.steps[0].inputs, []);
  assert.match(plan.steps[0].unchanged[0], /model\.policy: as the config leaves it \(no finished sft run/);
  const ppo = plan.steps[1].inputs.map((p) => [p.key, p.source]);
  assert.deepEqual(ppo, [
    ['model.reward_model', { kind: 'chain', stage: 'rm' }],
    ['model.policy', { kind: 'base', of: { kind: 'chain', stage: 'rm' } }],
  ]);
  // Resolved once the rm run exists: its run folder, and the base.json path of its checkpoint.
  const rmRun = makeRun(join(work, 'plan-builtin', 'runs', 'exp-rm-1'), {
    stage: 'rm',
    status: 'finished',
    started: T0,
    configPath: config,
    base: '/r/exp-rm-1/model',
  });
  assert.equal(runBaseModel(rmRun), '/r/exp-rm-1/model');
  assert.deepEqual(resolveInputs(plan.steps[1], new Map([['rm', rmRun]])), {
    'model.reward_model': rmRun,
    'model.policy': '/r/exp-rm-1/model',
  });
  assert.throws(() => resolveInputs(plan.steps[1], new Map()), /the rm run this chain was to make is missing/);
});

test('run from ppo: links the finished sft/rl_init and rm runs of the config; a key the user set stays', () => {
  const { config } = experiment('plan-links');
  const found = stateOf({ sft: '/r/sft', rm: '/r/rm', rl_init: '/r/rl_init' });
  const plan = planChain(config, found, { from: 'ppo' });
  assert.deepEqual(
    plan.steps.map((s) => [s.stage, s.inputs.map((p) => [p.key, p.source])]),
    [
      [
        'ppo',
        [
          ['model.policy', { kind: 'run', stage: 'rl_init', runDir: '/r/rl_init' }],
          ['model.reward_model', { kind: 'run', stage: 'rm', runDir: '/r/rm' }],
        ],
      ],
      ['eval', [['eval.checkpoint', { kind: 'chain', stage: 'ppo' }]]],
    ],
  );
  // The user's own reward model is kept; the policy still links (builtin: is no choice of a model).
  const own = experiment('plan-own', 'reward_model: {}\n');
  writeFileSync(
    own.config,
    readFileSync(own.config, 'utf8').replace('  policy: builtin:tiny-llava\n', '  policy: builtin:tiny-llava\n  reward_model: /mine/rm\n'),
  );
  const kept = planChain(own.config, found, { from: 'ppo', through: 'ppo' });
  assert.deepEqual(
    kept.steps[0].inputs.map((p) => p.key),
    ['model.policy'],
  );
  assert.deepEqual(kept.steps[0].unchanged, ['model.reward_model: as the config sets it']);
});

test('a run made from an input the chain re-makes is stale; builtin bases are never mixed', () => {
  const { config } = experiment('plan-stale');
  // From sft: the old rl_init run was trained on the old SFT model, so PPO takes the new sft run.
  const plan = planChain(config, stateOf({ rl_init: '/r/rl_init', rm: '/r/rm' }), { from: 'sft', skip: ['rm', 'rl_init'] });
  const ppo = plan.steps.find((s) => s.stage === 'ppo');
  assert.deepEqual(ppo?.inputs.find((p) => p.key === 'model.policy')?.source, { kind: 'chain', stage: 'sft' });
  // The old rm run was trained on the old SFT model too.
  assert.equal(
    ppo?.inputs.find((p) => p.key === 'model.reward_model'),
    undefined,
  );
  // From rm (builtin policy): the old rl_init run sits on another random base than the new rm run.
  const mixed = planChain(config, stateOf({ rl_init: '/r/rl_init' }), { from: 'rm', through: 'ppo', skip: ['rl_init'] });
  const step = mixed.steps[1];
  assert.deepEqual(step.inputs.find((p) => p.key === 'model.policy')?.source, { kind: 'base', of: { kind: 'chain', stage: 'rm' } });
  assert.match(step.unchanged.join('\n'), /not the rl_init run \/r\/rl_init, which was trained on another random builtin model/);
});

test('the chain runner: one launch per step in order, derived configs only where keys are set, stops at the first failure', async () => {
  const { config, runs } = experiment('runner');
  const plan = planChain(config, stateOf({}), { from: 'sft', through: 'ppo', skip: ['rl_init'] });
  const launched: ChainLaunch[] = [];
  const outcomes: Record<string, 'finished' | 'failed'> = { sft: 'finished', rm: 'finished', ppo: 'failed' };
  const runner = new ChainRunner(plan, async (l) => {
    launched.push(l);
    mkdirSync(l.runDir, { recursive: true });
    return { status: outcomes[l.stage], runDir: l.runDir, error: outcomes[l.stage] === 'failed' ? 'boom' : undefined };
  });
  const seen: string[] = [];
  runner.on('progress', (p) => seen.push(p.steps.map((s) => s.status).join(',')));
  const result = await runner.run();
  assert.equal(result.status, 'failed');
  assert.deepEqual(
    launched.map((l) => l.stage),
    ['sft', 'rm', 'ppo'],
  );
  assert.equal(launched[0].configPath, config, 'sft sets nothing: the user config itself');
  assert.equal(dirname(launched[0].runDir), runs);
  assert.match(basename(launched[0].runDir), /^exp-sft-\d/);
  assert.equal(launched[1].configPath, join(launched[1].runDir, DERIVED_CONFIG_FILE));
  assert.deepEqual(launched[1].overrides, { 'model.policy': launched[0].runDir });
  assert.deepEqual(launched[2].overrides, { 'model.policy': launched[0].runDir, 'model.reward_model': launched[1].runDir });
  const derived = parse(readFileSync(launched[2].configPath, 'utf8')) as { extends: string; model: Record<string, string> };
  assert.equal(derived.extends, config);
  assert.equal(derived.model.reward_model, launched[1].runDir);
  assert.deepEqual(
    result.steps.map((s) => [s.stage, s.status, s.error]),
    [
      ['sft', 'finished', null],
      ['rm', 'finished', null],
      ['ppo', 'failed', 'boom'],
    ],
  );
  assert.ok(seen.includes('running,pending,pending'), seen.join(' | '));
  assert.equal(runner.progress().done, true);

  // A step whose input cannot be resolved fails without launching; the rest is skipped.
  const plan2 = planChain(config, stateOf({}), { from: 'rm', through: 'ppo', skip: ['rl_init'] });
  const started: Stage[] = [];
  const noBase = new ChainRunner(plan2, async (l) => {
    started.push(l.stage);
    return { status: 'finished', runDir: l.runDir }; // "finished" with no checkpoint: nothing to link
  });
  const r2 = await noBase.run();
  assert.equal(r2.status, 'failed');
  assert.match(r2.steps[1].error ?? '', /has no checkpoint \(checkpoints\/latest\)/);
  assert.deepEqual(started, ['rm'], 'the ppo step never launched');
});
