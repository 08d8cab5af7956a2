// The built language server (dist/language-server.js) driven over stdio by a real JSON-RPC LSP
// client: diagnostics with their ranges for every rule, extends chains, hover, completion, inlay
// hints, code actions applied and re-validated, the custom validate request, and robustness.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { CodeAction, CompletionItem, Diagnostic, Hover, InlayHint, DocumentLink, CodeLens } from 'vscode-languageserver/node';
import { LspTestClient, ROOT, applyEdits, buildServer, lineOf, positionOf } from './languageServer.client';
import { DerivedRequest, type DerivedResult, type ValidateResult } from '../../src/protocol/lsp';

const DERIVED_REQUEST = DerivedRequest.method;

let client: LspTestClient;
let dir: string;
let docCounter = 0;

function uriFor(name: string): string {
  return pathToFileURL(path.join(dir, name)).toString();
}

/** A fresh document URI in the temp folder (so tests do not see each other's versions). */
function freshUri(): string {
  docCounter += 1;
  return uriFor(`doc${docCounter}.rlhf.yaml`);
}

const BUILTIN = 'data:\n  builtin: shapes\n';

before(async () => {
  buildServer();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fact-rlhf-ls-'));
  client = await LspTestClient.start('stdio');
});

after(async () => {
  const code = await client.stop();
  assert.equal(code, 0, `server exit code (stderr: ${client.stderr.join('')})`);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A diagnostic's text (LSP allows markup content there too). */
function msg(d: Diagnostic): string {
  return typeof d.message === 'string' ? d.message : d.message.value;
}

function only(diags: Diagnostic[], code: string): Diagnostic {
  const hits = diags.filter((d) => d.code === code);
  assert.equal(hits.length, 1, `expected one ${code}, got ${JSON.stringify(diags.map((d) => [d.code, d.message]))}`);
  return hits[0];
}

test('a wrong-typed key gives a diagnostic naming the key, at its line', async () => {
  const text = `${BUILTIN}ppo:\n  kl_coef: "abc"\n`;
  const diags = await client.open(freshUri(), text);
  const d = only(diags, 'wrong-type');
  assert.match(msg(d), /ppo\.kl_coef/);
  assert.equal(d.severity, 1);
  assert.equal(d.source, 'fact-rlhf');
  assert.deepEqual(d.range, { start: positionOf(text, '"abc"'), end: positionOf(text, '"abc"', 5) });
  assert.equal(d.range.start.line, lineOf(text, 'kl_coef'));
});

test('an empty document and `version: 1` alone: nothing to run, an error in the editor with a preferred fix', async () => {
  for (const start of ['', 'version: 1\n']) {
    const uri = freshUri();
    const d = only(await client.open(uri, start), 'nothing-to-run');
    assert.equal(d.severity, 1, 'an error');
    assert.match(msg(d), /^Nothing to run: the config names no data and no model/);
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: d.range,
      context: { diagnostics: [d] },
    });
    const fix = actions.find((a) => a.isPreferred && a.kind === 'quickfix');
    assert.ok(fix?.edit?.changes?.[uri], JSON.stringify(actions.map((a) => a.title)));
    const text = applyEdits(start, fix.edit.changes[uri]);
    assert.match(text, /data:\n {2}builtin: shapes\n/);
    assert.deepEqual(await client.change(uri, text), []);
  }
});

test('the LLaVA-RLHF recipes and the tiny examples give no diagnostics', async () => {
  const examples = fs.readdirSync(path.join(ROOT, 'examples')).filter((f) => f.endsWith('.rlhf.yaml'));
  assert.ok(examples.includes('llava-rlhf-7b.rlhf.yaml') && examples.includes('llava-rlhf-13b.rlhf.yaml'));
  for (const f of examples) {
    const file = path.join(ROOT, 'examples', f);
    const diags = await client.open(pathToFileURL(file).toString(), fs.readFileSync(file, 'utf8'));
    assert.deepEqual(
      diags.map((d) => `${d.range.start.line + 1}: ${d.message}`),
      [],
      f,
    );
    client.close(pathToFileURL(file).toString());
  }
});

