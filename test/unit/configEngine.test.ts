// The config engine (language-server/src/engine) on its own: every diagnostic rule with its
// 1-based range, extends chains, file checks, derived values, the memory estimate, hover,
// completion, inlay hints and code actions (applied, then re-validated).
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  analyze,
  codeActions,
  complete,
  createNodeHost,
  estimatePpoMemory,
  hover,
  inlayHints,
  validateFile,
  validateText,
} from '../../language-server/src/engine/index';
import type { Analysis, EngineDiagnostic, EngineHost, Fix } from '../../language-server/src/engine/index';
import { RecordCounter, countArrayItems, firstArrayItems, firstObjectEntry } from '../../language-server/src/engine/jsonScan';
import { pathKeys } from '../../language-server/src/engine/paths';
import { trainerReads } from '../../language-server/src/engine/portability';
import { closest, editDistance } from '../../language-server/src/engine/suggest';
import schemaJson from '../../schema/experiment.schema.json';

const ROOT = path.resolve(__dirname, '..', '..');
const EXAMPLES = path.join(ROOT, 'examples');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fact-rlhf-engine-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const BUILTIN = 'data:\n  builtin: shapes\n';
const host = createNodeHost({ env: {} });
const CONFIG = path.join(tmp, 'exp.rlhf.yaml');

function run(text: string, file = CONFIG, h: EngineHost = host): Analysis {
  return analyze(text, file, h);
}

function codes(a: Analysis): string[] {
  return a.diagnostics.map((d) => d.code);
}

function one(a: Analysis, code: string): EngineDiagnostic {
  const hits = a.diagnostics.filter((d) => d.code === code);
  assert.equal(hits.length, 1, `one ${code} in ${JSON.stringify(a.diagnostics.map((d) => [d.code, d.message]))}`);
  return hits[0];
}

/** 1-based [line, column, endLine, endColumn] of the first occurrence of `needle`. */
function span(text: string, needle: string, length = needle.length): [number, number, number, number] {
  const i = text.indexOf(needle);
  assert.ok(i >= 0, needle);
  const pos = (o: number): [number, number] => {
    const before = text.slice(0, o);
    return [before.split('\n').length, o - before.lastIndexOf('\n')];
  };
  return [...pos(i), ...pos(i + length)];
}

function rangeOf(d: EngineDiagnostic): [number, number, number, number] {
  return [d.line, d.column, d.endLine, d.endColumn];
}

function apply(text: string, fix: Fix): string {
  const edits = [...fix.edits].sort((a, b) => b.start - a.start);
  let out = text;
  for (const e of edits) out = out.slice(0, e.start) + e.newText + out.slice(e.end);
  return out;
}

function fixTitled(d: EngineDiagnostic, title: RegExp): Fix {
  const f = d.fixes.find((x) => title.test(x.title));
  assert.ok(f, `fix ${title} among ${JSON.stringify(d.fixes.map((x) => x.title))}`);
  return f;
}

test('every example validates with no diagnostics', () => {
  const files = fs.readdirSync(EXAMPLES).filter((f) => f.endsWith('.rlhf.yaml'));
  assert.ok(files.includes('llava-rlhf-7b.rlhf.yaml') && files.includes('llava-rlhf-13b.rlhf.yaml'));
  for (const f of files) assert.deepEqual(validateFile(path.join(EXAMPLES, f), { env: {} }), [], f);
});

test('the recipes carry the FACT_RLHF.md §5 reference values', () => {
  for (const size of ['7b', '13b']) {
    const a = run(
      fs.readFileSync(path.join(EXAMPLES, `llava-rlhf-${size}.rlhf.yaml`), 'utf8'),
      path.join(EXAMPLES, `llava-rlhf-${size}.rlhf.yaml`),
    );
    const r = a.resolved;
    assert.ok(r);
    const expect: Array<[string, unknown]> = [
      ['ppo.learning_rate', 3e-5],
      ['ppo.lr_schedule', 'cosine'],
      ['ppo.warmup_iterations', 5],
      ['ppo.kl_coef', 0.1],
      ['ppo.kl_controller', 'fixed'],
      ['ppo.rollout_batch_size', 512],
      ['ppo.step_batch_size', 256],
      ['ppo.ppo_epochs', 2],
      ['ppo.clip_range', 0.2],
      ['ppo.value_clip_range', 0.2],
      ['ppo.value_loss_coef', 0.1],
      ['ppo.gamma', 1],
      ['ppo.lam', 1],
      ['ppo.temperature', 1],
      ['ppo.query_len', 128],
      ['ppo.response_len', 896],
      ['model.max_length', 2048],
      ['ppo.no_eos_penalty', -8],
      ['ppo.length_penalty', -10],
      ['ppo.correct_choice_bonus', 2],
      ['ppo.total_epochs', 4],
      ['ppo.grad_clip', 1],
      ['model.lora.r', 64],
      ['model.lora.alpha', 16],
      ['model.lora.dropout', 0],
      ['model.quantization', '4bit'],
      ['model.dtype', 'bf16'],
      ['launch.gpus', 8],
      ['launch.nodes', 1],
      ['reward_model.fact_augmentation', true],
    ];
    for (const [key, value] of expect) assert.equal(r.get(key.split('.')), value, `${size} ${key}`);
    assert.equal(a.derived?.optimiserStepsPerIteration, 4, '2 PPO epochs over 512/256 → 4 optimiser steps');
  }
});

test('wrong type: names the key path, sits on the value, offers a fix for quoted numbers and yes/no', () => {
  const text = `${BUILTIN}ppo:\n  kl_coef: abc\n  clip_range: "0.3"\n  whiten: no\n`;
  const a = run(text);
  const wrong = a.diagnostics.filter((d) => d.code === 'wrong-type');
  assert.deepEqual(wrong.map(rangeOf), [span(text, 'abc'), span(text, '"0.3"'), span(text, 'no\n', 2)]);
  assert.match(wrong[0].message, /^`ppo\.kl_coef` must be number, got the string "abc"$/);
  assert.equal(wrong[0].fixes.length, 0);
  let fixed = apply(text, fixTitled(wrong[2], /Write false/));
  fixed = apply(fixed, fixTitled(wrong[1], /0\.3/));
  assert.match(fixed, /clip_range: 0\.3\n  whiten: false/);
  assert.deepEqual(codes(run(fixed)), ['wrong-type']);
});

