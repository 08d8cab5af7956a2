// What the launch panel shows BEFORE a launch, and what then runs: for the local backend the
// trainer in one process, for torchrun the same under PyTorch's launcher on the chosen GPUs
// (CUDA_VISIBLE_DEVICES), for Slurm the sbatch script (launchScript.ts) and the `sbatch` command that
// submits it (slurmSubmit.ts). The argument vector shown is the one RunManager spawns (trainerCommand,
// trainerEnvironment: one definition). A launch is refused, with the reason, in an untrusted
// workspace (training loads models) or when the config has errors (the caller passes the language
// server's diagnostics: this module checks no rule itself).
import { isAbsolute, join, resolve } from 'node:path';
import type { ChainStepView, LaunchBackendChoice, LaunchPlanView, Stage, ValidationDiagnostic } from '../protocol';
import { readConfigChain } from './configChain';
import type { GpuReport } from './gpus';
import { LaunchScriptError, launchScript } from './launchScript';
import { trainerCommand, trainerEnvironment, type StartOptions } from './runManager';
import { defaultRunDirectory } from './runNaming';
import { ShellQuoteError, shCommand, shQuote } from './shellQuote';

/** The sbatch script's name in the run folder (written there before it is submitted). */
export const SLURM_SCRIPT_FILE = 'launch.sbatch';

/** Stages the trainer runs on several processes (schema `launch.backend`); eval runs in one. */
const MULTI_PROCESS_STAGES: readonly Stage[] = ['sft', 'rm', 'rl_init', 'ppo'];

export interface LaunchPlanRequest {
  stage: Stage;
  backend: LaunchBackendChoice;
  configPath: string;
  /** Default: a new folder under the config's output folder. */
  runDir?: string;
  /** GPU indices to use (local, torchrun); [] runs on what the trainer finds (CPU without GPUs). */
  gpus: readonly number[];
  /** torchrun with no GPU chosen (CPU, gloo): processes on this node (default: launch.processes, else 1). */
  processes?: number;
  /** Slurm: GPUs per node and nodes (default: the config's launch.gpus and launch.nodes). */
  gpusPerNode?: number;
  nodes?: number;
  python: string;
  trainerRoot: string;
  schemaDir: string;
  /** Workspace Trust: no training launch in an untrusted workspace. */
  trusted: boolean;
  /** The language server's diagnostics for the config; any error refuses the launch. */
  diagnostics: readonly Pick<ValidationDiagnostic, 'severity' | 'message' | 'file' | 'line'>[];
  /** The GPUs found (gpus.ts): chosen indices must be among them. */
  available?: GpuReport;
  /** "Run from here": the stages and the keys each sets (pipelinePlan.chainStepViews). */
  chain?: ChainStepView[];
  /** eval: the model to evaluate and --allow-random, as RunManager takes them. */
  evalCheckpoint?: string;
  allowRandom?: boolean;
  /** The environment the launch inherits (default: this process's). */
  baseEnv?: NodeJS.ProcessEnv;
}

export interface SlurmJob {
  script: string;
  scriptPath: string;
  runDir: string;
}

/** The view, plus what the caller hands to RunManager.start (local, torchrun) or submitSlurm. */
export interface LaunchPlan {
  view: LaunchPlanView;
  start: StartOptions | null;
  slurm: SlurmJob | null;
}

function refuse(req: LaunchPlanRequest, reason: string): LaunchPlan {
  return { view: { ok: false, stage: req.stage, backend: req.backend, reason }, start: null, slurm: null };
}

function launchKey(configPath: string, key: string): number | undefined {
  let value: number | undefined;
  for (const { doc } of readConfigChain(configPath)) {
    const launch = doc.launch && typeof doc.launch === 'object' ? (doc.launch as Record<string, unknown>) : {};
    if (typeof launch[key] === 'number') value = launch[key] as number;
  }
  return value;
}

function firstError(req: LaunchPlanRequest): string | undefined {
  const errors = req.diagnostics.filter((d) => d.severity === 'error');
  if (!errors.length) return undefined;
  const e = errors[0];
  const where = `${e.file || req.configPath}${e.line ? `:${e.line}` : ''}`;
  return `the config has ${errors.length} error${errors.length === 1 ? '' : 's'}; fix ${errors.length === 1 ? 'it' : 'them'} first (${where}: ${e.message})`;
}

function gpuProblem(req: LaunchPlanRequest): string | undefined {
  if (!req.available || !req.gpus.length) return undefined;
  if (req.available.kind === 'none') return `GPU ${req.gpus.join(', ')} chosen, but this machine has none (${req.available.detail})`;
  const known = new Set(req.available.gpus.map((g) => g.index));
  const missing = req.gpus.filter((i) => !known.has(i));
  return missing.length ? `no GPU ${missing.join(', ')} on this machine (found ${[...known].join(', ')})` : undefined;
}

