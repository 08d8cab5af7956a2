// The host's alarm plumbing without VS Code: a run's events go through the health rules with the
// thresholds of its run.json; each alarm is announced once per run and rule (also when the run is
// opened again), reaches the view as an `alarms` notification and the snapshot, and makes the badge.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostToTraceWebview, RunEvent } from '../../src/protocol';
import { AlarmTracker, alarmNotification, flattenConfig } from '../../src/viewModels/alarmTracker';
import { exportBytes, safeFileName } from '../../src/viewModels/exports';
import { TraceHub } from '../../src/viewModels/traceHub';

/** 20 steps: length 40 for 8 steps, then falling to 0 from step 8 (the collapse signature). */
function collapsing(): RunEvent[] {
  return Array.from({ length: 20 }, (_, step) => ({
    v: 1,
    t: 1.7e9 + step,
    type: 'metric',
    step,
    values: { 'ppo/reward_total': -5 + 0.1 * Math.sin(step), 'ppo/response_length': step < 8 ? 40 : Math.max(0, 40 - 8 * (step - 7)) },
  })) as RunEvent[];
}

function runDir(monitor?: object): string {
  const dir = mkdtempSync(join(tmpdir(), 'alarm-run-'));
  const manifest = {
    id: 'r',
    stage: 'ppo',
    config: { ppo: { kl_coef: 0.1 }, ...(monitor ? { monitor } : {}) },
    config_hash: 'sha256:0',
    host: 'test',
    pids: [1],
    world_size: 1,
    started: 1.7e9,
    status: 'finished',
    protocol_version: 1,
  };
  writeFileSync(join(dir, 'run.json'), JSON.stringify(manifest));
  return dir;
}