test('unknown keys: did you mean, or where the key belongs; the fix renames it', () => {
  const text = `${BUILTIN}ppo:\n  kl_coeff: 0.1\n  klCoef: 0.1\nkl_coef: 0.2\nmodle:\n  r: 1\n`;
  const a = run(text);
  const unknown = a.diagnostics.filter((d) => d.code === 'unknown-key');
  assert.deepEqual(unknown.map(rangeOf), [
    [4, 3, 4, 11],
    [5, 3, 5, 9],
    [6, 1, 6, 8],
    [7, 1, 7, 6],
  ]);
  assert.equal(unknown[0].message, 'Unknown key `ppo.kl_coeff`; did you mean `kl_coef`?');
  assert.match(unknown[1].message, /did you mean `kl_coef`/);
  assert.match(unknown[2].message, /Unknown key `kl_coef`; it belongs in `ppo\.kl_coef`/);
  assert.match(unknown[3].message, /`modle`; did you mean `model`/);
  const renamed = apply(text, unknown[0].fixes[0]);
  assert.match(renamed, /\n  kl_coef: 0\.1\n/);
});

test('reference-code flag names (schema x-aliases) find our keys, in their section or elsewhere', () => {
  const text = `${BUILTIN}ppo:\n  noptepochs: 2\n  vf_coef: 0.1\n  init_kl_coef: 0.1\nmodel:\n  model_max_length: 2048\ncliprange: 0.2\n`;
  const unknown = run(text).diagnostics.filter((d) => d.code === 'unknown-key');
  assert.deepEqual(
    unknown.map((d) => d.line),
    [4, 5, 6, 8, 9],
  );
  assert.match(
    unknown[0].message,
    /`ppo\.noptepochs`; did you mean `ppo_epochs`\? \(`noptepochs` is the LLaVA-RLHF reference code's name for it\)/,
  );
  assert.equal(
    unknown[1].message,
    "Unknown key `ppo.vf_coef`; did you mean `value_loss_coef`? (`vf_coef` is the LLaVA-RLHF reference code's name for it)",
  );
  assert.match(unknown[2].message, /did you mean `kl_coef`/);
  assert.match(unknown[3].message, /did you mean `max_length`/);
  assert.match(unknown[4].message, /Unknown key `cliprange`; it belongs in `ppo\.clip_range`/);
  assert.equal(unknown[0].fixes[0].title, 'Change `noptepochs` to `ppo_epochs`');
  assert.match(apply(text, unknown[0].fixes[0]), /\n  ppo_epochs: 2\n/);
});

test("path keys come from the schema's x-path annotations (one source of truth)", () => {
  const annotated: string[] = [];
  const walk = (node: { properties?: Record<string, unknown> }, prefix: string[]): void => {
    for (const [k, v] of Object.entries(node.properties ?? {})) {
      const child = v as { properties?: Record<string, unknown>; 'x-path'?: string };
      if (child['x-path']) annotated.push(`${[...prefix, k].join('.')}:${child['x-path']}`);
      walk(child, [...prefix, k]);
    }
  };
  walk(schemaJson as { properties?: Record<string, unknown> }, []);
  assert.deepEqual(
    pathKeys().map((k) => `${k.path.join('.')}:${k.kind}`),
    annotated,
  );
  assert.ok(
    annotated.includes('data.ppo_prompts:file') && annotated.includes('model.policy:dir') && annotated.includes('eval.mmhal_file:file'),
  );
  // eval.mmhal_file is checked like the other data files: existence, then its first records.
  const dir = path.join(tmp, 'xpath');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'mmhal.json'), '[{"question": "q"}]');
  const file = path.join(dir, 'e.rlhf.yaml');
  assert.deepEqual(
    run('eval:\n  mmhal_file: nope.json\n', file).diagnostics.map((d) => [d.code, d.line]),
    [['path-not-found', 2]],
  );
  const rec = run('eval:\n  mmhal_file: mmhal.json\n', file).diagnostics;
  assert.deepEqual(
    rec.map((d) => d.code),
    ['data-record'],
  );
  assert.match(rec[0].message, /record 0 lacks `gt_answer`, needed for evaluation/);
});

test('out of range: probabilities, positive sizes, penalties (with a sign fix)', () => {
  const text = `${BUILTIN}ppo:\n  clip_range: 1.5\n  rollout_batch_size: 0\n  length_penalty: 10\n  learning_rate: 0\nmodel:\n  lora:\n    dropout: 1.2\n`;
  const a = run(text);
  const out = a.diagnostics.filter((d) => d.code === 'out-of-range');
  assert.deepEqual(out.map(rangeOf), [span(text, '1.5'), [5, 23, 5, 24], [6, 19, 6, 21], [7, 18, 7, 19], span(text, '1.2')]);
  assert.match(out[0].message, /`ppo\.clip_range` must be ≤ 1, got 1\.5/);
  assert.match(out[1].message, /`ppo\.rollout_batch_size` must be ≥ 1, got 0/);
  assert.match(out[2].message, /`ppo\.length_penalty` must be ≤ 0 \(it is a penalty\), got 10/);
  assert.match(out[3].message, /`ppo\.learning_rate` must be > 0 \(it must be positive\)/);
  assert.match(out[4].message, /`model\.lora\.dropout` must be ≤ 1 \(a probability or share\)/);
  assert.match(apply(text, fixTitled(out[2], /-10/)), /length_penalty: -10\n/);
});

test('enum values: did you mean, with a fix', () => {
  const text = `${BUILTIN}ppo:\n  kl_estimator: k2\n  lr_schedule: Cosine\nlaunch:\n  backend: slurmm\neval:\n  benchmarks: [shapes, mmhall]\n`;
  const a = run(text);
  const e = a.diagnostics.filter((d) => d.code === 'enum');
  assert.deepEqual(e.map(rangeOf), [span(text, 'k2'), span(text, 'Cosine'), span(text, 'slurmm'), span(text, 'mmhall')]);
  assert.match(
    e[1].message,
    /`ppo\.lr_schedule` must be one of `cosine`, `constant`, `linear`, got the string "Cosine"; did you mean `cosine`\?/,
  );
  assert.match(e[3].message, /`eval\.benchmarks\[1\]`/);
  assert.equal(e[2].fixes[0].title, 'Change to `slurm`');
});

test('YAML syntax errors, duplicate keys and a non-mapping document', () => {
  const dup = 'ppo:\n  kl_coef: 0.1\n  kl_coef: 0.2\n';
  const d = one(run(dup), 'yaml-syntax');
  assert.deepEqual(rangeOf(d), span(dup, 'kl_coef: 0.2', 7), 'the whole repeated key');
  assert.match(d.message, /Map keys must be unique/);
  const bad = run('ppo:\n  kl_coef: 0.1\n bad: [1,\n');
  assert.ok(bad.diagnostics.length >= 1 && bad.diagnostics.every((x) => x.code === 'yaml-syntax'));
  const list = one(run('- ppo\n- model\n'), 'wrong-type');
  assert.match(list.message, /must be a mapping.*got a list/);
  assert.deepEqual(rangeOf(list), [1, 1, 1, 6]);
});

