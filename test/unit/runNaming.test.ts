// Run folders are named by the schema's `x-run-folder` rule, the same one the trainer applies.
import test from 'node:test';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import experimentSchema from '../../schema/experiment.schema.json';
import { defaultRunDirectory, expandLikeTrainer, runFolderPrefix } from '../../src/runs/runNaming';

const when = new Date(2026, 0, 2, 3, 4, 5);

test('the run folder rule is data in the schema', () => {
  const rule = (experimentSchema as unknown as Record<string, { format?: string; timestamp?: string }>)['x-run-folder'];
  assert.equal(rule.format, '{name}-{stage}-{timestamp}');
  assert.equal(rule.timestamp, '%Y%m%d-%H%M%S');
});

test('<output_dir of the file that set it>/<name>-<stage>-<timestamp>, then -2, -3 when taken', () => {
  const dir = mkdtempSync(join(tmpdir(), 'run-naming-'));
  try {
    mkdirSync(join(dir, 'base'));
    writeFileSync(join(dir, 'base', 'base.rlhf.yaml'), 'name: "exp one/α2"\noutput_dir: out\n');
    writeFileSync(join(dir, 'child.rlhf.yaml'), 'extends: base/base.rlhf.yaml\nseed: 1\n');
    const first = defaultRunDirectory(join(dir, 'child.rlhf.yaml'), 'ppo', undefined, when);
    assert.equal(first, join(dir, 'base', 'out', 'exp-one-2-ppo-20260102-030405'));
    mkdirSync(first, { recursive: true });
    const second = defaultRunDirectory(join(dir, 'child.rlhf.yaml'), 'ppo', undefined, when);
    assert.equal(basename(second), 'exp-one-2-ppo-20260102-030405-2');
    assert.equal(runFolderPrefix(join(dir, 'child.rlhf.yaml'), 'rm'), 'exp-one-2-rm');
    // No name anywhere: the file name less .rlhf.yaml, under the default output_dir `runs`.
    writeFileSync(join(dir, 'plain.rlhf.yaml'), 'seed: 2\n');
    const plain = defaultRunDirectory(join(dir, 'plain.rlhf.yaml'), 'sft', undefined, when);
    assert.equal(plain, join(dir, 'runs', 'plain-sft-20260102-030405'));
    assert.equal(dirname(defaultRunDirectory(join(dir, 'plain.rlhf.yaml'), 'sft', join(dir, 'elsewhere'), when)), join(dir, 'elsewhere'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('output_dir: ${VAR}, $VAR and ~ expanded as the trainer does (its loader is Python os.path)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'run-naming-env-'));
  const saved = { HOME: process.env.HOME, RUNS_ROOT: process.env.RUNS_ROOT };
  try {
    process.env.HOME = join(dir, 'home');
    process.env.RUNS_ROOT = join(dir, 'scratch');
    delete process.env.FACT_RLHF_UNSET_VAR;
    writeFileSync(join(dir, 'a.rlhf.yaml'), 'name: a\noutput_dir: ${HOME}/runs\n');
    assert.equal(defaultRunDirectory(join(dir, 'a.rlhf.yaml'), 'ppo', undefined, when), join(dir, 'home', 'runs', 'a-ppo-20260102-030405'));
    writeFileSync(join(dir, 'b.rlhf.yaml'), 'name: b\noutput_dir: $RUNS_ROOT/x\n');
    assert.equal(defaultRunDirectory(join(dir, 'b.rlhf.yaml'), 'sft', undefined, when), join(dir, 'scratch', 'x', 'b-sft-20260102-030405'));
    writeFileSync(join(dir, 'c.rlhf.yaml'), 'name: c\noutput_dir: ~/r\n');
    assert.equal(defaultRunDirectory(join(dir, 'c.rlhf.yaml'), 'rm', undefined, when), join(dir, 'home', 'r', 'c-rm-20260102-030405'));
    // The Python rule itself, compared string by string with the interpreter the trainer runs on.
    const env = { HOME: '/h/', A: 'x', A_1: 'y', '1': 'one', 'A B': 'sp' };
    const samples = [
      '${HOME}/runs',
      '$A/$A_1',
      '${A}${A_1}',
      '$UNSET/r',
      '${UNSET}',
      '~',
      '~/x',
      '~x/y',
      'a~/b',
      '$1',
      '${A B}',
      '${}',
      '$',
      'p$',
      '$A-b',
      '${A',
      'x/${A}/~',
    ];
    const py = spawnSync(
      'python3',
      [
        '-c',
        'import json,os,sys\nfor s in json.loads(sys.argv[1]): print(json.dumps(os.path.expanduser(os.path.expandvars(s))))',
        JSON.stringify(samples),
      ],
      { env: { ...env, PATH: process.env.PATH }, encoding: 'utf8' },
    );
    assert.equal(py.status, 0, py.stderr);
    const expected = py.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as string);
    assert.deepEqual(
      samples.map((s) => expandLikeTrainer(s, env)),
      expected,
    );
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
