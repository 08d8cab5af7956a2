// "Run from here": the chain of stages from a chosen one to the end of the pipeline, each step's
// inputs linked to the runs that feed it (FACT_RLHF.md §2). Which config key names a stage's input
// comes from the schema's descriptions and the trainer (trainer/fact_rlhf/stages/sources.py, and
// the demo's links in demo/plan.py): `model.policy` (an sft or rl_init run), `model.reward_model`
// (an rm run), `eval.checkpoint` (a policy run, in x-eval-default's order). The plan is data for the
// form to show; the overrides become a derived config per run (derivedConfig.ts) when it launches.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChainStepView, PipelineState, Stage } from '../protocol';
import { PIPELINE_STAGES } from '../protocol';
import { readConfigChain } from './configChain';
import type { ConfigOverrides } from './derivedConfig';
import { EVAL_POLICY_STAGES } from './evalTarget';
import { CHECKPOINTS_DIR } from './runDirectory';

export interface StageInput {
  /** Dotted config key. */
  key: string;
  /** The stages whose run it takes, the preferred first. */
  from: readonly Stage[];
}

export const STAGE_INPUTS: Readonly<Record<Stage, readonly StageInput[]>> = {
  sft: [],
  rm: [{ key: 'model.policy', from: ['sft'] }],
  rl_init: [{ key: 'model.policy', from: ['sft'] }],
  ppo: [
    { key: 'model.policy', from: ['rl_init', 'sft'] },
    { key: 'model.reward_model', from: ['rm'] },
  ],
  eval: [{ key: 'eval.checkpoint', from: EVAL_POLICY_STAGES }],
};

/** Where an input comes from. */
export type RunSource = { kind: 'chain'; stage: Stage } | { kind: 'run'; stage: Stage; runDir: string };
export type InputSource = RunSource | { kind: 'base'; of: RunSource };

export interface PlannedInput {
  key: string;
  source: InputSource;
  note: string;
}

export interface ChainStep {
  stage: Stage;
  inputs: PlannedInput[];
  /** Inputs left as the config sets them, and why. */
  unchanged: string[];
}

export interface ChainPlan {
  configPath: string;
  steps: ChainStep[];
}

export interface ChainOptions {
  from: Stage;
  /** The last stage to run (default: eval, the end of the pipeline). */
  through?: Stage;
  /** Stages inside the range not to run (e.g. rl_init: PPO's policy LoRA can start on the SFT model). */
  skip?: readonly Stage[];
}

export class PipelinePlanError extends Error {}

/** A key's value as the config chain leaves it (later files win), or undefined. */
function configValue(configPath: string, dotted: string): unknown {
  let value: unknown;
  for (const { doc } of readConfigChain(configPath)) {
    let node: unknown = doc;
    for (const part of dotted.split('.')) node = node && typeof node === 'object' ? (node as Record<string, unknown>)[part] : undefined;
    if (node !== undefined) value = node;
  }
  return value;
}

/** A random `builtin:` policy (or none set): each run that trains on it builds a new random base model. */
function builtinPolicy(configPath: string): boolean {
  const policy = configValue(configPath, 'model.policy');
  return typeof policy !== 'string' || policy.startsWith('builtin:');
}

/** The user chose this input in the config: an existing run does not replace it (a run this chain makes does). */
function setByUser(configPath: string, key: string): boolean {
  const v = configValue(configPath, key);
  if (key === 'model.policy') return !builtinPolicy(configPath);
  return typeof v === 'string' && v.trim() !== '';
}

/** Every stage `stage` takes an input from, directly or through another. */
function upstreamOf(stage: Stage, seen = new Set<Stage>()): Set<Stage> {
  for (const input of STAGE_INPUTS[stage])
    for (const s of input.from) {
      if (seen.has(s)) continue;
      seen.add(s);
      upstreamOf(s, seen);
    }
  return seen;
}

function describeRun(source: RunSource): string {
  return source.kind === 'chain' ? `the ${source.stage} run this chain makes` : `the ${source.stage} run ${source.runDir}`;
}

export function describeSource(source: InputSource): string {
  return source.kind === 'base' ? `the base model of ${describeRun(source.of)}` : describeRun(source);
}

/** The stages a chain runs, in order. */
export function chainStages(opts: ChainOptions): Stage[] {
  const from = PIPELINE_STAGES.indexOf(opts.from);
  const through = PIPELINE_STAGES.indexOf(opts.through ?? 'eval');
  if (from < 0) throw new PipelinePlanError(`unknown stage ${JSON.stringify(opts.from)}`);
  if (through < 0) throw new PipelinePlanError(`unknown stage ${JSON.stringify(opts.through)}`);
  if (through < from) throw new PipelinePlanError(`the chain cannot end at ${opts.through}, which comes before ${opts.from}`);
  const skip = new Set(opts.skip ?? []);
  if (skip.has(opts.from)) throw new PipelinePlanError(`the chain starts at ${opts.from}: it cannot skip it`);
  return PIPELINE_STAGES.slice(from, through + 1).filter((s) => !skip.has(s));
}