test('schema rules: unknown key with did-you-mean, out of range, enum — each at its exact range', async () => {
  const text = `${BUILTIN}ppo:\n  kl_coeff: 0.1\n  clip_range: 1.5\n  no_eos_penalty: 8\n  lr_schedule: cosin\n`;
  const diags = await client.open(freshUri(), text);
  const unknown = only(diags, 'unknown-key');
  assert.match(msg(unknown), /ppo\.kl_coeff.*did you mean `kl_coef`/);
  assert.deepEqual(unknown.range, { start: positionOf(text, 'kl_coeff'), end: positionOf(text, 'kl_coeff', 8) });
  const ranges = diags.filter((d) => d.code === 'out-of-range').map((d) => [d.range.start.line, d.range.start.character, msg(d)]);
  assert.deepEqual(
    ranges.map((r) => r.slice(0, 2)),
    [
      [lineOf(text, 'clip_range'), positionOf(text, '1.5').character],
      [lineOf(text, 'no_eos_penalty'), positionOf(text, ': 8', 2).character],
    ],
  );
  assert.match(String(ranges[0][2]), /ppo\.clip_range.*≤ 1/);
  assert.match(String(ranges[1][2]), /ppo\.no_eos_penalty.*≤ 0/);
  const e = only(diags, 'enum');
  assert.match(msg(e), /ppo\.lr_schedule.*did you mean `cosine`/);
  assert.deepEqual(e.range.start, positionOf(text, 'cosin'));
});

test('YAML syntax errors are reported at their position', async () => {
  const text = 'ppo:\n  kl_coef: 0.1\n  kl_coef: 0.2\n';
  const d = only(await client.open(freshUri(), text), 'yaml-syntax');
  assert.match(msg(d), /unique/);
  assert.equal(d.range.start.line, 2);
  const text2 = 'ppo:\n  kl_coef: [0.1\nlaunch:\n  gpus: 1\n';
  const d2 = (await client.open(freshUri(), text2)).filter((x) => x.code === 'yaml-syntax');
  assert.ok(d2.length >= 1);
  assert.ok(d2[0].range.start.line >= 1);
});

test('batch sizes must divide across per-device × gpus × nodes, at the key that set them', async () => {
  const text = `${BUILTIN}ppo:\n  rollout_batch_size: 480\n  step_batch_size: 256\nlaunch:\n  gpus: 8\n  backend: torchrun\n`;
  const diags = await client.open(freshUri(), text);
  const div = diags.filter((d) => d.code === 'batch-divisibility');
  assert.equal(div.length, 2, JSON.stringify(div.map((d) => msg(d))));
  assert.equal(div[0].range.start.line, lineOf(text, 'rollout_batch_size'));
  assert.match(msg(div[0]), /ppo\.rollout_batch_size.*480.*32 × 8 × 1 = 256/);
  assert.match(msg(div[1]), /ppo\.step_batch_size.*must divide.*ppo\.rollout_batch_size/);
  // Change only the GPU count: the rollout batch is fine, the diagnostic sits on launch.gpus.
  const text2 = `${BUILTIN}ppo:\n  rollout_batch_size: 512\nlaunch:\n  gpus: 3\n  backend: torchrun\n`;
  const d2 = (await client.open(freshUri(), text2)).filter((d) => d.code === 'batch-divisibility' && msg(d).startsWith('`ppo.'));
  assert.deepEqual(
    d2.map((d) => [d.range.start.line, msg(d).slice(0, 24)]),
    [
      [lineOf(text2, 'rollout_batch_size'), '`ppo.rollout_batch_size`'],
      // The step batch (a default) does not split over 3 GPUs either: shown on the key this file set.
      [lineOf(text2, 'gpus'), '`ppo.step_batch_size` (2'],
    ],
  );
});

test('length budget, missing facts, small-batch whitening and a negative bonus are flagged', async () => {
  const text =
    'model:\n  max_length: 512\nppo:\n  rollout_batch_size: 2\n  rollout_per_device_batch_size: 1\n  step_batch_size: 2\n  step_per_device_batch_size: 1\n  correct_choice_bonus: -1.0\n';
  const diags = await client.open(freshUri(), text);
  const len = only(diags, 'length-budget');
  assert.match(msg(len), /ppo\.query_len.*ppo\.response_len.*128 \+ 896 = 1024.*model\.max_length.*512/);
  assert.equal(len.range.start.line, lineOf(text, 'max_length'));
  const facts = only(diags, 'missing-facts');
  assert.match(msg(facts), /reward_model\.fact_augmentation/);
  const whiten = only(diags, 'whiten-small-batch');
  assert.equal(whiten.range.start.line, lineOf(text, 'rollout_batch_size'));
  assert.equal(whiten.severity, 2);
  const bonus = only(diags, 'reward-sign');
  assert.equal(bonus.range.start.line, lineOf(text, 'correct_choice_bonus'));
});

