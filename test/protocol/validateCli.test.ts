// `fact-rlhf validate FILE [--json]` (dist/cli.js, src/cli/validate.ts): the language server's engine
// from a terminal. Every example is clean with exit 0; a batch that does not split across the GPUs is
// reported at its line with exit 1; --json prints one diagnostic object per line.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
let dir: string;

before(() => {
  const build = spawnSync(process.execPath, ['scripts/build.mjs', '--only=src/cli'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(build.status, 0, `build failed: ${build.stderr}`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fact-rlhf-validate-'));
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

function validate(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return validateWith({}, ...args);
}

function validateWith(extraEnv: Record<string, string>, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  // The recipes' ${LLAVA_RLHF_*} paths name another machine's files: unset here, so unchecked.
  const env: NodeJS.ProcessEnv = { ...process.env, ...extraEnv };
  delete env.LLAVA_RLHF_DATA;
  delete env.LLAVA_RLHF_MODELS;
  const res = spawnSync(process.execPath, [CLI, 'validate', ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 30_000 });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** 1-based line of the first line that starts with `prefix` (after indentation). */
function lineStarting(text: string, prefix: string): number {
  const i = text.split('\n').findIndex((l) => l.trimStart().startsWith(prefix));
  assert.ok(i >= 0, `no line starts with ${prefix}`);
  return i + 1;
}

test('every example prints no diagnostics and exits 0', () => {
  const examples = fs.readdirSync(path.join(ROOT, 'examples')).filter((f) => f.endsWith('.rlhf.yaml'));
  assert.ok(examples.length >= 3 && examples.includes('llava-rlhf-13b.rlhf.yaml') && examples.includes('llava-rlhf-7b.rlhf.yaml'));
  for (const f of examples) {
    const res = validate(path.join('examples', f));
    assert.equal(res.stdout, 'no problems in 1 file(s)\n', f);
    assert.equal(res.stderr, '', f);
    assert.equal(res.status, 0, f);
    const json = validate('--json', path.join('examples', f));
    assert.equal(json.stdout, '', `${f} --json`);
    assert.equal(json.status, 0, `${f} --json`);
  }
});

test('a batch that does not divide across the GPUs is reported at its line, exit 1', () => {
  const text = [
    'version: 1', //                         1
    'data:', //                              2
    '  builtin: shapes', //                  3
    'ppo:', //                               4
    '  step_batch_size: 8', //               5
    '  step_per_device_batch_size: 1', //    6
    '  rollout_batch_size: 12', //           7  ← 12 does not split over 8 processes
    '  rollout_per_device_batch_size: 1', // 8
    'launch:', //                            9
    '  gpus: 8', //                          10
    '  backend: torchrun', //                11
    '',
  ].join('\n');
  const file = path.join(dir, 'indivisible.rlhf.yaml');
  fs.writeFileSync(file, text);
  const res = validate(file);
  assert.equal(res.status, 1, res.stdout + res.stderr);
  // A rollout batch that does not split over 8 processes cannot be divided by a step batch that
  // does, so the step batch is reported too, at its own line.
  const lines = res.stdout.trim().split('\n');
  assert.equal(lines.length, 2, res.stdout);
  assert.match(
    lines[1],
    /indivisible\.rlhf\.yaml:7:3: error \[batch-divisibility\] `ppo\.rollout_batch_size` \(12\) must be divisible by the number of processes, launch\.gpus × launch\.nodes = 8 × 1 = 8$/,
  );
  assert.match(
    lines[0],
    /indivisible\.rlhf\.yaml:5:3: error \[batch-divisibility\] `ppo\.step_batch_size` \(8\) must divide `ppo\.rollout_batch_size` \(12\)/,
  );
});

test('the 13B recipe with rollout_batch_size 500 on 8 GPUs: reported at that line of the file', () => {
  const recipe = fs.readFileSync(path.join(ROOT, 'examples', 'llava-rlhf-13b.rlhf.yaml'), 'utf8');
  const text = recipe.replace('  rollout_batch_size: 512', '  rollout_batch_size: 500');
  assert.notEqual(text, recipe);
  const file = path.join(dir, 'recipe-500.rlhf.yaml');
  fs.writeFileSync(file, text);
  const res = validate('--json', file);
  assert.equal(res.status, 1);
  const diags = res.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(
    diags.map((d) => [d.line, d.column, d.severity, d.code]),
    [
      [lineStarting(text, 'rollout_batch_size:'), 3, 'error', 'batch-divisibility'],
      [lineStarting(text, 'step_batch_size:'), 3, 'error', 'batch-divisibility'],
    ],
  );
  assert.match(
    String(diags[0].message),
    /`ppo\.rollout_batch_size` \(500\) must be divisible by the number of processes, launch\.gpus × launch\.nodes = 8 × 1 = 8/,
  );
  assert.match(String(diags[1].message), /`ppo\.step_batch_size` \(256\) must divide `ppo\.rollout_batch_size` \(500\)/);
});

test('--json prints one object per line: 1-based line and column, severity, code, message', () => {
  const text = 'version: 1\ndata:\n  builtin: shapes\nppo:\n  kl_coeff: 0.1\n  whiten: yes\n  correct_choice_bonus: -2\n';
  const file = path.join(dir, 'several.rlhf.yaml');
  fs.writeFileSync(file, text);
  const res = validate('--json', file);
  assert.equal(res.status, 1, 'errors present');
  assert.equal(res.stderr, '');
  const rows = res.stdout.split('\n').filter((l) => l !== '');
  assert.equal(rows.length, 3, res.stdout);
  const diags = rows.map((l) => JSON.parse(l) as Record<string, unknown>);
  for (const d of diags) {
    for (const k of ['line', 'column', 'severity', 'code', 'message']) assert.ok(k in d, `${k} in ${JSON.stringify(d)}`);
    assert.equal(d.file, file);
  }
  assert.deepEqual(
    diags.map((d) => [d.line, d.column, d.severity, d.code]),
    [
      [5, 3, 'error', 'unknown-key'],
      [6, 11, 'error', 'wrong-type'],
      [7, 3, 'warning', 'reward-sign'],
    ],
  );
  assert.match(String(diags[0].message), /did you mean `kl_coef`/);
});

test('warnings alone exit 0; a problem in an inherited file names that file and line', () => {
  fs.writeFileSync(path.join(dir, 'base.rlhf.yaml'), 'version: 1\ndata:\n  builtin: shapes\nppo:\n  correct_choice_bonus: -1\n');
  const child = path.join(dir, 'child.rlhf.yaml');
  fs.writeFileSync(child, 'extends: base.rlhf.yaml\nname: child\n');
  const res = validate(child);
  assert.equal(res.status, 0, res.stdout);
  assert.match(res.stdout, /base\.rlhf\.yaml:5:3: warning \[reward-sign\] `ppo\.correct_choice_bonus` is negative/);
});

test('usage errors exit 2: a missing file, an unknown option, no file', () => {
  const missing = validate(path.join(dir, 'nope.rlhf.yaml'));
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /file not found: .*nope\.rlhf\.yaml/);
  const unknown = validate('--jsn', path.join('examples', 'tiny-ppo.rlhf.yaml'));
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown option --jsn/);
  assert.equal(validate().status, 2);
});

test('environment values stay out of the output: a ${VAR} path is shown by its name, as text and --json', () => {
  const secret = 'hf_s3cr3tT0ken';
  const file = path.join(dir, 'secret.rlhf.yaml');
  fs.writeFileSync(file, 'data:\n  builtin: shapes\n  sft: ${HF_TOKEN}/sft.json\nextends: $HF_TOKEN/base.rlhf.yaml\n');
  for (const args of [[file], ['--json', file]]) {
    const res = validateWith({ HF_TOKEN: secret }, ...args);
    assert.ok(!res.stdout.includes(secret) && !res.stderr.includes(secret), res.stdout);
    assert.match(res.stdout, /\$\{HF_TOKEN\}\/sft\.json/);
    assert.match(res.stdout, /\$HF_TOKEN\/base\.rlhf\.yaml/);
  }
});

test('an extends file over 1 MB is refused with a clear error, not read; so is a config file over 16 MB', () => {
  const big = path.join(dir, 'big-base.rlhf.yaml');
  fs.writeFileSync(big, `# padding\n${'#'.repeat(99)}\n`.repeat(20_000) + 'name: base\n'); // 2.2 MB
  const child = path.join(dir, 'big-child.rlhf.yaml');
  fs.writeFileSync(child, 'extends: big-base.rlhf.yaml\ndata:\n  builtin: shapes\n');
  const res = validate(child);
  assert.equal(res.status, 1, res.stdout);
  assert.match(
    res.stdout,
    /big-child\.rlhf\.yaml:1:10: error \[extends-too-large\] extends: "big-base\.rlhf\.yaml" is 2\.\d MB; a config file is at most 1 MB/,
  );
  const huge = path.join(dir, 'huge.rlhf.yaml');
  fs.writeFileSync(huge, '');
  fs.truncateSync(huge, 64 * 1024 * 1024); // sparse: costs no disk
  const h = validate(huge);
  assert.equal(h.status, 1);
  assert.match(h.stdout, /error \[file-too-large\] .*huge\.rlhf\.yaml is 64\.0 MB; a config file is at most 16 MB/);
});

test('validate --json | head: the reader leaving early ends the command quietly (no EPIPE trace)', async () => {
  const file = path.join(dir, 'many.rlhf.yaml');
  let text = 'data:\n  builtin: shapes\nppo:\n';
  for (let i = 0; i < 2000; i++) text += `  unknown_key_${i}: 1\n`;
  fs.writeFileSync(file, text);
  const child = spawn(process.execPath, [CLI, 'validate', '--json', file], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  // Read one chunk, then close our end, as `head -1` does.
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  child.stdout.destroy();
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (c, s) => resolve([c, s])),
  );
  assert.equal(stderr, '', 'nothing on stderr');
  assert.equal(signal, null);
  assert.ok(code === 0 || code === 1, `exit ${code}`);
});
