// The pre-launch interpreter check against real interpreters: the repo's .venv (has torch) and
// the system python3 (Debian's has no torch), plus the first-error reading of real trainer output.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { clearProbeCache, firstErrorLine, probeInterpreter, whichPython } from '../../src/runs/interpreterProbe';

const ROOT = resolve(__dirname, '../..');
const VENV_PYTHON = join(ROOT, '.venv/bin/python');
const SYSTEM_PYTHON = '/usr/bin/python3';

function hasTorch(python: string): boolean {
  return spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
}

test('an interpreter without torch fails with the first import error and lists every missing module', async (t) => {
  if (!existsSync(SYSTEM_PYTHON) || hasTorch(SYSTEM_PYTHON)) return t.skip(`${SYSTEM_PYTHON} is missing or has torch`);
  const result = await probeInterpreter(SYSTEM_PYTHON);
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.equal(result.reason, 'missing');
  assert.equal(result.firstError, "ModuleNotFoundError: No module named 'torch'");
  assert.ok(result.missing.includes('torch'), `missing: ${result.missing.join(', ')}`);
});

test('the project venv passes, and a second probe is answered from the cache', async (t) => {
  if (!existsSync(VENV_PYTHON)) return t.skip('no .venv (bash scripts/setup-python.sh)');
  clearProbeCache();
  const first = await probeInterpreter(VENV_PYTHON);
  assert.deepEqual(first, { ok: true, python: VENV_PYTHON });
  const t0 = performance.now();
  const second = await probeInterpreter(VENV_PYTHON);
  assert.equal(second.ok, true);
  assert.ok(performance.now() - t0 < 200, 'the cached probe started Python again');
});

test('a missing interpreter is "not-found" and names the path', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'probe-'));
  try {
    const result = await probeInterpreter(join(dir, 'no-python'));
    assert.equal(result.ok, false);
    if (!result.ok) {
      assert.equal(result.reason, 'not-found');
      assert.match(result.firstError, /no-python/);
    }
    assert.equal(whichPython('surely-no-such-python-3.99', dir), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a probe that outlives its timeout is reported as such, not as success', async (t) => {
  if (!existsSync(SYSTEM_PYTHON)) return t.skip('no system python3');
  // PYTHONSTARTUP is ignored with -c; a sleeping sitecustomize is not, so slow the start-up that way.
  const dir = mkdtempSync(join(tmpdir(), 'probe-slow-'));
  try {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'sitecustomize.py'), 'import time\ntime.sleep(5)\n');
    const result = await probeInterpreter(SYSTEM_PYTHON, { timeoutMs: 500, env: { ...process.env, PYTHONPATH: dir } });
    assert.equal(result.ok, false);
    if (!result.ok) {
      assert.equal(result.reason, 'broken');
      assert.match(result.firstError, /did not finish/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('firstErrorLine takes the trainer own first message, not the chained shutdown traceback', () => {
  // What the trainer printed on an interpreter without torch (2026-12), abridged.
  const stderr = [
    'trainer exited with code 1:',
    "error: missing Python package 'torch': pip install torch",
    "missing Python package 'peft': pip install peft",
    'Traceback (most recent call last):',
    '  File "/x/fact_rlhf/distributed.py", line 266, in shutdown',
    '    import torch.distributed as dist',
    "ModuleNotFoundError: No module named 'torch'",
  ].join('\n');
  assert.equal(firstErrorLine(stderr), "missing Python package 'torch': pip install torch");
  const chained = [
    'Traceback (most recent call last):',
    '  File "a.py", line 1, in <module>',
    'ValueError: the real cause',
    '',
    'During handling of the above exception, another exception occurred:',
    '',
    'Traceback (most recent call last):',
    "ModuleNotFoundError: No module named 'torch'",
  ].join('\n');
  assert.equal(firstErrorLine(chained), 'ValueError: the real cause');
  assert.equal(firstErrorLine('/x/warnings.py:1: UserWarning: noise\nRuntimeError: boom'), 'RuntimeError: boom');
  assert.equal(firstErrorLine(''), undefined);
});

test('the failure toast line is the error, never a stack frame (issue 16), and never empty', () => {
  const framed =
    'ValueError: rollout_batch_size must divide by 8\n  at loop.py:41 in run\n  at ppo.py:120 in step\n  at ppo.py:88 in _rollout';
  assert.equal(firstErrorLine(framed), 'ValueError: rollout_batch_size must divide by 8');
  const died = [
    'trainer exited with code 1:',
    'Traceback (most recent call last):',
    '  File "/x/fact_rlhf/cli.py", line 10, in main',
    '    run()',
    'RuntimeError: CUDA out of memory',
  ].join('\n');
  assert.equal(firstErrorLine(died), 'RuntimeError: CUDA out of memory');
  assert.equal(firstErrorLine('trainer exited with code 2:\nerror: config: no such file\n'), 'config: no such file');
  assert.equal(
    firstErrorLine('trainer was killed by SIGKILL without writing a final status'),
    'trainer was killed by SIGKILL without writing a final status',
  );
});