test('files and folders are checked relative to the config', async () => {
  fs.writeFileSync(path.join(dir, 'facts.json'), JSON.stringify({ img1: ['a red circle'] }));
  fs.writeFileSync(path.join(dir, 'prefs.json'), JSON.stringify([{ image: 'a.png', conversations: [], output_1: { value: 'x' } }]));
  fs.mkdirSync(path.join(dir, 'images'), { recursive: true });
  const text =
    'data:\n  facts: facts.json\n  image_folder: images\n  preference: prefs.json\n  ppo_prompts: missing/prompts.json\nreward_model:\n  fact_augmentation: true\nppo:\n  init_value_from_reward_model: false\n';
  const diags = await client.open(uriFor('files.rlhf.yaml'), text);
  const missing = only(diags, 'path-not-found');
  assert.equal(missing.range.start.line, lineOf(text, 'ppo_prompts'));
  assert.match(msg(missing), /data\.ppo_prompts.*missing\/prompts\.json/);
  const rec = only(diags, 'data-record');
  assert.equal(rec.range.start.line, lineOf(text, 'preference'));
  assert.match(msg(rec), /`output_2`, `preference`/);
  assert.equal(diags.length, 2, JSON.stringify(diags.map((d) => msg(d))));
});

test('extends: inherited values are checked, and problems point into the file that set them', async () => {
  fs.writeFileSync(path.join(dir, 'base.rlhf.yaml'), `${BUILTIN}ppo:\n  rollout_batch_size: 512\n  kl_coef: -1\n`);
  const text = 'extends: base.rlhf.yaml\nlaunch:\n  gpus: 3\n  backend: torchrun\n';
  const diags = await client.open(uriFor('child.rlhf.yaml'), text);
  const range = only(diags, 'out-of-range');
  assert.equal(range.range.start.line, 0, 'shown on the extends line');
  assert.match(msg(range), /^base\.rlhf\.yaml:5:12: .*ppo\.kl_coef/);
  assert.equal(range.relatedInformation?.[0].location.uri, uriFor('base.rlhf.yaml'));
  assert.equal(range.relatedInformation?.[0].location.range.start.line, 4);
  const div = diags.filter((d) => d.code === 'batch-divisibility');
  assert.ok(div.length >= 1);
  assert.equal(div[0].range.start.line, lineOf(text, 'gpus'), 'the child changed gpus, so that is where it shows');
  // Overriding the bad value in the child clears the inherited error.
  const fixed = await client.change(uriFor('child.rlhf.yaml'), `${text}ppo:\n  kl_coef: 0.1\n`);
  assert.equal(fixed.filter((d) => d.code === 'out-of-range').length, 0);
  // A cycle is an error on the extends value.
  fs.writeFileSync(path.join(dir, 'loop-a.rlhf.yaml'), 'extends: loop-b.rlhf.yaml\n');
  fs.writeFileSync(path.join(dir, 'loop-b.rlhf.yaml'), 'extends: loop-a.rlhf.yaml\n');
  const loop = await client.open(uriFor('loop-a.rlhf.yaml'), 'extends: loop-b.rlhf.yaml\n');
  assert.ok(
    loop.some((d) => d.code === 'extends-cycle'),
    JSON.stringify(loop),
  );
});

