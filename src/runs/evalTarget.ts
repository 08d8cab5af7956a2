// Which model an `eval` run evaluates, decided before anything starts: `eval.checkpoint` when the
// config sets it, else the newest finished policy run with a checkpoint under the config's output
// folder (ppo, else rl_init, else sft), else `model.policy` unless that is a random `builtin:`
// model, which needs `eval.allow_random` (or --allow-random). The rule (stage order, status,
// folder key) is `x-eval-default` in schema/experiment.schema.json; the trainer reads the same
// (trainer/fact_rlhf/eval/sources.py) and applies it when started by hand.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import experimentSchema from '../../schema/experiment.schema.json';
import type { RunManifest, Stage } from '../protocol';
import { readConfigChain } from './configChain';
import { CHECKPOINTS_DIR, readManifest } from './runDirectory';
import { defaultRunDirectory } from './runNaming';

interface EvalDefaultRule {
  stages: Stage[];
  status: string;
  parent: string;
}

const RULE = (
  experimentSchema as unknown as {
    properties: { eval: { properties: { checkpoint: { 'x-eval-default': EvalDefaultRule } } } };
  }
).properties.eval.properties.checkpoint['x-eval-default'];

/** The stages whose runs can be evaluated by default, in the order they are preferred. */
export const EVAL_POLICY_STAGES: readonly Stage[] = RULE.stages;

export class EvalTargetError extends Error {}

/** A finished run with a checkpoint that `eval` can evaluate. */
export interface PolicyRun {
  runDir: string;
  stage: Stage;
  /** Unix seconds. */
  started: number;
  /** The checkpoint folder's name `checkpoints/latest` names (`step-40`). */
  checkpoint: string;
  /** The config name the run was started with (`name`, else the config file's stem). */
  configName: string;
}

export interface EvalChoice {
  /** The path to pass as the trainer's `--checkpoint`; undefined: a random model (allowed). */
  checkpoint?: string;
  allowRandom: boolean;
  /** One line for the user: what is evaluated and why that. */
  note: string;
  /** The default run picked, when it was one. */
  run?: PolicyRun;
}

interface EvalKeys {
  checkpoint?: string;
  allowRandom?: boolean;
  policy?: string;
}

/** The few keys the choice needs, following `extends` (later files win); paths relative to the file that set them. */
function readEvalKeys(configPath: string): EvalKeys {
  const keys: EvalKeys = {};
  for (const { path, doc: d } of readConfigChain(configPath)) {
    const ev = d.eval && typeof d.eval === 'object' ? (d.eval as Record<string, unknown>) : {};
    const model = d.model && typeof d.model === 'object' ? (d.model as Record<string, unknown>) : {};
    if (typeof ev.checkpoint === 'string' && ev.checkpoint.trim()) {
      keys.checkpoint = isAbsolute(ev.checkpoint) ? ev.checkpoint : resolve(dirname(path), ev.checkpoint);
    }
    if (typeof ev.allow_random === 'boolean') keys.allowRandom = ev.allow_random;
    if (typeof model.policy === 'string') keys.policy = model.policy;
  }
  return keys;
}

/** The folder new runs of this config go to (and the one searched for runs to evaluate). */
export function evalOutputFolder(configPath: string, outputDirOverride?: string): string {
  return outputDirOverride ?? dirname(defaultRunDirectory(resolve(configPath), 'eval'));
}

function latestCheckpointName(runDir: string): string | undefined {
  try {
    const name = readFileSync(join(runDir, CHECKPOINTS_DIR, 'latest'), 'utf8').trim();
    return name && statSync(join(runDir, CHECKPOINTS_DIR, name)).isDirectory() ? name : undefined;
  } catch {
    return undefined;
  }
}

function configName(m: RunManifest, runDir: string): string {
  const name = (m.config as { name?: unknown } | undefined)?.name;
  if (typeof name === 'string' && name) return name;
  return m.config_path ? basename(m.config_path).replace(/\.rlhf\.ya?ml$|\.ya?ml$/, '') : basename(runDir);
}

/** Every finished policy run with a checkpoint under `outputDir`, newest first. */
export function finishedPolicyRuns(outputDir: string): PolicyRun[] {
  let names: string[] = [];
  try {
    names = readdirSync(outputDir);
  } catch {
    return []; // no output folder yet: no runs
  }
  const runs: PolicyRun[] = [];
  for (const name of names) {
    const runDir = join(outputDir, name);
    let m: RunManifest | undefined;
    try {
      m = readManifest(runDir);
    } catch {
      continue; // an unreadable manifest is no run to evaluate
    }
    if (!m || m.status !== RULE.status || !RULE.stages.includes(m.stage)) continue;
    const checkpoint = latestCheckpointName(runDir);
    if (checkpoint) runs.push({ runDir, stage: m.stage, started: m.started, checkpoint, configName: configName(m, runDir) });
  }
  return runs.sort((a, b) => b.started - a.started || b.runDir.localeCompare(a.runDir));
}

/** The default among `runs`: the newest of the first stage in the rule's order that has one. */
export function defaultPolicyRun(runs: readonly PolicyRun[]): PolicyRun | undefined {
  for (const stage of RULE.stages) {
    const found = runs.filter((r) => r.stage === stage).sort((a, b) => b.started - a.started)[0];
    if (found) return found;
  }
  return undefined;
}

export interface EvalOptions {
  /** A checkpoint chosen outside the config (the CLI's --checkpoint, the editor's picker). */
  checkpoint?: string;
  allowRandom?: boolean;
  outputDir?: string;
}

export function chooseEvalTarget(configPath: string, opts: EvalOptions = {}): EvalChoice {
  const keys = readEvalKeys(resolve(configPath));
  const allowRandom = opts.allowRandom ?? keys.allowRandom ?? false;
  if (opts.checkpoint)
    return { checkpoint: resolve(opts.checkpoint), allowRandom, note: `evaluating ${resolve(opts.checkpoint)} (chosen for this run)` };
  if (keys.checkpoint) return { checkpoint: keys.checkpoint, allowRandom, note: `evaluating ${keys.checkpoint} (eval.checkpoint)` };
  const outputDir = evalOutputFolder(configPath, opts.outputDir);
  const run = defaultPolicyRun(finishedPolicyRuns(outputDir));
  if (run) {
    return {
      checkpoint: run.runDir,
      allowRandom,
      run,
      note: `evaluating ${run.runDir} (checkpoint ${run.checkpoint}): the newest finished ${run.stage} run under ${outputDir}; set eval.checkpoint to choose another`,
    };
  }
  const policy = keys.policy ?? 'builtin:tiny-llava';
  if (!policy.startsWith('builtin:'))
    return { allowRandom, note: `evaluating ${policy} (model.policy; no finished ${RULE.stages.join(', ')} run under ${outputDir})` };
  if (!allowRandom) {
    throw new EvalTargetError(
      `nothing trained to evaluate: eval.checkpoint is unset, no finished policy run (${RULE.stages.join(', ')}) with a checkpoint is under ${outputDir}, ` +
        `and model.policy is ${policy}, a randomly initialised model. Train one first, set eval.checkpoint to a run folder or checkpoint, ` +
        'or set eval.allow_random: true (fact-rlhf eval --allow-random) to score a random model as a smoke test',
    );
  }
  return { allowRandom, note: `evaluating ${policy} at random initialisation (eval.allow_random): a smoke test, not a result` };
}