/**
 * The chain from `opts.from`, each step's inputs linked: to a run an earlier step of the chain makes;
 * else to the newest finished run of this config of a stage outside the chain (from `pipeline`),
 * when nothing the chain re-makes fed that run and the config does not set the key itself; else the
 * config's own value stands. With a random `builtin:` policy a stage's policy is the base model of the
 * reward model it is paired with (or of the chain's first run), since a fresh builtin model is a new
 * random one that an adapter trained on another does not fit.
 */
export function planChain(configPath: string, pipeline: PipelineState, opts: ChainOptions): ChainPlan {
  const stages = chainStages(opts);
  const builtin = builtinPolicy(configPath);
  const finished = new Map(pipeline.stages.filter((s) => s.finishedRunDir).map((s) => [s.stage, s.finishedRunDir as string]));
  const steps: ChainStep[] = stages.map((stage, i) => {
    const made = new Set(stages.slice(0, i));
    const inputs: PlannedInput[] = [];
    const unchanged: string[] = [];
    for (const input of STAGE_INPUTS[stage]) {
      let source: RunSource | undefined;
      for (const from of input.from) {
        if (made.has(from)) {
          source = { kind: 'chain', stage: from };
          break;
        }
        const runDir = finished.get(from);
        const stale = [...upstreamOf(from)].some((s) => made.has(s));
        if (runDir && !stages.includes(from) && !stale && !setByUser(configPath, input.key)) {
          source = { kind: 'run', stage: from, runDir };
          break;
        }
      }
      if (source) inputs.push({ key: input.key, source, note: `${input.key} ← ${describeRun(source)}` });
    }
    // Two builtin bases never match: a step that takes a run this chain makes takes no older run beside it.
    if (builtin && inputs.some((p) => p.source.kind === 'chain')) {
      for (let j = inputs.length - 1; j >= 0; j--)
        if (inputs[j].source.kind === 'run') {
          unchanged.push(`${inputs[j].key}: not ${describeSource(inputs[j].source)}, which was trained on another random builtin model`);
          inputs.splice(j, 1);
        }
    }
    const keys = new Set(inputs.map((p) => p.key));
    if (builtin && STAGE_INPUTS[stage].some((s) => s.key === 'model.policy') && !keys.has('model.policy')) {
      const reward = inputs.find((p) => p.key === 'model.reward_model')?.source as RunSource | undefined;
      const of: RunSource | undefined = reward ?? (stages[0] !== stage ? { kind: 'chain', stage: stages[0] } : undefined);
      if (of) {
        const source: InputSource = { kind: 'base', of };
        inputs.push({
          key: 'model.policy',
          source,
          note: `model.policy ← ${describeSource(source)} (the config's builtin: policy would be a new random model)`,
        });
        keys.add('model.policy');
      }
    }
    for (const input of STAGE_INPUTS[stage])
      if (!keys.has(input.key) && !unchanged.some((u) => u.startsWith(`${input.key}:`)))
        unchanged.push(
          setByUser(configPath, input.key)
            ? `${input.key}: as the config sets it`
            : `${input.key}: as the config leaves it (no finished ${input.from.join(' or ')} run to take)`,
        );
    return { stage, inputs, unchanged };
  });
  return { configPath, steps };
}

/** The checkpoint a run folder stands for as the trainer reads it (sources.py run_checkpoint). */
function runCheckpoint(runDir: string): string {
  const best = join(runDir, CHECKPOINTS_DIR, 'best');
  if (existsSync(join(best, 'base.json'))) return best; // an rm run's best by held-out accuracy
  let name: string;
  try {
    name = readFileSync(join(runDir, CHECKPOINTS_DIR, 'latest'), 'utf8').trim();
  } catch {
    throw new PipelinePlanError(`${runDir} has no checkpoint (checkpoints/latest)`);
  }
  return join(runDir, CHECKPOINTS_DIR, name);
}

/** The model a run was trained on: its checkpoint's base.json `path` (written by the trainer). */
export function runBaseModel(runDir: string): string {
  const file = join(runCheckpoint(runDir), 'base.json');
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new PipelinePlanError(`${file}: cannot read the base model the run was trained on (${(e as Error).message})`);
  }
  const path = (data as { path?: unknown } | null)?.path;
  if (typeof path !== 'string' || !path) throw new PipelinePlanError(`${file}: no "path" of the base model`);
  return path;
}

function runDirOf(source: RunSource, made: ReadonlyMap<Stage, string>): string {
  if (source.kind === 'run') return source.runDir;
  const dir = made.get(source.stage);
  if (!dir) throw new PipelinePlanError(`the ${source.stage} run this chain was to make is missing`);
  return dir;
}

/** A step's overrides once the runs before it exist (`made`: stage → the run folder this chain made). */
export function resolveInputs(step: ChainStep, made: ReadonlyMap<Stage, string>): ConfigOverrides {
  const out: ConfigOverrides = {};
  for (const p of step.inputs) {
    out[p.key] = p.source.kind === 'base' ? runBaseModel(runDirOf(p.source.of, made)) : runDirOf(p.source, made);
  }
  return out;
}

/** The plan as the form shows it. */
export function chainStepViews(plan: ChainPlan): ChainStepView[] {
  return plan.steps.map((s) => ({
    stage: s.stage,
    overrides: s.inputs.map((p) => ({ key: p.key, value: describeSource(p.source), note: p.note })),
  }));
}
