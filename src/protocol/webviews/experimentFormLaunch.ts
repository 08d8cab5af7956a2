// The experiment form's pipeline strip and launch panel: the messages they add to the form's
// contract (see ../ipc.ts for the mechanism). The host computes everything (src/runs/pipeline.ts,
// pipelinePlan.ts, launchPlan.ts, gpus.ts) and the view only shows it and sends the user's choice,
// so the form wires these in with no logic of its own: spread `launchNotifications`,
// `launchCommands` and `launchRequests` into its defineContract call.
//
// Host → view: `pipeline` (each stage's state from this config's runs; again whenever one changes),
// `gpus` (what nvidia-smi found, or "no GPU: CPU"), `chain` (a "Run from here" chain's progress).
// View → host commands: `runStage {stage}`, `runFromHere {stage}`, `launch {stage, backend, gpus}`.
// Requests: `planLaunch {stage, backend, gpus}` → the plan shown BEFORE launch (the exact command,
// its environment, the sbatch script, or why the launch is refused).

import type { Stage } from '../index';
import type { Validator } from '../guards';
import { arrayOf, boolean, finite, integer, literal, nullable, object, recordOf, string } from '../guards';

/** The strip's stages, in pipeline order (FACT_RLHF.md §2). */
export const PIPELINE_STAGES: readonly Stage[] = ['sft', 'rm', 'rl_init', 'ppo', 'eval'];

export const STAGE_LABELS: Readonly<Record<Stage, string>> = {
  sft: 'SFT',
  rm: 'reward model',
  rl_init: 'rl_init',
  ppo: 'PPO',
  eval: 'eval',
};

/** A stage's state on the strip: its newest run's (`not-run` when it has none). */
export type PipelineStageStatus = 'not-run' | 'running' | 'finished' | 'failed' | 'stopped' | 'interrupted';

export interface PipelineStageView {
  stage: Stage;
  label: string;
  status: PipelineStageStatus;
  /** The newest run of this stage (what the status describes). */
  runId: string | null;
  runDir: string | null;
  /** While running. */
  progress: { step: number; total: number; eta: number | null } | null;
  /** The stage's headline figure (schema/metrics.json `headline`) of the newest run. */
  headline: { label: string; value: number | null } | null;
  /** The trainer's error text, when the newest run failed. */
  error: string | null;
  /** How many runs of this stage the config has. */
  runCount: number;
  /** The newest finished run with a checkpoint: what "Run from here" links a later stage to. */
  finishedRunDir: string | null;
}

export interface PipelineState {
  configPath: string;
  stages: PipelineStageView[];
}

export type LaunchBackendChoice = 'local' | 'torchrun' | 'slurm';

export interface GpuView {
  index: number;
  name: string;
  memoryTotalMiB: number;
  memoryFreeMiB: number;
}

export type GpuListView = { kind: 'gpus'; gpus: GpuView[] } | { kind: 'none'; label: string; detail: string };

/** One config key a pipeline launch sets (in a derived config, see src/runs/derivedConfig.ts). */
export interface OverrideView {
  key: string;
  /** The path, or a description while it is not known yet ("the rm run this chain makes"). */
  value: string;
  note: string;
}

export interface ChainStepView {
  stage: Stage;
  overrides: OverrideView[];
}

export type LaunchPlanView =
  | {
      ok: true;
      stage: Stage;
      backend: LaunchBackendChoice;
      /** The argument vector that runs (local, torchrun) or submits (slurm: `sbatch --parsable FILE`). */
      argv: string[];
      /** The same, quoted for a POSIX shell, for reading and copying. */
      commandLine: string;
      /** Variables the launch sets on top of the editor's environment. */
      env: Record<string, string>;
      runDir: string;
      /** Slurm: the sbatch script for review, and where it is written before submission. */
      script: string | null;
      scriptPath: string | null;
      /** The stages a "Run from here" launch runs, with the keys each one sets; one step otherwise. */
      chain: ChainStepView[];
      notes: string[];
    }
  | { ok: false; stage: Stage; backend: LaunchBackendChoice; reason: string };

export type ChainStepStatus = 'pending' | 'running' | 'finished' | 'failed' | 'stopped' | 'skipped';

export interface ChainProgressView {
  steps: { stage: Stage; status: ChainStepStatus; runDir: string | null; error: string | null }[];
  done: boolean;
}

// --- messages ---------------------------------------------------------------------------------
export interface PipelineMessage {
  type: 'pipeline';
  state: PipelineState;
}
export interface GpusMessage {
  type: 'gpus';
  report: GpuListView;
}
export interface ChainMessage {
  type: 'chain';
  progress: ChainProgressView;
}
export interface RunStageMessage {
  type: 'runStage';
  stage: Stage;
}
export interface RunFromHereMessage {
  type: 'runFromHere';
  stage: Stage;
}
export interface LaunchParams {
  stage: Stage;
  backend: LaunchBackendChoice;
  /** GPU indices (nvidia-smi's) to use; [] on CPU. Slurm allocates its own: there only the count matters. */
  gpus: number[];
}
export interface LaunchMessage extends LaunchParams {
  type: 'launch';
}