test('batch divisibility for PPO, SFT and RM batches, with fixes that make them divide', () => {
  const text = `${BUILTIN}sft:\n  batch_size: 100\nreward_model:\n  batch_size: 30\nppo:\n  rollout_batch_size: 500\n  step_batch_size: 250\n  step_per_device_batch_size: 5\nlaunch:\n  backend: torchrun\n  gpus: 4\n`;
  const a = run(text);
  const div = a.diagnostics.filter((d) => d.code === 'batch-divisibility');
  assert.deepEqual(
    div.map((d) => d.line),
    [4, 6, 8, 9],
  );
  assert.match(
    div[0].message,
    /`sft\.batch_size` \(100\) must be divisible by sft\.per_device_batch_size × launch\.gpus × launch\.nodes = 4 × 4 × 1 = 16/,
  );
  assert.match(div[2].message, /`ppo\.rollout_batch_size` \(500\) .* = 32 × 4 × 1 = 128/);
  assert.match(
    div[3].message,
    /`ppo\.step_batch_size` \(250\) must be divisible by the number of processes, launch\.gpus × launch\.nodes = 4 × 1 = 4$/,
  );
  // 100 splits over 4 GPUs (25 each) but not into micro-batches of 4: the preferred fix keeps the global batch.
  assert.deepEqual(
    div[0].fixes.map((f) => f.title),
    ['Set `sft.per_device_batch_size` to 1 (keeps `sft.batch_size` at 100)', 'Set `sft.batch_size` to 96', 'Set `sft.batch_size` to 112'],
  );
  assert.deepEqual(
    div[0].fixes.map((f) => f.preferred),
    [true, false, false],
  );
  assert.deepEqual(div[3].fixes.map((f) => f.preferred)[0], true, 'not splitting over the processes: only a new global size fixes it');
  assert.match(div[3].fixes[0].title, /^Set `ppo\.step_batch_size` to /);
  assert.ok(
    div[2].related.some((r) => r.message === 'launch.gpus = 4'),
    'related: the GPU count',
  );
  assert.ok(div[2].related.some((r) => r.message.includes('(default)')) === false, 'defaults have no location');
  // Apply the preferred fix of each, re-validating between fixes, until nothing is left.
  let t = text;
  for (let round = 0; round < 10; round++) {
    const d = run(t).diagnostics.find((x) => x.code === 'batch-divisibility');
    if (!d) break;
    t = apply(t, d.fixes.find((f) => f.preferred) ?? d.fixes[0]);
  }
  assert.deepEqual(run(t).diagnostics, [], t);
});

test("a per-device size above a process's share is one micro-batch, as the trainer splits it", () => {
  const text = `${BUILTIN}ppo:\n  rollout_batch_size: 8\n  step_batch_size: 4\n`;
  const a = run(text);
  assert.deepEqual(a.diagnostics, []);
  assert.deepEqual(a.derived?.rollout, { global: 8, perDevice: 32, micro: 8, unit: 32, perDeviceSteps: 1 });
  assert.deepEqual(
    inlayHints(a).map((h) => h.label),
    [
      'ppo_epochs: → 4 optimiser steps/iteration', // on the `ppo:` line: the key is not written
      '8 per device × 1 process → 1 generation pass',
      '4 per device × 1 process → 1 accumulation step',
    ],
  );
  const two = run(`${text}launch:\n  backend: torchrun\n  gpus: 3\n`);
  assert.match(
    two.diagnostics.map((d) => d.message).join('\n'),
    /`ppo\.rollout_batch_size` \(8\) must be divisible by the number of processes, launch\.gpus × launch\.nodes = 3 × 1 = 3/,
  );
});

test('the world size follows the trainer: launch.processes, else a process per GPU, one on CPU', () => {
  const base = `${BUILTIN}ppo:\n  rollout_batch_size: 6\n  rollout_per_device_batch_size: 1\n  step_batch_size: 6\n  step_per_device_batch_size: 1\n`;
  const procs = run(`${base}launch:\n  device: cpu\n  backend: torchrun\n  processes: 4\n`);
  assert.equal(procs.derived?.world, 4);
  const div = procs.diagnostics.filter((d) => d.code === 'batch-divisibility');
  assert.deepEqual(
    div.map((d) => d.line),
    [4, 6],
  );
  assert.match(
    div[0].message,
    /`ppo\.rollout_batch_size` \(6\) must be divisible by the number of processes, launch\.processes × launch\.nodes = 4 × 1 = 4$/,
  );
  assert.ok(inlayHints(procs).some((h) => h.label === 'world size 4'));
  // On CPU without launch.processes the trainer starts one process per node, whatever launch.gpus says.
  const cpu = run(`${base}launch:\n  device: cpu\n  gpus: 4\n`);
  assert.equal(cpu.derived?.world, 1);
  assert.deepEqual(cpu.diagnostics, []);
  assert.equal(run(`${base}launch:\n  backend: torchrun\n  gpus: 4\n`).derived?.world, 4);
  // backend local (the default) starts one process whatever launch.gpus says, as the trainer does (it warns).
  assert.equal(run(`${base}launch:\n  gpus: 4\n`).derived?.world, 1);
  // The rl_init stage's batch splits like the others.
  const rl = one(run(`${BUILTIN}rl_init:\n  batch_size: 100\nlaunch:\n  backend: torchrun\n  gpus: 8\n`), 'batch-divisibility');
  assert.equal(rl.line, 4);
  assert.match(
    rl.message,
    /`rl_init\.batch_size` \(100\) must be divisible by the number of processes, launch\.gpus × launch\.nodes = 8 × 1 = 8/,
  );
});

test('the step batch must divide the rollout batch', () => {
  const text = `${BUILTIN}ppo:\n  rollout_batch_size: 512\n  step_batch_size: 192\n  step_per_device_batch_size: 8\n`;
  const d = one(run(text), 'batch-divisibility');
  assert.deepEqual(rangeOf(d), span(text, 'step_batch_size: 192'));
  assert.equal(d.fixes[0].title, 'Set `ppo.step_batch_size` to 128');
  assert.deepEqual(run(apply(text, d.fixes[0])).diagnostics, []);
});

