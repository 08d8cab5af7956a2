// Inlay hints: derived values next to the keys they follow from — micro-batches and gradient
// accumulation, optimiser steps per PPO iteration, iterations, world size, length budget.
import type { Analysis } from './analyze';
import { formatCount } from './derived';
import type { BatchSplit, Derived } from './derived';
import { findPath, lineEnd } from './yamlFile';

export interface InlayHintEntry {
  offset: number;
  label: string;
  tooltip?: string;
}

export function inlayHints(a: Analysis, from = 0, to = Number.MAX_SAFE_INTEGER): InlayHintEntry[] {
  const pf = a.file;
  const out: InlayHintEntry[] = [];
  for (const { path, label, tooltip } of derivedEntries(a, (p) => findPath(pf, p) !== undefined)) {
    const here = findPath(pf, path);
    let offset: number | undefined;
    let text = label;
    if (here && here.valueRange !== here.keyRange) offset = here.valueRange[1];
    else {
      const section = findPath(pf, path.slice(0, 1));
      if (!section) continue;
      offset = lineEnd(pf.text, section.keyRange[0]);
      text = `${path.slice(1).join('.')}: ${label}`;
    }
    if (offset >= from && offset <= to) out.push({ offset, label: text, tooltip });
  }
  return out.sort((x, y) => x.offset - y.offset);
}

export interface DerivedEntry {
  path: string[];
  label: string;
  tooltip: string;
}

/**
 * The derived figures, each at the key it follows from: the inlay hints place them in the text,
 * the experiment form at its fields. `present` says whether a key is written (in the file for the
 * hints): a figure that only makes sense beside a written key is left out otherwise.
 */
export function derivedEntries(a: Analysis, present: (path: string[]) => boolean): DerivedEntry[] {
  const d = a.derived;
  const r = a.resolved;
  if (!d || !r) return [];
  const out: DerivedEntry[] = [];
  const at = (path: string[], label: string, tooltip: string): void => {
    out.push({ path, label, tooltip });
  };
  // Name each factor (per device × GPUs or processes × nodes); the tooltip carries the arithmetic.
  const procs = processFactors(d);
  const split = (path: string[], b: BatchSplit | undefined, what: [string, string], why: string): void => {
    if (b?.perDeviceSteps === undefined) return;
    const steps = `${b.perDeviceSteps} ${what[b.perDeviceSteps === 1 ? 0 : 1]}`;
    const arithmetic = `${path.join('.')} ${b.global} = ${b.micro} per device × ${plural(d.world, 'process', 'processes')} (${d.perNodeSource} × launch.nodes) × ${steps}`;
    at(path, `${b.micro} per device × ${procs} → ${steps}`, `${why}: ${arithmetic}`);
  };
  const accumulation: [string, string] = ['accumulation step', 'accumulation steps'];
  split(
    ['ppo', 'rollout_batch_size'],
    d.rollout,
    ['generation pass', 'generation passes'],
    'Generation passes per device per PPO iteration',
  );
  split(['ppo', 'step_batch_size'], d.step, accumulation, 'Gradient-accumulation steps per optimiser step');
  if (d.optimiserStepsPerIteration !== undefined)
    at(['ppo', 'ppo_epochs'], `→ ${d.optimiserStepsPerIteration} optimiser steps/iteration`, '(rollout batch / step batch) × ppo_epochs');
  if (d.totalIterations !== undefined) {
    const per = d.iterationsPerEpoch !== undefined ? `${formatCount(d.iterationsPerEpoch)}/epoch, ` : '';
    at(
      r.isSet(['ppo', 'max_iterations']) && d.iterationsPerEpoch === undefined ? ['ppo', 'max_iterations'] : ['ppo', 'total_epochs'],
      `→ ${per}${formatCount(d.totalIterations)} iterations`,
      'PPO iterations over the prompt set',
    );
  }
  split(['sft', 'batch_size'], d.sft, accumulation, 'Gradient-accumulation steps per SFT optimiser step');
  split(['rl_init', 'batch_size'], d.rlInit, accumulation, 'Gradient-accumulation steps per RL-init optimiser step');
  split(['reward_model', 'batch_size'], d.rm, accumulation, 'Gradient-accumulation steps per reward-model optimiser step');
  const worldAt = (['processes', 'gpus', 'nodes'] as const).find((k) => present(['launch', k]));
  if (worldAt) at(['launch', worldAt], `world size ${d.world}`, `Training processes: ${d.perNodeSource} × launch.nodes`);
  const q = r.num(['ppo', 'query_len']);
  const resp = r.num(['ppo', 'response_len']);
  const max = r.num(['model', 'max_length']);
  if (q !== undefined && resp !== undefined && max !== undefined && present(['ppo', 'response_len'])) {
    at(
      ['ppo', 'response_len'],
      `${q + resp}/${max} tokens${d.tokensPerRollout !== undefined ? `, ≤ ${formatCount(d.tokensPerRollout)}/rollout` : ''}`,
      'query_len + response_len of model.max_length; tokens per rollout batch',
    );
  }
  return out;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "8 GPUs × 1 node", "4 processes × 2 nodes"; one process alone is "1 process" (CPU, backend local). */
export function processFactors(d: Derived): string {
  const perNode = d.perNodeSource === 'launch.gpus' ? plural(d.perNode, 'GPU', 'GPUs') : plural(d.perNode, 'process', 'processes');
  return d.world === 1 ? perNode : `${perNode} × ${plural(d.nodes, 'node', 'nodes')}`;
}
