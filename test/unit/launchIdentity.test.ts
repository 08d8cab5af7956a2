// Which process Stop may signal: only the latest launch in run.json, only while it is still the
// same process (host, pid, start time), never pid 0, 1 or a negative one.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { checkLaunch, latestLaunch, processStartTime } from '../../src/runs/launchIdentity';
import type { RunManifest } from '../../src/protocol';

const linux = process.platform === 'linux';

test('pid 0, 1 and negative pids are never a trainer to signal', () => {
  for (const pid of [0, 1, -1, -42, 1.5]) {
    const check = checkLaunch({ host: hostname(), pid, start_time: 1 });
    assert.equal(check.ok, false, `pid ${pid}`);
    if (!check.ok) assert.match(check.reason, /not a trainer's/);
  }
});

test('a launch on another host is not signalled', () => {
  const check = checkLaunch({ host: `${hostname()}-elsewhere`, pid: process.pid, start_time: processStartTime(process.pid) });
  assert.equal(check.ok, false);
});

test('Linux: the start time from /proc tells the launch from a process that reused its pid', { skip: !linux }, async () => {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    await new Promise((r) => child.once('spawn', r));
    const pid = child.pid!;
    const started = processStartTime(pid);
    assert.ok(Number.isInteger(started) && started! > 0, `start time read (${started})`);
    assert.deepEqual(checkLaunch({ host: hostname(), pid, start_time: started }), { ok: true, pid });
    const reused = checkLaunch({ host: hostname(), pid, start_time: started! - 1 });
    assert.equal(reused.ok, false, 'same pid, other start time: another process');
    if (!reused.ok) assert.equal(reused.alive, false, 'and the launch itself is gone');
    const unknown = checkLaunch({ host: hostname(), pid, start_time: null });
    assert.ok(!unknown.ok && unknown.alive, 'no start time recorded: alive but not confirmed');
  } finally {
    child.kill('SIGKILL');
  }
});

test('without /proc a launch is confirmed by the nonce this editor gave it', async () => {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    await new Promise((r) => child.once('spawn', r));
    const launch = { host: hostname(), pid: child.pid!, nonce: 'n-1' };
    assert.deepEqual(checkLaunch(launch, { platform: 'darwin', nonce: 'n-1' }), { ok: true, pid: child.pid });
    assert.equal(checkLaunch(launch, { platform: 'darwin', nonce: 'n-2' }).ok, false);
    assert.equal(checkLaunch(launch, { platform: 'darwin' }).ok, false);
  } finally {
    child.kill('SIGKILL');
  }
});

test('latestLaunch is the last entry (the current --resume), not the first', () => {
  const manifest = {
    launches: [
      { host: 'h', pid: 10 },
      { host: 'h', pid: 20 },
    ],
  } as unknown as RunManifest;
  assert.equal(latestLaunch(manifest)?.pid, 20);
  assert.equal(latestLaunch({ pids: [10, 20] } as unknown as RunManifest), undefined);
});