test('query_len + response_len must fit model.max_length', () => {
  const text = `${BUILTIN}model:\n  max_length: 1024\nppo:\n  query_len: 256\n  response_len: 896\n`;
  const d = one(run(text), 'length-budget');
  assert.deepEqual(rangeOf(d), span(text, 'response_len: 896'));
  assert.match(d.message, /256 \+ 896 = 1152 exceeds `model\.max_length` \(1024\)/);
  assert.deepEqual(
    d.fixes.map((f) => f.title),
    ['Set `ppo.response_len` to 768', 'Set `model.max_length` to 1152'],
  );
  assert.deepEqual(run(apply(text, d.fixes[1])).diagnostics, []);
});

test('stage prerequisites: facts, a reward model and prompts for PPO', () => {
  // Issue 15 item 8: with no data and no model at all the config has nothing to run (an error) besides what PPO lacks.
  const none = run('ppo:\n  kl_coef: 0.1\n');
  assert.deepEqual(codes(none), ['nothing-to-run', 'missing-facts', 'missing-reward-model', 'missing-data']);
  const facts = one(none, 'missing-facts');
  assert.deepEqual(rangeOf(facts), [1, 1, 1, 5], 'no related key is written: the first line');
  fs.writeFileSync(
    path.join(tmp, 'conversations.json'),
    JSON.stringify([
      {
        id: '1',
        image: '1.png',
        conversations: [
          { from: 'human', value: '<image>\nq' },
          { from: 'gpt', value: 'a' },
        ],
      },
    ]),
  );
  assert.deepEqual(
    codes(run('data:\n  sft: conversations.json\nsft:\n  epochs: 1\n')),
    [],
    'an SFT-only config needs no reward model, facts or prompts',
  );
  const text = 'reward_model:\n  fact_augmentation: true\nppo:\n  init_value_from_reward_model: true\n';
  const a = run(text);
  assert.deepEqual(rangeOf(one(a, 'missing-facts')), span(text, 'fact_augmentation: true'));
  assert.deepEqual(rangeOf(one(a, 'missing-reward-model')), span(text, 'init_value_from_reward_model: true'));
  const off = apply(text, fixTitled(one(a, 'missing-facts'), /plain RLHF/));
  assert.deepEqual(codes(run(off)).sort(), ['missing-data', 'missing-reward-model', 'nothing-to-run']);
  assert.deepEqual(
    codes(run(`${off}data:\n  preference: p.json\n  ppo_prompts: q.json\n`)).filter((c) => c.startsWith('missing')),
    [],
    'preference pairs train a reward model first',
  );
  assert.deepEqual(codes(run(`${BUILTIN}ppo:\n  kl_coef: 0.1\n`)), [], 'the built-in world has facts, prompts and warms up an RM');
});

test('whitening over too small a batch, and a negative correct-choice bonus, are warnings', () => {
  const text = `${BUILTIN}ppo:\n  rollout_batch_size: 2\n  rollout_per_device_batch_size: 2\n  step_batch_size: 2\n  step_per_device_batch_size: 2\n  correct_choice_bonus: -2.0\n`;
  const a = run(text);
  const w = one(a, 'whiten-small-batch');
  assert.equal(w.severity, 'warning');
  assert.deepEqual(rangeOf(w), span(text, 'rollout_batch_size: 2'));
  const b = one(a, 'reward-sign');
  assert.deepEqual(rangeOf(b), span(text, 'correct_choice_bonus: -2.0'));
  assert.match(apply(text, b.fixes[0]), /correct_choice_bonus: 2\n/);
  assert.deepEqual(codes(run(text.replace('ppo:\n', 'ppo:\n  whiten: false\n').replace('-2.0', '2.0'))), []);
});

test('keys without effect are warned about and can be removed', () => {
  const text = `${BUILTIN}  facts: facts.json\nmodel:\n  policy: ckpt/llava\n  tiny:\n    hidden_size: 32\nppo:\n  target_kl: 3\n`;
  const a = run(text);
  const inert = a.diagnostics.filter((d) => d.code === 'inert-key');
  assert.deepEqual(
    inert.map((d) => d.message.split(':')[0]),
    ['`data.facts` has no effect', '`model.tiny` has no effect', '`ppo.target_kl` has no effect'],
  );
  const removed = apply(text, inert[2].fixes[0]);
  assert.ok(!removed.includes('target_kl'));
  assert.ok(removed.endsWith('ppo:\n'));
  const cpu = one(run(`${BUILTIN}model:\n  quantization: 4bit\nlaunch:\n  device: cpu\n`), 'device-mismatch');
  assert.equal(cpu.line, 4);
});

test('launch.strategy fsdp: inert without torchrun, refused with a 4/8-bit base (as the trainer)', () => {
  const single = run(`${BUILTIN}launch:\n  strategy: fsdp\n`);
  const inert = one(single, 'inert-key');
  assert.match(inert.message, /^`launch\.strategy` has no effect: fsdp shards the model over several processes/);
  assert.equal(inert.line, 4); // 1-based: the `strategy:` line
  assert.deepEqual(run(`${BUILTIN}launch:\n  strategy: fsdp\n  backend: torchrun\n`).diagnostics, []);
  const text = `${BUILTIN}model:\n  quantization: 8bit\nlaunch:\n  strategy: fsdp\n  backend: torchrun\n`;
  const bad = one(run(text), 'incompatible');
  assert.equal(bad.severity, 'error');
  assert.match(bad.message, /`model\.quantization: 8bit` bases cannot be sharded by `launch\.strategy: fsdp`: use ddp/);
  assert.ok(!codes(run(apply(text, bad.fixes[0]))).includes('incompatible'));
});

test("values the trainer's PyYAML loader reads differently: YAML 1.1 octal, underscores, base 60, dates", () => {
  const text = `${BUILTIN}name: 2024-01-31\nseed: 1_000\nppo:\n  learning_rate: 3e-5\n  save_every: 010\n  samples_per_step: 0o4\n  kl_coef: 1.0e-1\n  whiten: true\n`;
  const a = run(text);
  const w = a.diagnostics.filter((d) => d.code === 'yaml-1.1');
  assert.deepEqual(w.map(rangeOf), [span(text, '2024-01-31'), span(text, '1_000'), span(text, '010'), span(text, '0o4')]);
  assert.match(w[0].message, /reads `2024-01-31` as a date, this editor as the text "2024-01-31"; write `"2024-01-31"`/);
  assert.match(w[1].message, /reads `1_000` as the number 1000, this editor as the text "1_000"; write `1000`/);
  assert.match(w[2].message, /reads `010` as the number 8, this editor as the number 10; write `10`/);
  assert.match(w[3].message, /reads `0o4` as the text "0o4", this editor as the number 4; write `4`/);
  assert.ok(!codes(a).some((c) => c !== 'yaml-1.1' && c !== 'wrong-type'), JSON.stringify(a.diagnostics));
  let fixed = text;
  for (const d of [...w].reverse()) fixed = apply(fixed, d.fixes[0]);
  assert.deepEqual(run(fixed).diagnostics, [], fixed);
  assert.equal(trainerReads('3e-5'), 3e-5, 'YAML 1.2 floats in both');
  assert.equal(trainerReads('yes'), 'yes', 'YAML 1.2 booleans in both');
  assert.equal(trainerReads('-0x1F'), -31);
  assert.equal(trainerReads('1:30'), 90);
});