test('a collapse is announced once, at the step it began, and stays announced when the run is re-tracked', () => {
  const dir = runDir();
  try {
    const tracker = new AlarmTracker();
    tracker.track('r', dir);
    const events = collapsing();
    const fresh = [...tracker.apply('r', events.slice(0, 12)), ...tracker.apply('r', events.slice(12)), ...tracker.finish('r')];
    const collapse = fresh.filter((a) => a.rule === 'collapse');
    assert.equal(collapse.length, 1, JSON.stringify(fresh));
    // Length drops below half its baseline (40) at step 10 (40 - 8*3 = 16 < 20).
    assert.equal(collapse[0].step, 10);
    assert.equal(collapse[0].severity, 'error');
    assert.deepEqual(
      tracker.alarmsOf('r').map((a) => a.rule),
      fresh.map((a) => a.rule),
    );

    // Opened again: the rules run afresh, but nothing is announced twice.
    tracker.track('r', dir);
    assert.deepEqual([...tracker.apply('r', events), ...tracker.finish('r')], []);
    assert.equal(tracker.alarmsOf('r').length, fresh.length);

    const badge = tracker.badge();
    assert.ok(badge);
    assert.equal(badge.value, fresh.length);
    assert.match(badge.tooltip, /r: collapse at step 10/);
    const note = alarmNotification('r', collapse[0]);
    assert.equal(note.action, 'Show samples at step 10');
    assert.match(note.message, /^Fact-RLHF run r: collapse from step 10\. Mean response length fell/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('thresholds come from the monitor: section of run.json', () => {
  const off = runDir({ collapse: { enabled: false } });
  const strict = runDir({ collapse: { length_ratio: 0.99 } });
  try {
    const tracker = new AlarmTracker();
    tracker.track('off', off);
    tracker.track('strict', strict);
    const events = collapsing();
    assert.ok(![...tracker.apply('off', events), ...tracker.finish('off')].some((a) => a.rule === 'collapse'));
    // length_ratio 0.99: the first step below the baseline already counts.
    const s = [...tracker.apply('strict', events), ...tracker.finish('strict')].find((a) => a.rule === 'collapse');
    assert.ok(s);
    assert.equal(s.detectedAt, 8);
  } finally {
    rmSync(off, { recursive: true, force: true });
    rmSync(strict, { recursive: true, force: true });
  }
});

test('a bad monitor: section is logged and the defaults are used', () => {
  const dir = runDir({ no_such_rule: { x: 1 } });
  try {
    const log: string[] = [];
    const tracker = new AlarmTracker((l) => log.push(l));
    tracker.track('r', dir);
    const raised = [...tracker.apply('r', collapsing()), ...tracker.finish('r')];
    assert.ok(raised.some((a) => a.rule === 'collapse'));
    assert.match(log.join('\n'), /monitor\.no_such_rule: no such health rule/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the hub sends alarms to the view at once and in the snapshot, with wall times and the flattened config', () => {
  const dir = runDir();
  try {
    const sent: HostToTraceWebview[] = [];
    const hub = new TraceHub((m) => sent.push(m), 50);
    const announced: string[] = [];
    hub.onAlarm = (runId, a) => announced.push(`${runId}:${a.rule}@${a.step}`);
    hub.track('r', dir, 'ppo');
    hub.apply('r', collapsing());
    assert.deepEqual(announced, ['r:collapse@10']);
    const note = sent.find((m) => m.type === 'alarms');
    assert.ok(note && note.type === 'alarms');
    assert.deepEqual(
      note.alarms.map((a) => a.rule),
      ['collapse'],
    );

    hub.sendSnapshot();
    const snap = sent.find((m) => m.type === 'snapshot');
    assert.ok(snap && snap.type === 'snapshot');
    const run = snap.runs[0];
    assert.deepEqual(
      run.alarms?.map((a) => a.step),
      [10],
    );
    assert.deepEqual(Array.from(run.times?.['ppo/reward_total'] ?? []).slice(0, 3), [1.7e9, 1.7e9 + 1, 1.7e9 + 2]);
    assert.equal(run.times?.['ppo/reward_total'].length, run.series['ppo/reward_total'].steps.length);
    assert.equal(run.config?.['ppo.kl_coef'], '0.1');

    // The finished status does not announce the same alarm again.
    hub.setStatus('r', 'finished');
    assert.deepEqual(announced, ['r:collapse@10']);
    hub.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a finished run folder opened in the hub is judged whole', async () => {
  const dir = runDir();
  try {
    const lines = [
      { v: 1, t: 1.7e9 - 1, type: 'status', status: 'running' },
      ...collapsing(),
      { v: 1, t: 1.7e9 + 30, type: 'status', status: 'finished' },
    ];
    writeFileSync(join(dir, 'events.jsonl'), `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    mkdirSync(join(dir, 'samples'));
    const hub = new TraceHub(() => undefined, 50);
    const announced: string[] = [];
    hub.onAlarm = (runId, a) => announced.push(`${runId}:${a.rule}`);
    assert.equal(await hub.open(dir), 'r');
    assert.deepEqual(announced, ['r:collapse']);
    hub.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('config flattening and export payloads', () => {
  assert.deepEqual(flattenConfig({ a: { b: 1, c: [1, 2] }, d: 'x', e: null, f: {} }), {
    'a.b': '1',
    'a.c': '[1,2]',
    d: '"x"',
    e: 'null',
    f: '{}',
  });
  assert.equal(exportBytes({ format: 'csv', suggestedName: 'a.csv', data: 'step,value\n1,2\n' }).toString('utf8'), 'step,value\n1,2\n');
  assert.throws(
    () => exportBytes({ format: 'png', suggestedName: 'a.png', data: Buffer.from('not a png').toString('base64') }),
    /not a PNG/,
  );
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2]);
  assert.deepEqual(exportBytes({ format: 'png', suggestedName: 'a.png', data: png.toString('base64') }), png);
  assert.equal(safeFileName('../../etc/ppo:reward', 'png'), 'ppo-reward.png');
  assert.equal(safeFileName('traces.CSV', 'csv'), 'traces.CSV');
  assert.equal(safeFileName('', 'csv'), 'reward-traces.csv');
});
