// Figures derived from a config: world size, how each global batch splits into per-device
// micro-batches (gradient accumulation), optimiser steps per PPO iteration, iterations per epoch.
import type { ResolvedConfig } from './chain';
import { configPath, countRecords } from './dataFiles';
import { batchPairs, iterationRule } from './schema';
import type { BatchPair } from './schema';
import type { EngineHost } from './types';

export interface BatchSplit {
  global: number;
  /** The configured per-device micro-batch. */
  perDevice: number;
  /** The micro-batch actually used: a per-device size above a process's share means one chunk. */
  micro: number;
  /** perDevice × processes: the global batch that splits into full micro-batches once. */
  unit: number;
  /** Micro-batches per device for one global batch (gradient-accumulation steps), when it divides. */
  perDeviceSteps?: number;
}

export interface Derived {
  gpus: number;
  nodes: number;
  /** Processes per node, as the trainer starts them (distributed.processes_per_node). */
  perNode: number;
  /** Where `perNode` comes from, for messages: `launch.processes`, `launch.gpus`, one process on CPU, or
   * one process because `launch.backend` is `local`. */
  perNodeSource: 'launch.processes' | 'launch.gpus' | 'CPU (1 per node)' | 'backend local (1 process)';
  /** Training processes: perNode × nodes. */
  world: number;
  /** Every batch pair of the schema (`x-batch-pair`), with its split when both sizes are valid. */
  batches: Array<{ pair: BatchPair; split?: BatchSplit }>;
  rollout?: BatchSplit;
  step?: BatchSplit;
  sft?: BatchSplit;
  rlInit?: BatchSplit;
  rm?: BatchSplit;
  /** Optimiser steps per PPO iteration: (rollout / step batch) × ppo_epochs. */
  optimiserStepsPerIteration?: number;
  /** Upper bound of tokens generated and scored per iteration: rollout × (query + response). */
  tokensPerRollout?: number;
  promptCount?: number;
  iterationsPerEpoch?: number;
  totalIterations?: number;
}

/** The named fields below for the pairs the other engine modules address directly. */
const FIELD_OF_PAIR: Record<string, 'rollout' | 'step' | 'sft' | 'rlInit' | 'rm'> = {
  'ppo.rollout': 'rollout',
  'ppo.step': 'step',
  sft: 'sft',
  rl_init: 'rlInit',
  reward_model: 'rm',
};

const ROUNDING = { floor: Math.floor, ceil: Math.ceil, round: Math.round } as const;

function split(r: ResolvedConfig, globalKey: string[], perDeviceKey: string[], world: number): BatchSplit | undefined {
  const global = r.num(globalKey);
  const perDevice = r.num(perDeviceKey);
  if (
    global === undefined ||
    perDevice === undefined ||
    !Number.isInteger(global) ||
    !Number.isInteger(perDevice) ||
    global < 1 ||
    perDevice < 1
  )
    return undefined;
  // As the trainer splits it: the global batch over the processes, each share in micro-batches.
  const share = global / world;
  const micro = Number.isInteger(share) ? Math.min(perDevice, share) : perDevice;
  const perDeviceSteps = Number.isInteger(share) && share % micro === 0 ? share / micro : undefined;
  return { global, perDevice, micro, unit: perDevice * world, perDeviceSteps };
}

export function deriveFigures(r: ResolvedConfig, host: EngineHost | undefined): Derived {
  const gpusRaw = r.num(['launch', 'gpus']);
  const nodesRaw = r.num(['launch', 'nodes']);
  const gpus = gpusRaw !== undefined && Number.isInteger(gpusRaw) && gpusRaw >= 0 ? gpusRaw : 1;
  const nodes = nodesRaw !== undefined && Number.isInteger(nodesRaw) && nodesRaw >= 1 ? nodesRaw : 1;
  // As the trainer: `backend: local` (the default) starts one process, whatever launch.gpus says (the
  // trainer warns); otherwise launch.processes when set, else one process per GPU, and one on CPU.
  const local = (r.get(['launch', 'backend']) ?? 'local') === 'local';
  const processes = r.num(['launch', 'processes']);
  const explicit = processes !== undefined && Number.isInteger(processes) && processes >= 1;
  const cpu = r.get(['launch', 'device']) === 'cpu';
  const perNode = local ? 1 : explicit ? processes : cpu ? 1 : Math.max(gpus, 1);
  const perNodeSource: Derived['perNodeSource'] = local
    ? 'backend local (1 process)'
    : explicit
      ? 'launch.processes'
      : cpu
        ? 'CPU (1 per node)'
        : 'launch.gpus';
  const world = perNode * nodes;
  const d: Derived = { gpus, nodes, perNode, perNodeSource, world, batches: [] };
  for (const pair of batchPairs()) {
    const sp = split(r, pair.global, pair.perDevice, world);
    d.batches.push({ pair, split: sp });
    const field = FIELD_OF_PAIR[pair.name];
    if (field) d[field] = sp;
  }
  const epochs = r.num(['ppo', 'ppo_epochs']);
  if (d.rollout && d.step && d.rollout.global % d.step.global === 0 && epochs !== undefined && Number.isInteger(epochs) && epochs >= 1) {
    d.optimiserStepsPerIteration = (d.rollout.global / d.step.global) * epochs;
  }
  const q = r.num(['ppo', 'query_len']);
  const resp = r.num(['ppo', 'response_len']);
  if (d.rollout && q !== undefined && resp !== undefined && q > 0 && resp > 0) d.tokensPerRollout = d.rollout.global * (q + resp);

  // The iteration count as the trainer computes it (`x-iterations` on `ppo` in the schema):
  // max(minimum, floor(epochs × prompts / rollout batch)), capped by ppo.max_iterations.
  const rule = iterationRule();
  if (host) {
    const prompts = configPath(r, rule.prompts.split('.'), host);
    if (prompts?.expanded.absolute) d.promptCount = countRecords(host, prompts.expanded.absolute);
  }
  const batch = r.num(['ppo', rule.batch]);
  const totalEpochs = r.num(['ppo', rule.epochs]);
  const maxIter = r.num(['ppo', rule.cap]);
  if (d.promptCount !== undefined && d.promptCount > 0 && batch !== undefined && Number.isInteger(batch) && batch >= 1) {
    d.iterationsPerEpoch = d.promptCount / batch;
    // epochs × prompts / batch in the trainer's order, so float rounding lands on the same side.
    if (totalEpochs !== undefined && totalEpochs > 0)
      d.totalIterations = Math.max(rule.minimum, ROUNDING[rule.rounding]((totalEpochs * d.promptCount) / batch));
  }
  if (
    maxIter !== undefined &&
    Number.isInteger(maxIter) &&
    maxIter >= 1 &&
    (d.totalIterations === undefined || maxIter < d.totalIterations)
  )
    d.totalIterations = maxIter;
  return d;
}

/** 524288 → "524,288"; 140.625 → "140.6" (no Intl: it is slow on a hot path). */
export function formatCount(n: number): string {
  if (!Number.isInteger(n)) return n.toFixed(1);
  const s = String(Math.abs(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return n < 0 ? `-${s}` : s;
}