test('extends: merge, override, diagnostics in the file that set the value, cycles, missing files', () => {
  const dir = path.join(tmp, 'ext');
  fs.mkdirSync(path.join(dir, 'base', 'data'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'base', 'data', 'facts.json'), '{"a": ["x"]}');
  const baseText =
    'data:\n  facts: data/facts.json\nppo:\n  rollout_batch_size: 512\n  kl_coef: -0.5\n  whiten: true\nmodel:\n  reward_model: nowhere\n';
  fs.writeFileSync(path.join(dir, 'base', 'base.rlhf.yaml'), baseText);
  const childText = 'extends: base/base.rlhf.yaml\nppo:\n  whiten: false\nlaunch:\n  backend: torchrun\n  gpus: 3\n';
  const child = path.join(dir, 'child.rlhf.yaml');
  const a = run(childText, child);
  assert.equal(a.resolved?.get(['ppo', 'whiten']), false, 'child overrides');
  assert.equal(a.resolved?.get(['ppo', 'rollout_batch_size']), 512, 'inherited');
  assert.deepEqual(a.dependencies, [path.join(dir, 'base', 'base.rlhf.yaml')]);
  const kl = one(a, 'out-of-range');
  assert.equal(kl.file, path.join(dir, 'base', 'base.rlhf.yaml'));
  assert.deepEqual(rangeOf(kl), span(baseText, '-0.5'));
  const missing = one(a, 'path-not-found');
  assert.equal(missing.file, path.join(dir, 'base', 'base.rlhf.yaml'), 'relative to the parent that wrote it');
  assert.ok(!codes(a).includes('missing-facts'), 'facts inherited and found relative to base/');
  const div = a.diagnostics.filter((d) => d.code === 'batch-divisibility' && d.message.startsWith('`ppo.rollout'));
  assert.equal(div.length, 1);
  assert.equal(div[0].file, child);
  assert.deepEqual(rangeOf(div[0]), span(childText, 'gpus: 3'));
  // A fix for an inherited value edits the child (the file being edited), overriding it there.
  const fixedChild = apply(childText, div[0].fixes[0]);
  assert.equal(run(fixedChild, child).diagnostics.filter((d) => d.message.startsWith('`ppo.rollout')).length, 0, fixedChild);

  fs.writeFileSync(path.join(dir, 'a.rlhf.yaml'), 'extends: b.rlhf.yaml\n');
  fs.writeFileSync(path.join(dir, 'b.rlhf.yaml'), 'extends: ./a.rlhf.yaml\n');
  const cyc = run('extends: b.rlhf.yaml\n', path.join(dir, 'a.rlhf.yaml'));
  assert.match(one(cyc, 'extends-cycle').message, /a\.rlhf\.yaml → b\.rlhf\.yaml → a\.rlhf\.yaml/);
  const nf = one(run('extends: nope.rlhf.yaml\n', child), 'extends-not-found');
  assert.deepEqual(rangeOf(nf), [1, 10, 1, 24]);
  fs.writeFileSync(path.join(dir, 'broken.rlhf.yaml'), 'ppo: [\n');
  const br = run('extends: broken.rlhf.yaml\n', child);
  assert.deepEqual(codes(br).sort(), ['extends-invalid', 'yaml-syntax']);
  assert.equal(br.diagnostics.find((d) => d.code === 'yaml-syntax')?.file, path.join(dir, 'broken.rlhf.yaml'));
});

test('paths: existence relative to the config, kind, environment variables, data records', () => {
  const dir = path.join(tmp, 'paths');
  fs.mkdirSync(path.join(dir, 'images'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'policy'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'gpt'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'gpt', 'config.json'), '{"model_type": "gpt2"}');
  fs.mkdirSync(path.join(dir, 'llava'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'llava', 'config.json'), '{"model_type": "llava"}');
  fs.writeFileSync(path.join(dir, 'facts.json'), '{"img": "not a list"}');
  fs.writeFileSync(path.join(dir, 'sft.jsonl'), '{"id": 1, "conversations": []}\n{"id": 2}\n');
  fs.writeFileSync(path.join(dir, 'prompts.json'), '[{"image": "a.png"}]');
  fs.writeFileSync(path.join(dir, 'eval.json'), 'not json');
  const text =
    'model:\n  policy: policy\n  reward_model: facts.json\ndata:\n  image_folder: images\n  facts: facts.json\n  sft: sft.jsonl\n  preference: ${PREFS}/prefs.json\n  ppo_prompts: prompts.json\n  eval: eval.json\nppo:\n  init_value_from_reward_model: false\n';
  const file = path.join(dir, 'p.rlhf.yaml');
  const a = run(text, file, createNodeHost({ env: {} }));
  const got = a.diagnostics.map((d) => [d.code, d.line, d.message.split(':')[0]]);
  assert.deepEqual(got, [
    ['model-folder', 2, '`model.policy`'],
    ['path-kind', 3, '`model.reward_model`'],
    ['data-record', 6, '`data.facts`'],
    ['data-record', 7, '`data.sft`'],
    ['data-record', 9, '`data.ppo_prompts`'],
    ['data-format', 10, '`data.eval`'],
  ]);
  assert.match(a.diagnostics[3].message, /record 1 lacks `conversations`/);
  assert.match(a.diagnostics[4].message, /record 0 lacks `conversations`, needed for PPO/);
  const withEnv = run(text, file, createNodeHost({ env: { PREFS: path.join(dir, 'elsewhere') } }));
  const pref = one(withEnv, 'path-not-found');
  assert.equal(pref.line, 8);
  // The variable is named, not expanded: its value may be a secret (issue 16).
  assert.match(pref.message, /resolved to \$\{PREFS\}\/prefs\.json/);
  assert.doesNotMatch(pref.message, /elsewhere/);
  const kinds = run('model:\n  policy: gpt\n  reward_model: llava\n', file).diagnostics;
  assert.deepEqual(
    kinds.map((d) => d.message),
    [
      '`model.policy`: "gpt" holds a "gpt2" model; a LLaVA-family checkpoint is expected',
      '`model.reward_model`: "llava" is neither a run directory (run.json) nor a reward-model checkpoint (`reward/` and `heads.safetensors`)',
    ],
  );
  // As the trainer resolves them: run directories, and checkpoints with their adapter folders.
  fs.mkdirSync(path.join(dir, 'sft-run'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'sft-run', 'run.json'), '{}');
  fs.mkdirSync(path.join(dir, 'rm-ckpt', 'reward'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'rm-ckpt', 'heads.safetensors'), '');
  assert.deepEqual(run('model:\n  policy: sft-run\n  reward_model: rm-ckpt\n', file).diagnostics, []);
  assert.deepEqual(run('model:\n  reward_model: sft-run\n', file).diagnostics, []);
  assert.deepEqual(run('model:\n  policy: llava\n', file).diagnostics, []);
  // The public host contract: only readFile and exists.
  const minimal: EngineHost = {
    readFile: (p) => (p === path.join(dir, 'x.rlhf.yaml') ? 'ppo:\n  kl_coef: 0.3\n' : undefined),
    exists: (p) => p.endsWith('facts.json'),
  };
  assert.deepEqual(validateText(`extends: x.rlhf.yaml\n${BUILTIN}`, file, minimal), []);
  assert.deepEqual(
    validateText('data:\n  facts: nothing.txt\n  builtin: none\n', file, minimal).map((d) => d.code),
    ['path-not-found'],
  );
});

