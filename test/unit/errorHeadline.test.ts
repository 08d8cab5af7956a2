// The failure notification's line (src/runs/errorHeadline.ts): the error, never a stack frame.
import test from 'node:test';
import assert from 'node:assert/strict';
import { errorHeadline } from '../../src/runs/errorHeadline';

test("the trainer's error text: its first line, the exception, not the innermost frame", () => {
  const text = 'ValueError: rollout_batch_size must divide by 8\n  at loop.py:41 in run\n  at ppo.py:120 in step\n  at ppo.py:88 in _rollout';
  assert.equal(errorHeadline(text), 'ValueError: rollout_batch_size must divide by 8');
});

test('a trainer that died without a status: the exit and the exception at the end of its traceback', () => {
  const text = [
    'trainer exited with code 1:',
    'Traceback (most recent call last):',
    '  File "/x/fact_rlhf/cli.py", line 10, in main',
    '    run()',
    '  File "/x/fact_rlhf/ppo.py", line 3, in run',
    '    raise RuntimeError("CUDA out of memory")',
    'RuntimeError: CUDA out of memory',
  ].join('\n');
  assert.equal(errorHeadline(text), 'trainer exited with code 1: RuntimeError: CUDA out of memory');
  assert.equal(errorHeadline('trainer exited with code 2:\nerror: config: no such file\n'), 'trainer exited with code 2: error: config: no such file');
  assert.equal(errorHeadline('trainer was killed by SIGKILL without writing a final status'), 'trainer was killed by SIGKILL without writing a final status');
});

test('empty, undefined and very long errors', () => {
  assert.equal(errorHeadline(undefined), 'unknown error');
  assert.equal(errorHeadline('\n\n'), 'unknown error');
  const long = errorHeadline(`OSError: ${'x'.repeat(1000)}`);
  assert.equal(long.length, 300);
  assert.ok(long.endsWith('…'));
});
