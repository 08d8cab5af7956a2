// The script a torchrun or Slurm launch would run, for review before it runs (`fact-rlhf
// launch-script`, the experiment form's launch panel). Every path and value from a config, a file
// name or the user goes through shQuote: the script hands them to torchrun as literal words and
// never evaluates them. The only shell expansions are the script's own fixed text ($PATH, Slurm's
// variables).
import { dirname } from 'node:path';
import type { Stage } from '../protocol';
import { shCommand, shQuote } from './shellQuote';

export type LaunchBackend = 'torchrun' | 'slurm';

export interface LaunchScriptOptions {
  backend: LaunchBackend;
  stage: Stage;
  configPath: string;
  runDir: string;
  /** An absolute interpreter path whose environment has torch: its folder goes first on PATH (its torchrun). */
  python?: string;
  trainerRoot: string;
  schemaDir: string;
  /** Processes (GPUs) per node. */
  gpus: number;
  nodes?: number;
  /** Slurm job name; reduced to characters sbatch takes literally. */
  jobName?: string;
  /** Rendezvous port on the first node (Slurm, several nodes). */
  port?: number;
}

export class LaunchScriptError extends Error {}

function positiveInt(name: string, n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new LaunchScriptError(`${name} must be a whole number of at least 1, got ${n}`);
  return n;
}

/** `-m fact_rlhf STAGE --config FILE --run-dir DIR`: the trainer's own argument vector. */
function trainerWords(o: LaunchScriptOptions): string[] {
  return ['-m', 'fact_rlhf', o.stage, '--config', o.configPath, '--run-dir', o.runDir];
}

function environment(o: LaunchScriptOptions): string[] {
  return [
    // Quoted values; `${VAR:+:$VAR}` keeps what the caller had without evaluating anything of ours.
    ...(o.python ? [`PATH=${shQuote(dirname(o.python))}\${PATH:+:$PATH}`] : []),
    `PYTHONPATH=${shQuote(o.trainerRoot)}\${PYTHONPATH:+:$PYTHONPATH}`,
    `FACT_RLHF_SCHEMA_DIR=${shQuote(o.schemaDir)}`,
    'PYTHONUNBUFFERED=1',
    'HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}"',
    'export PATH PYTHONPATH FACT_RLHF_SCHEMA_DIR PYTHONUNBUFFERED HF_HUB_OFFLINE',
  ];
}

/** Slurm reads `#SBATCH` lines itself (no shell): only characters it cannot misread go there. */
function slurmSafe(text: string): string {
  const safe = text.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^[_.-]+/, '');
  return safe.slice(0, 64) || 'fact-rlhf';
}

export function launchScript(o: LaunchScriptOptions): string {
  const gpus = positiveInt('--gpus', o.gpus);
  const nodes = positiveInt('nodes', o.nodes ?? 1);
  const port = positiveInt('port', o.port ?? 29500);
  const lines: string[] = [];
  if (o.backend === 'torchrun') {
    if (nodes > 1) throw new LaunchScriptError('a torchrun script runs on this node only; use --backend slurm for several nodes');
    lines.push(
      '#!/bin/sh',
      `# fact-rlhf ${o.stage} on ${gpus} process(es) of this node, through PyTorch's torchrun.`,
      'set -eu',
      ...environment(o),
      `mkdir -p -- ${shQuote(o.runDir)}`,
      `exec ${shCommand(['torchrun', '--standalone', `--nproc_per_node=${gpus}`, ...trainerWords(o)])}`,
    );
  } else {
    lines.push(
      '#!/bin/bash',
      `#SBATCH --job-name=${slurmSafe(o.jobName ?? `fact-rlhf-${o.stage}`)}`,
      `#SBATCH --nodes=${nodes}`,
      '#SBATCH --ntasks-per-node=1',
      `#SBATCH --gpus-per-node=${gpus}`,
      // Paths stay out of #SBATCH lines (sbatch parses them, not a shell): the log goes to the run folder below.
      `# fact-rlhf ${o.stage}: torchrun on ${nodes} node(s) x ${gpus} GPU(s); submit with \`sbatch FILE\`.`,
      'set -eu',
      ...environment(o),
      `run_dir=${shQuote(o.runDir)}`,
      'mkdir -p -- "$run_dir"',
      'head_node="$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)"',
      `srun --kill-on-bad-exit=1 ${shCommand([
        'torchrun',
        '--nnodes',
      ])} "$SLURM_NNODES" ${shCommand([`--nproc_per_node=${gpus}`, '--rdzv-backend=c10d'])} --rdzv-endpoint="$head_node:${port}" --rdzv-id="$SLURM_JOB_ID" ${shCommand(trainerWords(o))} >> "$run_dir/slurm-$SLURM_JOB_ID.log" 2>&1`,
    );
  }
  return `${lines.join('\n')}\n`;
}