test('derived figures: iterations per epoch from the prompt file, gradient accumulation', () => {
  const dir = path.join(tmp, 'derived');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'facts.json'), '{}');
  fs.mkdirSync(path.join(dir, 'rm-run'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'rm-run', 'run.json'), '{"stage": "rm"}');
  fs.writeFileSync(
    path.join(dir, 'prompts.json'),
    JSON.stringify(
      Array.from({ length: 72000 }, (_, i) => ({ id: i, image: `${i}.jpg`, conversations: [{ from: 'human', value: '<image>\nq' }] })),
    ),
  );
  const text =
    'data:\n  facts: facts.json\n  ppo_prompts: prompts.json\nmodel:\n  reward_model: rm-run\nppo:\n  rollout_batch_size: 512\n  total_epochs: 4\n  ppo_epochs: 2\nlaunch:\n  backend: torchrun\n  gpus: 8\n';
  const a = run(text, path.join(dir, 'd.rlhf.yaml'));
  assert.deepEqual(a.diagnostics, []);
  assert.equal(a.derived?.promptCount, 72000);
  assert.equal(a.derived?.totalIterations, 562, 'FACT_RLHF.md §5: ~562 iterations');
  assert.equal(a.derived?.step?.perDeviceSteps, 4);
  const hints = inlayHints(a).map((h) => h.label);
  assert.deepEqual(
    hints,
    [
      '32 per device × 8 GPUs × 1 node → 2 generation passes',
      '→ 140.6/epoch, 562 iterations',
      '→ 4 optimiser steps/iteration',
      'step_batch_size: 8 per device × 8 GPUs × 1 node → 4 accumulation steps',
      'world size 8',
    ].sort((x, y) => hints.indexOf(x) - hints.indexOf(y)),
  );
  assert.equal(hints.length, 5);
});

test('GPU memory: the 13B recipe estimate, and a warning when the GPU is too small', () => {
  const file = path.join(EXAMPLES, 'llava-rlhf-13b.rlhf.yaml');
  const text = fs.readFileSync(file, 'utf8');
  const est = estimatePpoMemory(run(text, file).resolved!, host);
  assert.ok(est);
  assert.equal(est.dims.layers, 40);
  assert.equal(est.dims.hidden, 5120);
  const gib = est.totalBytes / 1024 ** 3;
  assert.ok(gib > 40 && gib < 80, `13B 4-bit PPO fits an 80 GB A100 in the reference recipe: ${gib}`);
  const small = run(text, file, createNodeHost({ env: {}, gpuMemoryGiB: 24 }));
  const w = one(small, 'gpu-memory');
  assert.deepEqual(rangeOf(w), span(text, 'step_per_device_batch_size: 8'));
  assert.deepEqual(run(text, file, createNodeHost({ env: {}, gpuMemoryGiB: 80 })).diagnostics, []);
  // A real checkpoint's config.json wins over the name.
  const ck = path.join(tmp, 'ckpt');
  fs.mkdirSync(ck, { recursive: true });
  fs.writeFileSync(
    path.join(ck, 'config.json'),
    JSON.stringify({
      text_config: {
        hidden_size: 2048,
        num_hidden_layers: 16,
        intermediate_size: 5632,
        vocab_size: 32000,
        num_attention_heads: 16,
        num_key_value_heads: 4,
      },
      vision_config: { hidden_size: 1024, num_hidden_layers: 24, intermediate_size: 4096 },
    }),
  );
  const ckA = run(`model:\n  policy: ckpt\n  reward_model: ckpt\n${BUILTIN}`);
  const ckEst = estimatePpoMemory(ckA.resolved!, host);
  assert.equal(ckEst?.dims.kvWidth, 512);
  assert.match(ckEst?.dims.source ?? '', /ckpt\/config\.json/);
});

test('hover: the schema description, type, default and reference; derived figures; paths', () => {
  const schema = schemaJson as unknown as { properties: Record<string, { properties: Record<string, { description: string }> }> };
  const text = `${BUILTIN}  facts: f.json\nppo:\n  clip_range: 0.2\n  lr_schedule: constant\n  bogus: 1\n`;
  const a = run(text);
  const h = hover(a, text.indexOf('clip_range') + 2);
  assert.ok(h);
  assert.ok(h.markdown.includes(schema.properties.ppo.properties.clip_range.description));
  assert.match(
    h.markdown,
    /Type: number in \(0, 1\] · Default: `0\.2` · LLaVA-RLHF reference: `0\.2` · Reference code's name: `cliprange`/,
  );
  assert.deepEqual([h.start, h.end], [text.indexOf('clip_range'), text.indexOf('clip_range') + 10]);
  const v = hover(a, text.indexOf('constant') + 1);
  assert.match(v?.markdown ?? '', /\*\*ppo\.lr_schedule\*\*/);
  assert.match(hover(a, text.indexOf('bogus'))?.markdown ?? '', /`ppo\.bogus` is not a key/);
  assert.match(
    hover(a, text.indexOf('f.json'))?.markdown ?? '',
    new RegExp(`Resolves to \`${path.join(tmp, 'f.json')}\` — \\*\\*does not exist\\*\\*`),
  );
  assert.equal(hover(a, text.length), undefined);
  const recipe = fs.readFileSync(path.join(EXAMPLES, 'llava-rlhf-7b.rlhf.yaml'), 'utf8');
  const ra = run(recipe, path.join(EXAMPLES, 'llava-rlhf-7b.rlhf.yaml'));
  const rh = hover(ra, recipe.indexOf('rollout_per_device_batch_size'));
  assert.match(rh?.markdown ?? '', /Rollout batch: 512 = 32 per device × 8 × 1 = 8 processes × \*\*2 generation passes per device\*\*/);
  assert.match(rh?.markdown ?? '', /Estimated PPO peak memory per GPU: \d+\.\d GiB/);
  assert.match(rh?.markdown ?? '', /\${LLAVA_RLHF_MODELS}|"7B" in model\.policy/);
});

