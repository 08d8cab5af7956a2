// Which configs can run a stage: the launch pickers list those, not every `*.rlhf.yaml` (a shared
// `extends` base, or an RM recipe in the SFT picker, is not something to launch).
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { analyze } from './analyze';
import { createNodeHost } from './host';
import type { EngineHost } from './types';

export type LaunchStage = 'sft' | 'rl_init' | 'rm' | 'ppo' | 'eval';

/** The section a config sets when it means to run the stage, and the data that stage reads. */
const STAGE_NEEDS: Record<LaunchStage, { section: string; data: string }> = {
  sft: { section: 'sft', data: 'sft' },
  rl_init: { section: 'sft', data: 'sft' },
  rm: { section: 'reward_model', data: 'preference' },
  ppo: { section: 'ppo', data: 'ppo_prompts' },
  eval: { section: 'eval', data: 'eval' },
};

export interface StageFit {
  runnable: boolean;
  /** Why not, in words (for logs and tests). */
  reason?: string;
  /** The files this config extends, absolute, nearest first. */
  parents: string[];
}

/** Whether the config at `filePath` (resolved through `extends`) can run `stage`. */
export function stageFit(filePath: string, stage: LaunchStage, host: EngineHost = createNodeHost()): StageFit {
  const abs = nodePath.resolve(filePath);
  let text: string;
  try {
    text = fs.readFileSync(abs, 'utf8');
  } catch (e) {
    return { runnable: false, reason: `cannot read it (${e instanceof Error ? e.message : String(e)})`, parents: [] };
  }
  const a = analyze(text, abs, host);
  const parents = (a.chain?.files ?? []).slice(1).map((f) => nodePath.resolve(f.path));
  if (a.diagnostics.some((d) => d.code === 'nothing-to-run')) return { runnable: false, reason: 'it names no data and no model', parents };
  const r = a.resolved;
  if (!r) return { runnable: false, reason: 'it does not resolve to a config', parents };
  const need = STAGE_NEEDS[stage];
  if (!r.isSet([need.section])) return { runnable: false, reason: `it has no \`${need.section}:\` section`, parents };
  if (r.get(['data', 'builtin']) !== 'shapes' && !r.str(['data', need.data])) {
    return { runnable: false, reason: `it names no \`data.${need.data}\` and does not use \`data.builtin: shapes\``, parents };
  }
  return { runnable: true, parents };
}

/**
 * The configs among `paths` that can run `stage`, in the given order. A config that another
 * runnable one extends is a base: the one extending it is what gets launched, so it is left out.
 */
export function configsForStage(paths: readonly string[], stage: LaunchStage, host: EngineHost = createNodeHost()): string[] {
  const fits = paths.map((p) => ({ path: nodePath.resolve(p), fit: stageFit(p, stage, host) }));
  const runnable = fits.filter((f) => f.fit.runnable);
  const bases = new Set(runnable.flatMap((f) => f.fit.parents));
  return runnable.filter((f) => !bases.has(f.path)).map((f) => f.path);
}
