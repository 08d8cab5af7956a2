// Hover: the key's meaning, type, default and LLaVA-RLHF reference value (all from the schema),
// where its value comes from, and the figures derived from it.
import * as nodePath from 'node:path';
import type { Analysis } from './analyze';
import { keyDocumentation, schemaAt } from './schema';
import { locate } from './yamlFile';
import { configPath, countRecords, statOf } from './dataFiles';
import { formatCount } from './derived';
import { estimatePpoMemory, memoryMarkdown } from './memory';
import { displayPath, isBuiltinRef, isPathKey, pathKeyAt } from './paths';
import type { PathSegment } from './types';
import { pathToString } from './types';

export interface HoverResult {
  markdown: string;
  start: number;
  end: number;
}

const MEMORY_KEYS = new Set([
  'model.policy',
  'model.dtype',
  'model.quantization',
  'model.gradient_checkpointing',
  'model.lora.r',
  'model.lora.target_modules',
  'ppo.rollout_per_device_batch_size',
  'ppo.step_per_device_batch_size',
  'ppo.query_len',
  'ppo.response_len',
  'launch.gpus',
]);

function batchLines(a: Analysis, key: string): string[] {
  const d = a.derived;
  if (!d) return [];
  const out: string[] = [];
  const procs = `${d.perNode} × ${d.nodes} = ${d.world} process${d.world === 1 ? '' : 'es'}`;
  const splitLine = (label: string, s: typeof d.rollout, what: string): void => {
    if (!s) return;
    if (s.perDeviceSteps !== undefined)
      out.push(`${label}: ${s.global} = ${s.micro} per device × ${procs} × **${s.perDeviceSteps} ${what}**`);
    else out.push(`${label}: ${s.global} does not split into ${s.perDevice} per device × ${procs}`);
  };
  const launch = key === 'launch.gpus' || key === 'launch.nodes' || key === 'launch.processes' || key === 'launch.device';
  if (key.startsWith('ppo.rollout') || launch) splitLine('Rollout batch', d.rollout, 'generation passes per device');
  if (key.startsWith('ppo.step') || launch) splitLine('Step batch', d.step, 'gradient-accumulation steps');
  if (key.startsWith('sft.') && key.includes('batch')) splitLine('SFT batch', d.sft, 'gradient-accumulation steps');
  if (key.startsWith('rl_init.') && key.includes('batch')) splitLine('RL-init batch', d.rlInit, 'gradient-accumulation steps');
  if (key.startsWith('reward_model.') && key.includes('batch')) splitLine('RM batch', d.rm, 'gradient-accumulation steps');
  if (
    (key.startsWith('ppo.rollout_batch') || key.startsWith('ppo.step_batch') || key === 'ppo.ppo_epochs') &&
    d.optimiserStepsPerIteration !== undefined &&
    d.rollout &&
    d.step
  ) {
    out.push(
      `Optimiser steps per PPO iteration: (${d.rollout.global} / ${d.step.global}) × ${a.resolved?.get(['ppo', 'ppo_epochs'])} = **${d.optimiserStepsPerIteration}**`,
    );
  }
  if (key === 'ppo.total_epochs' || key === 'ppo.max_iterations' || key === 'ppo.rollout_batch_size' || key === 'data.ppo_prompts') {
    if (d.promptCount !== undefined && d.iterationsPerEpoch !== undefined)
      out.push(
        `Iterations: ${formatCount(d.promptCount)} prompts / ${d.rollout?.global} = ${formatCount(d.iterationsPerEpoch)} per epoch${d.totalIterations !== undefined ? `, **${formatCount(d.totalIterations)} in total**` : ''}`,
      );
    else if (d.totalIterations !== undefined) out.push(`Iterations: **${formatCount(d.totalIterations)}** (ppo.max_iterations)`);
    else out.push('Iterations per epoch: unknown until `data.ppo_prompts` names a readable file');
  }
  if (key === 'ppo.query_len' || key === 'ppo.response_len' || key === 'model.max_length') {
    const r = a.resolved;
    const q = r?.num(['ppo', 'query_len']);
    const resp = r?.num(['ppo', 'response_len']);
    const max = r?.num(['model', 'max_length']);
    if (q !== undefined && resp !== undefined && max !== undefined)
      out.push(
        `Length budget: ${q} + ${resp} = ${q + resp} of ${max} tokens (${max - q - resp} left for the reward-model suffix and facts)`,
      );
    if (d.tokensPerRollout !== undefined) out.push(`Tokens per rollout batch: at most ${formatCount(d.tokensPerRollout)}`);
  }
  return out;
}

function pathLines(a: Analysis, path: PathSegment[]): string[] {
  const r = a.resolved;
  if (!r || !isPathKey(path)) return [];
  const key = path.map(String);
  if (key[0] === 'extends')
    return a.chain && a.chain.files.length > 1
      ? [
          `Inherits from: ${a.chain.files
            .slice(1)
            .map((f) => `\`${f.path}\``)
            .join(' → ')}`,
        ]
      : [];
  const cp = configPath(r, key, a.host);
  if (!cp || isBuiltinRef(cp.raw)) return [];
  if (!cp.expanded.absolute)
    return [`Resolves on the machine that defines $${cp.expanded.unset.join(', $')} (not set here, so not checked)`];
  const abs = cp.expanded.absolute;
  const st = statOf(a.host, abs);
  const lines = [
    `Resolves to \`${displayPath(cp.raw.trim(), nodePath.dirname(cp.origin.pf.path), cp.expanded)}\`${st === undefined ? ' — **does not exist**' : st === 'pending' ? ' (checking…)' : ''}`,
  ];
  if (
    st !== undefined &&
    st !== 'unknown' &&
    st !== 'pending' &&
    st.isFile &&
    pathKeyAt(key)?.kind === 'file' &&
    !(key[0] === 'data' && key[1] === 'facts')
  ) {
    const n = countRecords(a.host, abs);
    if (n !== undefined) lines.push(`${formatCount(n)} records`);
  }
  if (cp.origin.pf.path !== a.file.path) lines.push(`(relative to \`${nodePath.basename(cp.origin.pf.path)}\`, which sets it)`);
  return lines;
}

export function hover(a: Analysis, offset: number): HoverResult | undefined {
  const pos = locate(a.file, offset);
  if (!pos) return undefined;
  const keyPath = pos.path;
  let schemaPath = keyPath;
  while (schemaPath.length > 0 && typeof schemaPath[schemaPath.length - 1] === 'number') schemaPath = schemaPath.slice(0, -1);
  const node = schemaAt(keyPath) ?? schemaAt(schemaPath);
  const name = pathToString(schemaPath);
  if (!node) return { markdown: `\`${name}\` is not a key of the config language.`, start: pos.range[0], end: pos.range[1] };
  const parts = [`**${name}**`, keyDocumentation(node)];
  const r = a.resolved;
  if (r && schemaPath.length > 0) {
    const origin = r.where(schemaPath);
    if (origin && origin.pf.path !== a.file.path)
      parts.push(`Value \`${JSON.stringify(r.get(schemaPath))}\` set in \`${nodePath.basename(origin.pf.path)}\`.`);
  }
  const extra = [...batchLines(a, name), ...pathLines(a, schemaPath)];
  if (extra.length > 0) parts.push(extra.join('  \n'));
  if (r && MEMORY_KEYS.has(name)) {
    const est = estimatePpoMemory(r, a.host);
    if (est) parts.push(memoryMarkdown(est, a.host.gpuMemoryGiB));
  }
  return { markdown: parts.join('\n\n'), start: pos.range[0], end: pos.range[1] };
}