test('completion: section keys with docs, nested keys, enum items, flow lists, files, snippets', () => {
  const dir = path.join(tmp, 'complete');
  fs.mkdirSync(path.join(dir, 'data', 'imgs'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'data', 'facts.json'), '{}');
  fs.writeFileSync(path.join(dir, 'data', 'notes.txt'), '');
  const file = path.join(dir, 'c.rlhf.yaml');
  const text =
    'model:\n  lora:\n    r: 8\n    \n  dtype: \neval:\n  benchmarks:\n    - p\n  other: [shapes, c]\ndata:\n  facts: data/\n  # com\n';
  const a = run(text, file);
  const at = (needle: string, delta: number): string[] => complete(a, text.indexOf(needle) + delta).map((c) => c.label);
  assert.deepEqual(at('    \n', 4), ['alpha', 'dropout', 'target_modules'], 'r is already there');
  assert.deepEqual(at('dtype: ', 7), ['fp32', 'bf16', 'fp16']);
  assert.deepEqual(at('- p', 3), ['shapes', 'mmhal', 'pope', 'chair']);
  assert.deepEqual(at('facts: data/', 12), ['facts.json', 'imgs/']);
  assert.deepEqual(at('# com', 5), []);
  const top = complete(a, text.length);
  assert.ok(top.some((c) => c.label === 'ppo' && c.kind === 'section' && /PPO with fact-augmented rewards/.test(c.documentation ?? '')));
  const snippet = top.find((c) => c.label === 'ppo (LLaVA-RLHF reference)');
  assert.ok(snippet);
  assert.match(snippet.insertText, /rollout_batch_size: 512\n {2}step_batch_size: 256/);
  assert.match(snippet.insertText, /no_eos_penalty: -8\n/);
  // The reference snippets together make a valid config (descriptive references such as
  // model.policy's "LLaVA-SFT+ 7B/13B" are not offered as values).
  const fresh = complete(run(''), 0).filter((c) => c.kind === 'snippet');
  const snippets = fresh.map((c) => c.insertText.replace(/\\(.)/g, '$1'));
  assert.deepEqual(
    fresh.map((c) => c.label.split(' ')[0]),
    ['model', 'sft', 'rl_init', 'reward_model', 'ppo', 'launch'],
  );
  assert.ok(!snippets.join('').includes('policy:'));
  assert.deepEqual(
    run(`${BUILTIN}${snippets.join('')}`).diagnostics.map((d) => d.message),
    [],
  );
  const flow = complete(run('eval:\n  benchmarks: [shapes, c'), 'eval:\n  benchmarks: [shapes, c'.length).map((c) => c.label);
  assert.deepEqual(flow, ['shapes', 'mmhal', 'pope', 'chair']);
  const partial = run('ppo:\n  kl_co');
  const items = complete(partial, 'ppo:\n  kl_co'.length);
  const kl = items.find((c) => c.label === 'kl_coef');
  assert.ok(kl);
  assert.equal(kl.replaceStart, 'ppo:\n  '.length);
  assert.equal(kl.insertText, 'kl_coef: ${1:0.1}');
});

test('code actions: the fixes at a position, and adding a missing section with reference values', () => {
  const text = `${BUILTIN}ppo:\n  kl_coeff: 0.1\n`;
  const a = run(text);
  const at = codeActions(a, text.indexOf('kl_coeff'), text.indexOf('kl_coeff'));
  assert.equal(at[0].kind, 'quickfix');
  assert.equal(at[0].fix.title, 'Change `kl_coeff` to `kl_coef`');
  const add = at.find((x) => x.fix.title === 'Add section `launch` with the LLaVA-RLHF reference values');
  assert.ok(add);
  const t2 = apply(apply(text, at[0].fix), add.fix);
  // The reference ran its 8 GPUs as several processes: backend torchrun belongs to the reference section.
  assert.match(t2, /launch:\n {2}gpus: 8\n {2}nodes: 1\n {2}backend: torchrun\n$/);
  assert.deepEqual(
    run(t2).diagnostics.map((d) => d.code),
    [],
  );
  assert.ok(!at.some((x) => x.fix.title.includes('`ppo`')), 'an existing section is not offered');
});

test('helpers: JSON heads, edit distance, suggestions', () => {
  assert.deepEqual(firstArrayItems('[{"a": 1}, {"b": "x]"}, {"c": ', 5), { ok: true, items: [{ a: 1 }, { b: 'x]' }] });
  assert.deepEqual(firstArrayItems('{"a": 1}', 1), { ok: false, error: 'is not a JSON list of records' });
  assert.equal(countArrayItems('[1, [2, 3], {"x": "]"}, "s"]'), 4);
  assert.equal(countArrayItems('[1, 2'), undefined);
  // The streaming counter agrees with countArrayItems however the file is cut into chunks.
  const lists = ['[1, [2, 3], {"x": "]\\"["}, "s"]', '\ufeff[ ]', '[{"a": "é,ü"}, {"b": [1, 2]}]\n', '[1, 2', '{"a": 1}'];
  for (const t of lists) {
    const bytes = Buffer.from(t, 'utf8');
    for (const size of [1, 2, 3, 7, bytes.length]) {
      const c = new RecordCounter(false);
      for (let i = 0; i < bytes.length; i += size) c.feed(bytes.subarray(i, i + size));
      assert.equal(c.result(), countArrayItems(t.replace(/^\ufeff/, '')), `${t} in ${size}-byte chunks`);
    }
  }
  const trailing = new RecordCounter(false);
  trailing.feed(Buffer.from('[1] x'));
  assert.equal(trailing.result(), undefined, 'text after the list: not valid JSON');
  const lines = new RecordCounter(true);
  lines.feed(Buffer.from('{"a": 1}\n\n  \n{"b"'));
  lines.feed(Buffer.from(': 2}\n{"c": 3}'));
  assert.equal(lines.result(), 3);
  assert.deepEqual(firstObjectEntry(' {"k": ["a", "b"], "z": 1}'), { ok: true, entry: ['k', ['a', 'b']] });
  assert.equal(editDistance('kl_coeff', 'kl_coef'), 1);
  assert.equal(editDistance('abcd', 'abdc'), 1);
  assert.deepEqual(closest('rollout_batchsize', ['rollout_batch_size', 'step_batch_size']), ['rollout_batch_size']);
  assert.deepEqual(closest('zzz', ['kl_coef']), []);
});

