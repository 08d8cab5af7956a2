// Rules across keys, checked on the merged config with schema defaults: batch divisibility, the
// length budget, whether anything can run at all, reward-term signs, stage prerequisites (facts,
// reward model), keys that have no effect, and whether the PPO stage fits the GPU. Each diagnostic
// sits on the key most likely to be wrong, preferring keys written in the validated file over
// inherited ones.
import { isPlainObject } from './chain';
import type { ResolvedConfig } from './chain';
import type { Derived, BatchSplit } from './derived';
import { estimatePpoMemory, gib } from './memory';
import { setValueFix } from './edits';
import { allKeyPaths } from './schema';
import { findPath, lineEnd, makeDiagnostic, relatedAt } from './yamlFile';
import type { Located, ParsedFile } from './yamlFile';
import type { EngineDiagnostic, EngineHost, Fix, RelatedLocation, Severity } from './types';

type P = readonly string[];

/** Whitening estimates a mean and a standard deviation over the batch: too few sequences and it
 * mostly cancels the signal it should scale. */
export const WHITEN_MIN_SEQUENCES = 4;

class RuleContext {
  readonly out: EngineDiagnostic[] = [];
  constructor(
    readonly r: ResolvedConfig,
    readonly d: Derived,
    readonly host: EngineHost,
  ) {}

  /** `ppo.x = 32` or `ppo.x = 32 (default)`. */
  show(path: P): string {
    const v = this.r.get(path);
    return `${path.join('.')} = ${JSON.stringify(v)}${this.r.isSet(path) ? '' : ' (default)'}`;
  }

  related(paths: readonly P[]): RelatedLocation[] {
    const out: RelatedLocation[] = [];
    for (const p of paths) {
      const o = this.r.where(p);
      if (o) out.push(relatedAt(o.pf, [o.loc.keyRange[0], o.loc.valueRange[1]], this.show(p)));
    }
    return out;
  }

  anchor(candidates: readonly P[]): { pf: ParsedFile; range: [number, number] } {
    const files = this.r.chain.files.filter((f) => !f.hasErrors);
    for (const pf of files) {
      for (const c of candidates) {
        const loc = findPath(pf, c);
        if (loc) return { pf, range: [loc.keyRange[0], loc.valueRange[1]] };
      }
    }
    for (const pf of files) {
      for (const c of candidates) {
        const loc = findPath(pf, c.slice(0, 1));
        if (loc) return { pf, range: loc.keyRange };
      }
    }
    const root = this.r.root;
    return { pf: root, range: [0, lineEnd(root.text, 0)] };
  }

  report(
    severity: Severity,
    code: string,
    candidates: readonly P[],
    message: string,
    fixes: Array<Fix | undefined> = [],
    involved: readonly P[] = candidates,
  ): void {
    const a = this.anchor(candidates);
    const rel = this.related(involved).filter((x) => !(x.file === a.pf.path && x.start === a.range[0]));
    this.out.push(
      makeDiagnostic(
        a.pf,
        a.range[0],
        a.range[1],
        severity,
        code,
        message,
        fixes.filter((f): f is Fix => f !== undefined),
        rel,
      ),
    );
  }

  set(path: P, value: unknown, title?: string, preferred = false): Fix | undefined {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    return setValueFix(this.r.root, path, text, title ?? `Set \`${path.join('.')}\` to ${text}`, preferred);
  }

  remove(path: P): Fix | undefined {
    const o = this.r.where(path);
    return o ? removeKeyFix(o.pf, o.loc, path) : undefined;
  }
}

/** Deletes a `key: value` that sits on lines of its own. */
function removeKeyFix(pf: ParsedFile, loc: Located, path: P): Fix | undefined {
  const text = pf.text;
  const lineStart = text.lastIndexOf('\n', loc.keyRange[0] - 1) + 1;
  if (text.slice(lineStart, loc.keyRange[0]).trim() !== '') return undefined;
  const end = lineEnd(text, Math.max(loc.valueRange[1] - 1, loc.keyRange[0]));
  const cut = text[end] === '\r' ? end + 2 : text[end] === '\n' ? end + 1 : end;
  const a = pf.lineCounter.linePos(lineStart);
  const b = pf.lineCounter.linePos(cut);
  return {
    title: `Remove \`${path.join('.')}\``,
    file: pf.path,
    edits: [{ start: lineStart, end: cut, line: a.line, column: a.col, endLine: b.line, endColumn: b.col, newText: '' }],
  };
}