test('hover shows meaning, type, default and the LLaVA-RLHF reference from the schema', async () => {
  const text = `${BUILTIN}ppo:\n  kl_coef: 0.2\n  step_batch_size: 256\n`;
  const uri = freshUri();
  await client.open(uri, text);
  const h = await client.request<Hover>('textDocument/hover', { textDocument: { uri }, position: positionOf(text, 'kl_coef', 3) });
  const md = (h.contents as { value: string }).value;
  assert.match(md, /\*\*ppo\.kl_coef\*\*/);
  assert.match(md, /β of the per-token KL penalty/);
  assert.match(md, /Type: number ≥ 0/);
  assert.match(md, /Default: `0\.1`/);
  assert.match(md, /LLaVA-RLHF reference: `0\.1`/);
  assert.deepEqual(h.range?.start, positionOf(text, 'kl_coef'));
  const h2 = await client.request<Hover>('textDocument/hover', { textDocument: { uri }, position: positionOf(text, 'step_batch_size') });
  assert.match((h2.contents as { value: string }).value, /256 = 8 per device × 1 × 1 = 1 process × \*\*32 gradient-accumulation steps\*\*/);
});

test('completion offers keys with docs, enum values and booleans', async () => {
  const text = `${BUILTIN}ppo:\n  kl_coef: 0.1\n  \n  lr_schedule: \n  whiten: \n`;
  const uri = freshUri();
  await client.open(uri, text);
  const keys = await client.request<CompletionItem[]>('textDocument/completion', {
    textDocument: { uri },
    position: { line: lineOf(text, 'kl_coef') + 1, character: 2 },
  });
  const labels = keys.map((k) => k.label);
  assert.ok(labels.includes('rollout_batch_size') && labels.includes('clip_range'));
  assert.ok(!labels.includes('kl_coef'), 'a key already present is not offered again');
  const clip = keys.find((k) => k.label === 'clip_range');
  assert.match((clip?.documentation as { value: string }).value, /PPO ratio clip ε/);
  const enums = await client.request<CompletionItem[]>('textDocument/completion', {
    textDocument: { uri },
    position: positionOf(text, 'lr_schedule: ', 13),
  });
  assert.deepEqual(
    enums.map((c) => c.label),
    ['cosine', 'constant', 'linear'],
  );
  const bools = await client.request<CompletionItem[]>('textDocument/completion', {
    textDocument: { uri },
    position: positionOf(text, 'whiten: ', 8),
  });
  assert.deepEqual(
    bools.map((c) => c.label),
    ['true', 'false'],
  );
  const top = await client.request<CompletionItem[]>('textDocument/completion', {
    textDocument: { uri },
    position: { line: lineOf(text, 'whiten') + 1, character: 0 },
  });
  assert.ok(top.some((c) => c.label === 'launch'));
  assert.ok(top.some((c) => c.label === 'model (LLaVA-RLHF reference)' && c.textEdit && /max_length: 2048/.test(c.textEdit.newText)));
});

test('inlay hints show gradient accumulation and optimiser steps per iteration', async () => {
  const file = path.join(ROOT, 'examples', 'llava-rlhf-13b.rlhf.yaml');
  const text = fs.readFileSync(file, 'utf8');
  const uri = uriFor('recipe-copy.rlhf.yaml');
  await client.open(uri, text);
  const hints = await client.request<InlayHint[]>('textDocument/inlayHint', {
    textDocument: { uri },
    range: { start: { line: 0, character: 0 }, end: { line: 500, character: 0 } },
  });
  const at = (needle: string): string[] => hints.filter((h) => h.position.line === lineOf(text, needle)).map((h) => String(h.label));
  assert.deepEqual(at('  step_batch_size'), ['8 per device × 8 GPUs × 1 node → 4 accumulation steps']);
  assert.deepEqual(at('  rollout_batch_size'), ['32 per device × 8 GPUs × 1 node → 2 generation passes']);
  assert.deepEqual(at('  ppo_epochs'), ['→ 4 optimiser steps/iteration']);
  assert.deepEqual(at('  gpus'), ['world size 8']);
});