test('validateFile reports an unreadable file instead of throwing', () => {
  const res = validateFile(path.join(tmp, 'does-not-exist.rlhf.yaml'));
  assert.equal(res.length, 1);
  assert.equal(res[0].code, 'file-unreadable');
  assert.match(res[0].message, /file not found/);
});

test('a config that names no data and no model has nothing to run: an error that says what to set', () => {
  for (const text of ['', 'version: 1\n', 'version: 1\nname: x\nseed: 3\noutput_dir: out\n', 'model:\n  policy: builtin:tiny-llava\n']) {
    const d = one(run(text), 'nothing-to-run');
    assert.equal(d.severity, 'error', JSON.stringify(text));
    assert.match(
      d.message,
      /names no data and no model.*`data\.builtin: shapes`.*`data\.sft`.*`data\.preference`.*`data\.ppo_prompts`.*`eval\.checkpoint`/,
    );
    // The preferred fix makes it runnable on the built-in world, and then nothing is left to report.
    const fixed = apply(text, d.fixes.find((f) => f.preferred) ?? assert.fail('no preferred fix'));
    assert.deepEqual(codes(run(fixed)), [], fixed);
  }
  const empty = one(run(''), 'nothing-to-run');
  assert.deepEqual([empty.line, empty.column], [1, 1]);
  const version = one(run('# my experiment\nversion: 1\n'), 'nothing-to-run');
  assert.deepEqual(rangeOf(version), [2, 1, 2, 11], 'on `version: 1`, the one thing written');
  // Without a host (nothing outside the text is read) the rule holds too: it needs no files.
  assert.deepEqual(
    validateText('version: 1\n', CONFIG).map((x) => x.code),
    ['nothing-to-run'],
  );

  // Any data source or model makes a stage runnable.
  const dir = path.join(tmp, 'runnable');
  fs.mkdirSync(path.join(dir, 'llava'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'llava', 'config.json'), '{}');
  fs.writeFileSync(path.join(dir, 'base.rlhf.yaml'), `version: 1\n${BUILTIN}`);
  const file = path.join(dir, 'x.rlhf.yaml');
  for (const text of [BUILTIN, 'eval:\n  checkpoint: llava\n', 'extends: base.rlhf.yaml\n']) {
    assert.ok(!codes(run(text, file)).includes('nothing-to-run'), text);
  }
  // A parent that cannot be read may hold the data: only its own error.
  assert.deepEqual(codes(run('extends: missing.rlhf.yaml\n', file)), ['extends-not-found']);
  assert.deepEqual(codes(run('extends: base.rlhf.yaml\n', 'untitled.rlhf.yaml')), [], 'an unsaved document cannot read its parent');
});

test('an indivisible batch after a per-device edit: the preferred fix keeps the global batch', () => {
  // The user lowered step_per_device_batch_size to 3 (memory); 256 over 8 GPUs is 32 per GPU, not a multiple of 3.
  const text = `${BUILTIN}ppo:\n  step_batch_size: 256\n  step_per_device_batch_size: 3\nlaunch:\n  backend: torchrun\n  gpus: 8\n`;
  const d = one(run(text), 'batch-divisibility');
  assert.deepEqual(
    d.fixes.map((f) => [f.title, f.preferred]),
    [
      ['Set `ppo.step_per_device_batch_size` to 2 (keeps `ppo.step_batch_size` at 256)', true],
      ['Set `ppo.step_batch_size` to 264', false],
      ['Set `ppo.step_batch_size` to 240', false],
    ],
  );
  const fixed = apply(text, d.fixes[0]);
  assert.match(fixed, /step_batch_size: 256\n  step_per_device_batch_size: 2\n/);
  const after = run(fixed);
  assert.deepEqual(after.diagnostics, []);
  assert.ok(inlayHints(after).some((h) => h.label === '2 per device × 8 GPUs × 1 node → 16 accumulation steps'));
  // Changing the global batch instead changes the experiment, and here it no longer divides the rollout batch.
  const global = run(apply(text, d.fixes[1])).diagnostics;
  assert.deepEqual(
    global.map((x) => x.code),
    ['batch-divisibility'],
  );
  assert.match(global[0].message, /`ppo\.step_batch_size` \(264\) must divide `ppo\.rollout_batch_size` \(512\)/);
});

test('inlay hints name their factors: per device, GPUs or processes, nodes, and what the rest is', () => {
  const base = `${BUILTIN}ppo:\n  rollout_batch_size: 16\n  rollout_per_device_batch_size: 2\n  step_batch_size: 8\n  step_per_device_batch_size: 1\n`;
  const labels = (text: string): string[] =>
    inlayHints(run(text))
      .map((h) => h.label)
      .filter((l) => l.includes('per device'));
  assert.deepEqual(labels(`${base}launch:\n  backend: torchrun\n  device: cpu\n  processes: 2\n  nodes: 2\n`), [
    '2 per device × 2 processes × 2 nodes → 2 generation passes',
    '1 per device × 2 processes × 2 nodes → 2 accumulation steps',
  ]);
  const gpus = inlayHints(run(`${base}launch:\n  backend: torchrun\n  gpus: 4\n`)).filter((h) => h.label.includes('per device'));
  assert.equal(gpus[0].label, '2 per device × 4 GPUs × 1 node → 2 generation passes');
  // The tooltip carries the arithmetic, with where the process count comes from.
  assert.equal(
    gpus[1].tooltip,
    'Gradient-accumulation steps per optimiser step: ppo.step_batch_size 8 = 1 per device × 4 processes (launch.gpus × launch.nodes) × 2 accumulation steps',
  );
  assert.deepEqual(labels(`${BUILTIN}sft:\n  batch_size: 8\n  per_device_batch_size: 2\n`), [
    '2 per device × 1 process → 4 accumulation steps',
  ]);
});