function largestDivisorAtMost(n: number, cap: number): number {
  for (let d = Math.min(n, cap); d >= 1; d--) if (n % d === 0) return d;
  return 1;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

function divisibility(ctx: RuleContext, split: BatchSplit | undefined, globalKey: P, perDeviceKey: P): void {
  if (!split || split.perDeviceSteps !== undefined) return;
  const { global, perDevice } = split;
  const d = ctx.d;
  const procs = `${d.perNodeSource} × launch.nodes = ${d.perNode} × ${d.nodes}`;
  const byProcesses = global % d.world !== 0;
  const message = byProcesses
    ? `\`${globalKey.join('.')}\` (${global}) must be divisible by the number of processes, ${procs} = ${d.world}`
    : `\`${globalKey.join('.')}\` (${global}) must be divisible by ${perDeviceKey.join('.')} × ${d.perNodeSource} × launch.nodes = ${perDevice} × ${d.perNode} × ${d.nodes} = ${split.unit}`;
  // Suggested sizes split into whole micro-batches of the configured size on every process.
  const unit = split.unit <= global ? split.unit : d.world;
  const lower = Math.floor(global / unit) * unit;
  const upper = lower + unit;
  const nearest = lower >= unit && global - lower <= upper - global ? lower : upper;
  // The global batch is the experiment's science, the per-device size only its memory: when the
  // processes' shares are whole, the preferred fix shrinks the per-device size to a divisor of the
  // share (more accumulation steps, same global batch); new global sizes stay on offer.
  const fits = byProcesses ? undefined : largestDivisorAtMost(global / d.world, perDevice);
  const keep =
    fits === undefined
      ? undefined
      : ctx.set(perDeviceKey, fits, `Set \`${perDeviceKey.join('.')}\` to ${fits} (keeps \`${globalKey.join('.')}\` at ${global})`, true);
  const fixes: Array<Fix | undefined> = [keep, ctx.set(globalKey, nearest, undefined, keep === undefined)];
  const other = nearest === lower ? upper : lower;
  if (other >= unit) fixes.push(ctx.set(globalKey, other));
  ctx.report(
    'error',
    'batch-divisibility',
    [globalKey, perDeviceKey, ['launch', 'processes'], ['launch', 'gpus'], ['launch', 'nodes']],
    message,
    fixes,
  );
}

function stepDividesRollout(ctx: RuleContext): void {
  const { rollout, step } = ctx.d;
  if (!rollout || !step || rollout.global % step.global === 0) return;
  const message =
    `\`ppo.step_batch_size\` (${step.global}) must divide \`ppo.rollout_batch_size\` (${rollout.global}): ` +
    'each PPO epoch splits the rollout batch into whole minibatches';
  const fixes: Array<Fix | undefined> = [];
  const stepUnit = step.micro * ctx.d.world;
  for (let s = Math.min(step.global, rollout.global); s >= stepUnit; s--) {
    if (rollout.global % s === 0 && s % stepUnit === 0) {
      fixes.push(ctx.set(['ppo', 'step_batch_size'], s, undefined, true));
      break;
    }
  }
  const rolloutUnit = rollout.micro * ctx.d.world;
  const l = (step.global / gcd(step.global, rolloutUnit)) * rolloutUnit;
  const up = Math.ceil(rollout.global / l) * l;
  if (up <= 4 * rollout.global) fixes.push(ctx.set(['ppo', 'rollout_batch_size'], up));
  ctx.report(
    'error',
    'batch-divisibility',
    [
      ['ppo', 'step_batch_size'],
      ['ppo', 'rollout_batch_size'],
    ],
    message,
    fixes,
  );
}

function lengthBudget(ctx: RuleContext): void {
  const r = ctx.r;
  const q = r.num(['ppo', 'query_len']);
  const resp = r.num(['ppo', 'response_len']);
  const max = r.num(['model', 'max_length']);
  // PPO's lengths: an SFT- or RM-only config leaves them at their defaults, which need not fit its max_length.
  if (!r.isSet(['ppo']) || q === undefined || resp === undefined || max === undefined || q + resp <= max) return;
  const message = `\`ppo.query_len\` + \`ppo.response_len\` = ${q} + ${resp} = ${q + resp} exceeds \`model.max_length\` (${max})`;
  ctx.report(
    'error',
    'length-budget',
    [
      ['ppo', 'response_len'],
      ['ppo', 'query_len'],
      ['model', 'max_length'],
    ],
    message,
    [max - q >= 1 ? ctx.set(['ppo', 'response_len'], max - q, undefined, true) : undefined, ctx.set(['model', 'max_length'], q + resp)],
  );
}

function builtinWorld(ctx: RuleContext): boolean {
  return ctx.r.get(['data', 'builtin']) === 'shapes';
}

function stagePrerequisites(ctx: RuleContext): void {
  const r = ctx.r;
  // Stage needs apply to configs that have the stage: an SFT-only config needs no reward model.
  const hasPpo = r.isSet(['ppo']);
  const hasRm = r.isSet(['reward_model']);
  const builtin = builtinWorld(ctx);
  if ((hasPpo || hasRm) && r.bool(['reward_model', 'fact_augmentation']) === true && !r.str(['data', 'facts']) && !builtin) {
    ctx.report(
      'warning',
      'missing-facts',
      [
        ['reward_model', 'fact_augmentation'],
        ['data', 'builtin'],
        ['data', 'preference'],
        ['data', 'ppo_prompts'],
      ],
      '`reward_model.fact_augmentation` is on but the config has no facts: set `data.facts` (image key → fact strings) or `data.builtin: shapes`',
      [
        ctx.set(['reward_model', 'fact_augmentation'], false, 'Turn fact augmentation off (plain RLHF baseline)'),
        ctx.set(['data', 'builtin'], 'shapes', 'Use the built-in synthetic world'),
      ],
    );
  }
  if (hasPpo && !r.str(['model', 'reward_model']) && !builtin && !r.str(['data', 'preference'])) {
    ctx.report(
      'warning',
      'missing-reward-model',
      [
        ['ppo', 'init_value_from_reward_model'],
        ['model', 'reward_model'],
        ['data', 'preference'],
        ['ppo', 'reward_warmup_steps'],
      ],
      'PPO has no reward model (and `ppo.init_value_from_reward_model` none to start the value model from): set `model.reward_model`, `data.preference` (a reward model is trained first, for `ppo.reward_warmup_steps` steps) or `data.builtin: shapes`',
      [ctx.set(['data', 'builtin'], 'shapes', 'Use the built-in synthetic world')],
    );
  }
  if (hasPpo && !builtin && !r.str(['data', 'ppo_prompts'])) {
    ctx.report(
      'warning',
      'missing-data',
      [
        ['data', 'ppo_prompts'],
        ['data', 'builtin'],
      ],
      'PPO has no prompts: set `data.ppo_prompts` (LLaVA JSON with `caption_type`) or `data.builtin: shapes`',
      [ctx.set(['data', 'builtin'], 'shapes', 'Use the built-in synthetic world')],
    );
  }
  const whiten = r.bool(['ppo', 'whiten']);
  const rollout = r.num(['ppo', 'rollout_batch_size']);
  if (whiten === true && rollout !== undefined && rollout >= 1 && rollout < WHITEN_MIN_SEQUENCES) {
    ctx.report(
      'warning',
      'whiten-small-batch',
      [
        ['ppo', 'rollout_batch_size'],
        ['ppo', 'whiten'],
      ],
      `\`ppo.whiten\` normalises advantages over the rollout batch, but \`ppo.rollout_batch_size\` is ${rollout}: fewer than ${WHITEN_MIN_SEQUENCES} sequences give no usable mean and spread`,
      [
        ctx.set(['ppo', 'whiten'], false, 'Turn advantage whitening off'),
        ctx.set(['ppo', 'rollout_batch_size'], WHITEN_MIN_SEQUENCES * ctx.d.world),
      ],
    );
  }
  const benchmarks = r.get(['eval', 'benchmarks']);
  if (Array.isArray(benchmarks) && benchmarks.includes('mmhal') && !r.str(['data', 'eval'])) {
    ctx.report(
      'warning',
      'missing-data',
      [['eval', 'benchmarks']],
      '`eval.benchmarks` includes `mmhal` but `data.eval` names no MMHal-Bench file',
    );
  }
}

/** The keys that name something a stage reads (`x-path` in the schema: data files, models,
 * checkpoints). A random `builtin:` policy is not one: it is the default. */
const SOURCE_KEYS: readonly P[] = allKeyPaths()
  .filter((k) => k.node['x-path'] !== undefined)
  .map((k) => k.path);

/**
 * A config that names no data and no model runs nothing useful: every stage but `eval` refuses it
 * (no data), and `eval` would score a randomly initialised model. The schema's defaults fill
 * everything else, so this is the one thing a config must say.
 */
function nothingToRun(ctx: RuleContext): void {
  const r = ctx.r;
  // A chain that stopped early (a parent missing, unresolved, cyclic, or an unsaved document's) may
  // have the sources in the part not read: the extends diagnostic, if any, says why.
  const last = r.chain.files[r.chain.files.length - 1].value;
  if (isPlainObject(last) && typeof last.extends === 'string') return;
  if (r.chain.files.some((f) => f.hasErrors) || r.chain.diagnostics.some((d) => d.code.startsWith('extends-'))) return;
  if (r.get(['data', 'builtin']) === 'shapes') return;
  const named = SOURCE_KEYS.some((path) => {
    const v = r.raw(path);
    return typeof v === 'string' && v.trim() !== '' && !(path.join('.') === 'model.policy' && v.startsWith('builtin:'));
  });
  if (named) return;
  ctx.report(
    'error',
    'nothing-to-run',
    [['data'], ['model'], ['eval'], ['version']],
    'Nothing to run: the config names no data and no model. Set `data.builtin: shapes` (the built-in synthetic world, every stage on CPU), ' +
      'or the data a stage reads (`data.sft` for sft and rl_init, `data.preference` for rm, `data.ppo_prompts` for ppo, `data.eval` for eval), ' +
      'or a model to evaluate (`model.policy`, `eval.checkpoint`)',
    [ctx.set(['data', 'builtin'], 'shapes', 'Use the built-in synthetic world (`data.builtin: shapes`)', true)],
    [],
  );
}

function rewardSigns(ctx: RuleContext): void {
  const bonus = ctx.r.num(['ppo', 'correct_choice_bonus']);
  if (bonus !== undefined && bonus < 0) {
    ctx.report(
      'warning',
      'reward-sign',
      [['ppo', 'correct_choice_bonus']],
      `\`ppo.correct_choice_bonus\` is negative (${bonus}): correct multiple-choice answers would be penalised`,
      [ctx.set(['ppo', 'correct_choice_bonus'], -bonus, undefined, true)],
    );
  }
}

function inert(ctx: RuleContext, path: P, why: string): void {
  if (!ctx.r.isSet(path) || !ctx.r.where(path)) return;
  ctx.report('warning', 'inert-key', [path], `\`${path.join('.')}\` has no effect: ${why}`, [ctx.remove(path)], []);
}

function inertKeys(ctx: RuleContext): void {
  const r = ctx.r;
  if (r.get(['ppo', 'kl_controller']) === 'fixed') inert(ctx, ['ppo', 'target_kl'], '`ppo.kl_controller` is `fixed`');
  const policy = r.str(['model', 'policy']);
  if (policy !== undefined && !policy.startsWith('builtin:'))
    inert(ctx, ['model', 'tiny'], '`model.policy` is a checkpoint, not `builtin:tiny-llava`');
  if (r.str(['model', 'reward_model']))
    inert(ctx, ['ppo', 'reward_warmup_steps'], '`model.reward_model` is set, so no reward model is warmed up');
  if (!builtinWorld(ctx)) inert(ctx, ['data', 'num_images'], '`data.builtin` is not `shapes`');
  else
    for (const k of ['image_folder', 'facts', 'preference', 'ppo_prompts'])
      inert(ctx, ['data', k], '`data.builtin: shapes` generates its own data instead');
  const device = r.get(['launch', 'device']);
  const quant = r.get(['model', 'quantization']);
  if (device === 'cpu' && (quant === '4bit' || quant === '8bit')) {
    ctx.report(
      'warning',
      'device-mismatch',
      [
        ['model', 'quantization'],
        ['launch', 'device'],
      ],
      `\`model.quantization: ${String(quant)}\` needs a CUDA GPU (bitsandbytes), but \`launch.device\` is \`cpu\``,
      [ctx.set(['model', 'quantization'], 'none')],
    );
  }
  // As the trainer's preflight: FSDP shards over torchrun's processes, and not a 4/8-bit base.
  if (r.get(['launch', 'strategy']) === 'fsdp') {
    if (r.get(['launch', 'backend']) !== 'torchrun')
      inert(
        ctx,
        ['launch', 'strategy'],
        'fsdp shards the model over several processes (`launch.backend: torchrun`); one process keeps the whole model',
      );
    if (quant === '4bit' || quant === '8bit') {
      ctx.report(
        'error',
        'incompatible',
        [
          ['launch', 'strategy'],
          ['model', 'quantization'],
        ],
        `\`model.quantization: ${String(quant)}\` bases cannot be sharded by \`launch.strategy: fsdp\`: use ddp`,
        [ctx.set(['launch', 'strategy'], 'ddp')],
      );
    }
  }
  // As the trainer's preflight: backend local starts one process, so extra GPUs and processes sit idle.
  if ((r.get(['launch', 'backend']) ?? 'local') === 'local') {
    const gpus = r.num(['launch', 'gpus']);
    if (gpus !== undefined && gpus > 1 && r.isSet(['launch', 'gpus']) && device !== 'cpu') {
      ctx.report(
        'warning',
        'single-process-backend',
        [['launch', 'gpus']],
        `\`launch.backend: local\` uses one device of the ${gpus}: set \`launch.backend: torchrun\` to train on all of them`,
        [ctx.set(['launch', 'backend'], 'torchrun')],
      );
    }
    inert(ctx, ['launch', 'processes'], '`launch.processes` applies to `launch.backend: torchrun`');
  }
  if (device === 'cpu' && r.get(['model', 'dtype']) === 'fp16') {
    ctx.report(
      'warning',
      'device-mismatch',
      [
        ['model', 'dtype'],
        ['launch', 'device'],
      ],
      '`model.dtype: fp16` needs a GPU, but `launch.device` is `cpu`: use fp32 or bf16',
      [ctx.set(['model', 'dtype'], 'bf16')],
    );
  }
}

/** What to change when PPO does not fit the GPU (the diagnostic's and the experiment form's words). */
export function memoryAdvice(r: ResolvedConfig): string {
  return r.bool(['model', 'gradient_checkpointing'])
    ? 'lower the per-device batch sizes'
    : 'lower the per-device batch sizes or set `model.gradient_checkpointing: true`';
}

function memoryFit(ctx: RuleContext): void {
  const gpu = ctx.host.gpuMemoryGiB;
  if (gpu === undefined || gpu <= 0 || ctx.r.get(['launch', 'device']) === 'cpu') return;
  const est = estimatePpoMemory(ctx.r, ctx.host);
  if (!est || est.totalBytes <= gpu * 1024 ** 3) return;
  const advice = memoryAdvice(ctx.r);
  ctx.report(
    'warning',
    'gpu-memory',
    [
      ['ppo', 'step_per_device_batch_size'],
      ['ppo', 'rollout_per_device_batch_size'],
      ['model', 'quantization'],
      ['model', 'policy'],
    ],
    `PPO needs about ${gib(est.totalBytes)} per GPU, more than the ${gpu.toFixed(0)} GiB GPU: ${advice} (hover for the arithmetic)`,
  );
}

export function crossDiagnostics(r: ResolvedConfig, d: Derived, host: EngineHost): EngineDiagnostic[] {
  const ctx = new RuleContext(r, d, host);
  // The batch pairs are the schema's (`x-batch-pair`); PPO's first, then schema order, so that
  // diagnostics anchored on one key (launch.gpus) keep the order they always had.
  const ppoFirst = [...d.batches].sort((a, b) => Number(b.pair.stage === 'ppo') - Number(a.pair.stage === 'ppo'));
  for (const { pair, split } of ppoFirst) divisibility(ctx, split, pair.global, pair.perDevice);
  stepDividesRollout(ctx);
  lengthBudget(ctx);
  nothingToRun(ctx);
  stagePrerequisites(ctx);
  rewardSigns(ctx);
  inertKeys(ctx);
  memoryFit(ctx);
  return ctx.out;
}