test('code actions fix a misspelt key and make batches divisible; re-validation is clean', async () => {
  const uri = freshUri();
  let text = `${BUILTIN}ppo:\n  kl_coeff: 0.1\n  rollout_batch_size: 500\nlaunch:\n  gpus: 8\n  backend: torchrun\n`;
  let diags = await client.open(uri, text);
  for (const code of ['unknown-key', 'batch-divisibility']) {
    const d = diags.filter((x) => x.code === code)[0];
    assert.ok(d, code);
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: d.range,
      context: { diagnostics: [d] },
    });
    const fix = actions.find((a) => a.isPreferred && a.kind === 'quickfix');
    assert.ok(fix?.edit?.changes?.[uri], `a preferred fix for ${code}: ${JSON.stringify(actions.map((a) => a.title))}`);
    text = applyEdits(text, fix.edit.changes[uri]);
    diags = await client.change(uri, text);
  }
  assert.match(text, /kl_coef: 0\.1/);
  assert.match(text, /rollout_batch_size: 512/);
  assert.deepEqual(diags, []);
  // Three GPUs: no default batch splits; the fixes insert the keys the file does not have yet.
  const uri2 = freshUri();
  let t2 = `${BUILTIN}launch:\n  gpus: 3\n  backend: torchrun\n`;
  let cur = (await client.open(uri2, t2)).filter((d) => d.code === 'batch-divisibility');
  assert.equal(cur.length, 5, JSON.stringify(cur.map((d) => msg(d)))); // ppo rollout and step, sft, rl_init, reward_model
  for (let round = 0; round < 8 && cur.length > 0; round++) {
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri: uri2 },
      range: cur[0].range,
      context: { diagnostics: [cur[0]] },
    });
    const fix = actions.find((a) => a.isPreferred);
    assert.ok(fix?.edit?.changes?.[uri2], JSON.stringify(actions));
    t2 = applyEdits(t2, fix.edit.changes[uri2]);
    cur = (await client.change(uri2, t2)).filter((d) => d.code === 'batch-divisibility' || d.code === 'yaml-syntax');
  }
  assert.deepEqual(cur, [], t2);
  assert.match(t2, /\nppo:\n  rollout_batch_size: 480\n  step_batch_size: 240\n/);
});

test('the custom factRlhf/validate request validates a file on disk', async () => {
  const file = path.join(dir, 'ondisk.rlhf.yaml');
  fs.writeFileSync(
    file,
    `${BUILTIN}launch:\n  gpus: 2\n  backend: torchrun\nppo:\n  rollout_batch_size: 100\n  step_batch_size: 50\n  step_per_device_batch_size: 5\n`,
  );
  const res = await client.request<ValidateResult>('factRlhf/validate', { uri: pathToFileURL(file).toString() });
  assert.equal(res.diagnostics.length, 1);
  assert.deepEqual(
    { ...res.diagnostics[0], message: '' },
    {
      line: 7,
      column: 3,
      endLine: 7,
      endColumn: 26,
      severity: 'error',
      code: 'batch-divisibility',
      message: '',
      file,
      path: ['ppo', 'rollout_batch_size'],
    },
  );
});

test('factRlhf/validate gives each diagnostic its key path and, when asked, its quick fixes (the experiment form)', async () => {
  const uri = freshUri();
  const text = `${BUILTIN}ppo:
  kl_coef: -1
  lr_schedule: cosin
  kl_coeff: 0.1
seed: [1]
`;
  await client.open(uri, text);
  const res = await client.request<ValidateResult>('factRlhf/validate', { uri, withFixes: true });
  const byCode = (code: string) => res.diagnostics.find((d) => d.code === code && d.file === fileURLToPath(uri));
  assert.equal(typeof res.version, 'number', 'the validated version of the open document');
  const paths = res.diagnostics.map((d) => [d.code, d.path]);
  assert.ok(
    paths.some(([c, p]) => c === 'out-of-range' && JSON.stringify(p) === '["ppo","kl_coef"]'),
    JSON.stringify(paths),
  );
  assert.deepEqual(byCode('unknown-key')?.path, ['ppo', 'kl_coeff']);
  assert.ok(
    res.diagnostics.some((d) => JSON.stringify(d.path) === '["ppo","lr_schedule"]'),
    JSON.stringify(paths),
  );
  const unknown = byCode('unknown-key');
  assert.ok(
    unknown?.fixes?.some((f) => /kl_coef/.test(f.title) && f.edits[0].newText === 'kl_coef'),
    JSON.stringify(unknown?.fixes),
  );
  const plain = await client.request<ValidateResult>('factRlhf/validate', { uri });
  assert.ok(
    plain.diagnostics.every((d) => d.fixes === undefined),
    'no fixes unless asked',
  );
});