// --- validators -------------------------------------------------------------------------------
/** The most GPUs one launch names: more is a malformed message, not a machine. */
export const MAX_GPUS = 64;

const stage = literal('sft', 'rm', 'rl_init', 'ppo', 'eval');
const backend = literal('local', 'torchrun', 'slurm');
const gpuIndices: Validator<number[]> = {
  check(value, path) {
    const shape = arrayOf(integer).check(value, path);
    if (shape) return shape;
    const list = value as number[];
    if (list.length > MAX_GPUS) return `${path} must list at most ${MAX_GPUS} GPUs, got ${list.length}`;
    if (list.some((i) => i < 0)) return `${path} must hold GPU indices (0 or more)`;
    if (new Set(list).size !== list.length) return `${path} must not name a GPU twice`;
    return undefined;
  },
};
const count = integer;

const stageView = object({
  stage,
  label: string,
  status: literal('not-run', 'running', 'finished', 'failed', 'stopped', 'interrupted'),
  runId: nullable(string),
  runDir: nullable(string),
  progress: nullable(object({ step: finite, total: finite, eta: nullable(finite) })),
  headline: nullable(object({ label: string, value: nullable(finite) })),
  error: nullable(string),
  runCount: count,
  finishedRunDir: nullable(string),
});
export const pipelineState: Validator<PipelineState> = object({ configPath: string, stages: arrayOf(stageView) });

const gpuView = object({ index: integer, name: string, memoryTotalMiB: finite, memoryFreeMiB: finite });
export const gpuListView: Validator<GpuListView> = {
  check(value, path) {
    const kind = object({ kind: literal('gpus', 'none') }).check(value, path);
    if (kind) return kind;
    return (value as { kind: string }).kind === 'gpus'
      ? object({ kind: literal('gpus'), gpus: arrayOf(gpuView) }).check(value, path)
      : object({ kind: literal('none'), label: string, detail: string }).check(value, path);
  },
};

const chainStepView = object({ stage, overrides: arrayOf(object({ key: string, value: string, note: string })) });
const planOk = object({
  ok: literal(true),
  stage,
  backend,
  argv: arrayOf(string),
  commandLine: string,
  env: recordOf(string),
  runDir: string,
  script: nullable(string),
  scriptPath: nullable(string),
  chain: arrayOf(chainStepView),
  notes: arrayOf(string),
});
const planRefused = object({ ok: literal(false), stage, backend, reason: string });
export const launchPlanView: Validator<LaunchPlanView> = {
  check(value, path) {
    const ok = object({ ok: boolean }).check(value, path);
    if (ok) return ok;
    return (value as { ok: boolean }).ok ? planOk.check(value, path) : planRefused.check(value, path);
  },
};

const chainProgress: Validator<ChainProgressView> = object({
  steps: arrayOf(
    object({
      stage,
      status: literal('pending', 'running', 'finished', 'failed', 'stopped', 'skipped'),
      runDir: nullable(string),
      error: nullable(string),
    }),
  ),
  done: boolean,
});

const launchParams = { stage, backend, gpus: gpuIndices };

/** Host → view messages of the strip and the launch panel. */
export const launchNotifications = {
  pipeline: object({ type: literal('pipeline'), state: pipelineState }) as Validator<PipelineMessage>,
  gpus: object({ type: literal('gpus'), report: gpuListView }) as Validator<GpusMessage>,
  chain: object({ type: literal('chain'), progress: chainProgress }) as Validator<ChainMessage>,
};

/** View → host commands; each is validated before the host acts on it. */
export const launchCommands = {
  runStage: object({ type: literal('runStage'), stage }) as Validator<RunStageMessage>,
  runFromHere: object({ type: literal('runFromHere'), stage }) as Validator<RunFromHereMessage>,
  launch: object({ type: literal('launch'), ...launchParams }) as Validator<LaunchMessage>,
};

/** Requests: the plan the panel shows before the user launches. */
export const launchRequests = {
  planLaunch: { params: object(launchParams) as Validator<LaunchParams>, result: launchPlanView },
};

export type LaunchNotifications = { pipeline: PipelineMessage; gpus: GpusMessage; chain: ChainMessage };
export type LaunchCommands = { runStage: RunStageMessage; runFromHere: RunFromHereMessage; launch: LaunchMessage };
export type LaunchRequests = { planLaunch: { params: LaunchParams; result: LaunchPlanView } };
