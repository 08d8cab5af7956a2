// The trainer-environment set-up runner over a real bash script: the target reaches it as
// FACT_RLHF_VENV (a path with spaces and $(…) stays one literal value), its lines stream as they
// come, a failure keeps its explanation, and cancelling ends the script and its children.
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTrainerSetup, venvInterpreter } from '../../src/runs/trainerSetup';
import { isAlive } from '../../src/runs/launchIdentity';

const work = mkdtempSync(join(tmpdir(), 'fact-rlhf-setup-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const file = join(work, name);
  writeFileSync(file, `set -eu\n${body}\n`);
  return file;
}

test("streams the script's lines and passes the target and the base interpreter through", async () => {
  const venv = join(work, 'my $(touch PWNED) env', '.venv');
  const s = script('ok.sh', 'echo "venv=$FACT_RLHF_VENV"\necho "python=${PYTHON:-none}"\necho oops >&2\nprintf "no newline"');
  const lines: string[] = [];
  const r = await runTrainerSetup({ script: s, venv, basePython: '/opt/py 3/bin/python3', onLine: (l) => lines.push(l) });
  assert.equal(r.ok, true);
  assert.equal(r.python, venvInterpreter(venv));
  assert.ok(lines.includes(`venv=${venv}`), lines.join('|'));
  assert.ok(lines.includes('python=/opt/py 3/bin/python3'));
  assert.ok(lines.includes('oops') && lines.includes('no newline'));
  assert.ok(!existsSync(join(work, 'PWNED')) && !existsSync('PWNED'));
});

test('a failing script is not ok and keeps its last lines', async () => {
  const r = await runTrainerSetup({ script: script('fail.sh', 'echo "error: no mirror" >&2\nexit 3'), venv: join(work, 'v') });
  assert.equal(r.ok, false);
  assert.equal(r.cancelled, false);
  assert.equal(r.exitCode, 3);
  assert.deepEqual(r.tail, ['error: no mirror']);
});

test('cancelling stops the script and the processes it started', async () => {
  const pidFile = join(work, 'child.pid');
  const s = script('slow.sh', `sleep 30 &\necho $! > '${pidFile}'\necho started\nwait`);
  const ac = new AbortController();
  const started = Date.now();
  const r = await runTrainerSetup({ script: s, venv: join(work, 'v2'), signal: ac.signal, onLine: (l) => l === 'started' && ac.abort() });
  assert.equal(r.cancelled, true);
  assert.equal(r.ok, false);
  assert.ok(Date.now() - started < 10_000, 'did not wait for the sleep');
  const pid = Number(readFileSync(pidFile, 'utf8'));
  await new Promise((res) => setTimeout(res, 200));
  assert.equal(isAlive(pid), false, "the script's child was stopped too (a zombie awaiting its reaper counts as stopped)");
});
