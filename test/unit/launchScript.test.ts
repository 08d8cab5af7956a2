// The one quoting function and the launch scripts built with it: hostile paths reach torchrun as
// exact argv words, and nothing in them is executed by the shell that runs the script.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shCommand, shQuote, ShellQuoteError } from '../../src/runs/shellQuote';
import { launchScript, LaunchScriptError, type LaunchScriptOptions } from '../../src/runs/launchScript';

const HOSTILE = [
  '',
  'plain',
  'two words',
  "it's",
  "''",
  '"double" quotes',
  '$(touch PWNED)',
  '`touch PWNED`',
  'a; touch PWNED',
  'a && touch PWNED | cat > x',
  'line one\nline two\n',
  '$HOME ${PATH} $1 $@ $? \\ \\\\',
  '*?[a-z]~ #not a comment',
  'mixed \'$(x)\' "`y`" ; \n end',
];

/** What sh sees when it parses `printf '%s\0' <quoted>`: the exact bytes, or the test fails. */
function shellWords(script: string, cwd: string): string[] {
  const res = spawnSync('sh', ['-c', script], { cwd, encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  return res.stdout.split('\0').slice(0, -1);
}

test('shQuote: every value comes back from sh byte for byte, and nothing in it runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fact-rlhf-quote-'));
  try {
    for (const value of HOSTILE) {
      assert.deepEqual(shellWords(`printf '%s\\0' ${shQuote(value)}`, dir), [value], JSON.stringify(value));
    }
    assert.deepEqual(shellWords(`printf '%s\\0' ${shCommand(HOSTILE)}`, dir), HOSTILE);
    assert.deepEqual(readdirSync(dir), [], 'no file was created by a substitution');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('shQuote: the form of the quoting', () => {
  assert.equal(shQuote(''), "''");
  assert.equal(shQuote('a b'), "'a b'");
  assert.equal(shQuote("it's"), "'it'\\''s'");
  assert.throws(() => shQuote('a\u0000b'), ShellQuoteError);
});

/** A folder whose name carries a command substitution, a backtick one, `;` and a quote. */
function hostileTree(): { root: string; evil: string } {
  const root = mkdtempSync(join(tmpdir(), 'fact-rlhf-launch-'));
  const evil = join(root, 'exp $(touch PWNED); `touch PWNED2`; echo \'x\' "y"');
  mkdirSync(evil, { recursive: true });
  return { root, evil };
}

/** A torchrun (and srun/scontrol) on PATH that records its argv, one word per NUL. */
function stubs(root: string): { bin: string; argvFile: string } {
  const bin = join(root, 'stub-bin');
  mkdirSync(bin);
  const argvFile = join(root, 'argv');
  writeFileSync(
    join(bin, 'torchrun'),
    `#!/bin/sh\nprintf '%s\\0' "$@" > "$STUB_ARGV"\nprintf '%s' "$PYTHONPATH" > "$STUB_ARGV.pythonpath"\n`,
    { mode: 0o755 },
  );
  // srun runs its command; scontrol names one host.
  writeFileSync(join(bin, 'srun'), '#!/bin/sh\nwhile [ "${1#-}" != "$1" ]; do shift; done\nexec "$@"\n', { mode: 0o755 });
  writeFileSync(join(bin, 'scontrol'), '#!/bin/sh\necho node-a\necho node-b\n', { mode: 0o755 });
  return { bin, argvFile };
}

function options(evil: string, backend: LaunchScriptOptions['backend']): LaunchScriptOptions {
  return {
    backend,
    stage: 'ppo',
    configPath: join(evil, 'my exp.rlhf.yaml'),
    runDir: join(evil, 'runs', 'tiny-ppo-1'),
    python: join(evil, 'venv', 'bin', 'python'),
    trainerRoot: join(evil, 'trainer'),
    schemaDir: join(evil, 'schema'),
    gpus: 2,
  };
}

for (const backend of ['torchrun', 'slurm'] as const) {
  test(`a ${backend} launch script for a folder named with $(…), backticks and ; runs without executing them`, () => {
    const { root, evil } = hostileTree();
    try {
      const { bin, argvFile } = stubs(root);
      const o = options(evil, backend);
      const script = join(root, 'launch.sh');
      writeFileSync(script, launchScript(o));
      const env = {
        ...process.env,
        PATH: `${bin}:/usr/bin:/bin`,
        STUB_ARGV: argvFile,
        SLURM_JOB_NODELIST: 'node-[a-b]',
        SLURM_NNODES: '2',
        SLURM_JOB_ID: '77',
        PYTHONPATH: '',
      };
      const res = spawnSync('bash', [script], { cwd: root, env, encoding: 'utf8' });
      assert.equal(res.status, 0, res.stderr);
      const argv = readFileSync(argvFile, 'utf8').split('\0').slice(0, -1);
      const tail = ['-m', 'fact_rlhf', 'ppo', '--config', o.configPath, '--run-dir', o.runDir];
      assert.deepEqual(argv.slice(-tail.length), tail, 'the exact paths reach torchrun');
      if (backend === 'torchrun') assert.deepEqual(argv.slice(0, 2), ['--standalone', '--nproc_per_node=2']);
      else
        assert.deepEqual(argv.slice(0, 6), [
          '--nnodes',
          '2',
          '--nproc_per_node=2',
          '--rdzv-backend=c10d',
          '--rdzv-endpoint=node-a:29500',
          '--rdzv-id=77',
        ]);
      assert.equal(readFileSync(`${argvFile}.pythonpath`, 'utf8'), o.trainerRoot);
      assert.ok(existsSync(o.runDir), 'the run folder was made under the hostile name');
      for (const where of [root, evil, process.cwd()]) {
        assert.ok(!existsSync(join(where, 'PWNED')) && !existsSync(join(where, 'PWNED2')), `nothing was executed (checked in ${where})`);
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
}

test('sbatch script: #SBATCH lines hold only numbers and a sanitised job name, before any command', () => {
  const script = launchScript({ ...options('/x/$(touch PWNED)', 'slurm'), nodes: 3, jobName: 'job $(rm -rf ~); x' });
  const lines = script.split('\n');
  assert.equal(lines[0], '#!/bin/bash');
  const sbatch = lines.filter((l) => l.startsWith('#SBATCH'));
  assert.deepEqual(sbatch, [
    '#SBATCH --job-name=job_rm_-rf_x',
    '#SBATCH --nodes=3',
    '#SBATCH --ntasks-per-node=1',
    '#SBATCH --gpus-per-node=2',
  ]);
  // sbatch stops reading directives at the first command line.
  const firstCommand = lines.findIndex((l, i) => i > 0 && l && !l.startsWith('#'));
  assert.ok(lines.slice(firstCommand).every((l) => !l.startsWith('#SBATCH')));
});

test('launch scripts refuse bad counts', () => {
  assert.throws(() => launchScript({ ...options('/x', 'torchrun'), gpus: 0 }), LaunchScriptError);
  assert.throws(() => launchScript({ ...options('/x', 'torchrun'), gpus: 1.5 }), LaunchScriptError);
  assert.throws(() => launchScript({ ...options('/x', 'torchrun'), nodes: 2 }), /slurm/);
});