function commandLine(env: Record<string, string>, argv: readonly string[]): string {
  return [...Object.entries(env).map(([k, v]) => `${k}=${shQuote(v)}`), shCommand(argv)].join(' ');
}

export function planLaunch(req: LaunchPlanRequest): LaunchPlan {
  if (!req.trusted)
    return refuse(
      req,
      'this workspace is not trusted: training loads models and runs code, so launches are off in Restricted Mode (trust the folder to launch)',
    );
  const invalid = firstError(req);
  if (invalid) return refuse(req, invalid);
  if (req.backend !== 'local' && !MULTI_PROCESS_STAGES.includes(req.stage))
    return refuse(req, `the ${req.stage} stage runs in one process: launch it with the local backend`);
  const gpuIssue = gpuProblem(req);
  if (gpuIssue) return refuse(req, gpuIssue);
  const configPath = resolve(req.configPath);
  const runDir = resolve(req.runDir ?? defaultRunDirectory(configPath, req.stage));
  const chain = req.chain ?? [{ stage: req.stage, overrides: [] }];
  const notes: string[] = [];
  const trainerEnv = trainerEnvironment({ trainerRoot: req.trainerRoot, schemaDir: req.schemaDir }, req.baseEnv);

  if (req.backend === 'slurm') {
    const gpus = req.gpusPerNode ?? Math.max(1, launchKey(configPath, 'gpus') ?? 1);
    const nodes = req.nodes ?? Math.max(1, launchKey(configPath, 'nodes') ?? 1);
    let script: string;
    try {
      script = launchScript({
        backend: 'slurm',
        stage: req.stage,
        configPath,
        runDir,
        python: isAbsolute(req.python) ? req.python : undefined,
        trainerRoot: req.trainerRoot,
        schemaDir: req.schemaDir,
        gpus,
        nodes,
        jobName: `fact-rlhf-${req.stage}`,
      });
    } catch (e) {
      if (e instanceof LaunchScriptError || e instanceof ShellQuoteError) return refuse(req, e.message);
      throw e;
    }
    const scriptPath = join(runDir, SLURM_SCRIPT_FILE);
    const argv = ['sbatch', '--parsable', scriptPath];
    notes.push(
      `Slurm allocates the GPUs: ${nodes} node(s) × ${gpus} GPU(s) (launch.nodes, launch.gpus); the script is written to the run folder, then submitted`,
    );
    if (req.gpus.length) notes.push('the GPUs chosen on this machine do not apply to a Slurm job');
    return {
      view: {
        ok: true,
        stage: req.stage,
        backend: 'slurm',
        argv,
        commandLine: shCommand(argv),
        env: trainerEnv,
        runDir,
        script,
        scriptPath,
        chain,
        notes,
      },
      start: null,
      slurm: { script, scriptPath, runDir },
    };
  }

  // nvidia-smi numbers GPUs in PCI bus order, CUDA fastest first unless told: the picked index is the card that runs.
  const gpuEnv: Record<string, string> = req.gpus.length
    ? { CUDA_DEVICE_ORDER: 'PCI_BUS_ID', CUDA_VISIBLE_DEVICES: req.gpus.join(',') }
    : {};
  let torchrunProcesses: number | undefined;
  if (req.backend === 'torchrun') {
    torchrunProcesses = req.gpus.length || req.processes || launchKey(configPath, 'processes') || 1;
    if (!Number.isInteger(torchrunProcesses) || torchrunProcesses < 1)
      return refuse(req, `torchrun needs a whole number of processes of at least 1, got ${torchrunProcesses}`);
    notes.push(
      req.gpus.length
        ? `torchrun: one process per chosen GPU (${req.gpus.join(', ')}), nccl`
        : `torchrun: ${torchrunProcesses} process(es) on the CPU (gloo)`,
    );
  } else if (req.gpus.length > 1) {
    notes.push('local: one process sees these GPUs and trains on the first; choose torchrun to use them all');
  }
  if (!req.gpus.length)
    notes.push(req.available?.kind === 'none' ? 'no GPU: CPU' : 'no GPU chosen: the trainer uses what launch.device finds');
  const start: StartOptions = {
    stage: req.stage,
    configPath,
    python: req.python,
    trainerRoot: req.trainerRoot,
    schemaDir: req.schemaDir,
    runDir,
    env: gpuEnv,
    torchrunProcesses,
    evalCheckpoint: req.evalCheckpoint,
    allowRandom: req.allowRandom,
  };
  const argv = [req.python, ...trainerCommand(start, runDir)];
  const env = { ...trainerEnv, ...gpuEnv };
  return {
    view: {
      ok: true,
      stage: req.stage,
      backend: req.backend,
      argv,
      commandLine: commandLine(env, argv),
      env,
      runDir,
      script: null,
      scriptPath: null,
      chain,
      notes,
    },
    start,
    slurm: null,
  };
}