test('factRlhf/derived: derived figures at their keys and the memory verdict (no GPU here: CPU)', async () => {
  const uri = freshUri();
  const recipe = fs.readFileSync(path.join(ROOT, 'examples', 'llava-rlhf-13b.rlhf.yaml'), 'utf8');
  await client.open(uri, recipe);
  const res = await client.request<DerivedResult>(DERIVED_REQUEST, { uri });
  assert.ok(
    res.figures.some((f) => f.path.join('.') === 'ppo.step_batch_size' && /accumulation/.test(f.label)),
    JSON.stringify(res.figures),
  );
  assert.ok(res.memory && res.memory.totalBytes > 10 * 1024 ** 3, '13B needs over 10 GiB');
  // The test client passes no GPU memory and this machine has no nvidia-smi.
  assert.equal(res.verdict, 'no-gpu');
  assert.match(res.summary, /No GPU found: CPU/);
  const cpu = freshUri();
  await client.open(cpu, recipe.replace('device: cuda', 'device: cpu'));
  assert.equal((await client.request<DerivedResult>(DERIVED_REQUEST, { uri: cpu })).verdict, 'cpu');
});

test('document links and code lenses', async () => {
  fs.writeFileSync(path.join(dir, 'links-facts.json'), '{}');
  const text = 'data:\n  facts: links-facts.json\nppo:\n  kl_coef: 0.1\n';
  const uri = uriFor('links.rlhf.yaml');
  await client.open(uri, text);
  const links = await client.request<DocumentLink[]>('textDocument/documentLink', { textDocument: { uri } });
  assert.deepEqual(
    links.map((l) => [l.range.start.line, l.target]),
    [[1, uriFor('links-facts.json')]],
  );
  const lenses = await client.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri } });
  assert.ok(lenses.some((l) => l.command?.command === 'factRlhf.startPpo' && l.range.start.line === 2));
});

test('the server survives hostile input: garbage edits, huge lines, alias bombs', async () => {
  const uri = freshUri();
  const base = fs.readFileSync(path.join(ROOT, 'examples', 'llava-rlhf-13b.rlhf.yaml'), 'utf8');
  await client.open(uri, base);
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const hostile = [
    'a: &a [*a, *a]\n',
    `b: &b ["x","x","x","x","x","x","x","x","x"]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n`,
    `${'['.repeat(5000)}`,
    `ppo:\n  kl_coef: ${'9'.repeat(100000)}\n`,
    '\u0000\uffff\ud800--- !!binary\n...\n%YAML 9\n',
    '? [a, b]\n: c\n<<: 5\n',
  ];
  // Hover, completion and inlay hints analyse every version at once; diagnostics are debounced,
  // so only the last version's are awaited.
  let t = base;
  for (let i = 0; i < 200; i++) {
    if (i < hostile.length) t = hostile[i];
    else {
      t = i % 50 === 0 ? base : t;
      const at = rnd(t.length + 1);
      const bytes = Array.from({ length: rnd(8) + 1 }, () => String.fromCharCode(rnd(128))).join('');
      t = t.slice(0, at) + bytes + t.slice(at + rnd(20));
    }
    await client.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version: i + 2 }, contentChanges: [{ text: t }] });
    const position = { line: rnd(40), character: rnd(30) };
    const [h, c] = await Promise.all([
      client.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position }),
      client.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position }),
      client.request<InlayHint[]>('textDocument/inlayHint', {
        textDocument: { uri },
        range: { start: { line: 0, character: 0 }, end: { line: 200, character: 0 } },
      }),
    ]);
    assert.ok(h === null || typeof h === 'object');
    assert.ok(Array.isArray(c));
  }
  await client.waitForDiagnostics(uri, 201);
  assert.ok(client.alive, 'server still running');
  assert.ok(!client.stderr.join('').includes('uncaught'), client.stderr.join(''));
});

test('the server works over Node IPC too (vscode-languageclient TransportKind.ipc)', async () => {
  const ipc = await LspTestClient.start('ipc');
  try {
    const file = path.join(ROOT, 'examples', 'llava-rlhf-7b.rlhf.yaml');
    assert.deepEqual(await ipc.open(pathToFileURL(file).toString(), fs.readFileSync(file, 'utf8')), []);
    const text = 'ppo:\n  kl_coef: abc\n';
    const d = only(await ipc.open(freshUri(), text), 'wrong-type');
    assert.equal(d.range.start.line, 1);
  } finally {
    assert.equal(await ipc.stop(), 0);
  }
});
