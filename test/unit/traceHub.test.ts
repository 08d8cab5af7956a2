import test from 'node:test';
import assert from 'node:assert/strict';
import { TraceHub } from '../../src/viewModels/traceHub';
import type { HostToTraceWebview, RunEvent } from '../../src/protocol';

const metric = (step: number, reward: number): RunEvent => ({
  v: 1,
  t: step,
  type: 'metric',
  step,
  values: { 'ppo/reward_total': reward },
});

test('snapshot then batched deltas carry every point exactly once', async () => {
  const sent: HostToTraceWebview[] = [];
  const hub = new TraceHub((m) => sent.push(m), 20);
  hub.track('run-a', '/tmp/run-a', 'ppo');
  hub.apply('run-a', [metric(1, -2), metric(2, -1)]);
  hub.sendSnapshot();
  assert.equal(sent.length, 1);
  const snap = sent[0];
  assert.ok(snap.type === 'snapshot');
  // Columns are Float64Arrays now; the points are compared as plain numbers.
  const first = snap.runs[0].series['ppo/reward_total'];
  assert.deepEqual({ steps: Array.from(first.steps), values: Array.from(first.values) }, { steps: [1, 2], values: [-2, -1] });

  for (let s = 3; s <= 10; s++) hub.apply('run-a', [metric(s, s)]);
  await new Promise((r) => setTimeout(r, 120));
  const deltas = sent.filter((m) => m.type === 'delta');
  assert.ok(deltas.length >= 1 && deltas.length <= 3, `batched: ${deltas.length} deltas for 8 events`);
  const steps = deltas.flatMap((d) => (d.type === 'delta' ? Array.from(d.series['ppo/reward_total'].steps) : []));
  assert.deepEqual(steps, [3, 4, 5, 6, 7, 8, 9, 10]);
  hub.dispose();
});

test('status changes reach the webview with the error text', async () => {
  const sent: HostToTraceWebview[] = [];
  const hub = new TraceHub((m) => sent.push(m), 50);
  hub.track('r', '/tmp/r', 'ppo');
  hub.sendSnapshot();
  hub.setStatus('r', 'failed', 'CUDA out of memory');
  await new Promise((r) => setTimeout(r, 60));
  const status = sent.find((m) => m.type === 'status');
  assert.ok(status && status.type === 'status');
  assert.equal(status.run.status, 'failed');
  assert.equal(status.run.error, 'CUDA out of memory');
  hub.dispose();
});

test('a clicked step maps to the nearest sample-record file of that run', () => {
  const hub = new TraceHub(() => undefined, 4);
  hub.track('r', '/runs/r', 'ppo');
  hub.apply('r', [
    { v: 1, t: 1, type: 'sample', step: 2, path: 'samples/step-000002.jsonl', count: 4 },
    { v: 1, t: 2, type: 'sample', step: 6, path: 'samples/step-000006.jsonl', count: 4 },
  ]);
  assert.deepEqual(hub.sampleFileNear('r', 5), { step: 6, path: '/runs/r/samples/step-000006.jsonl' });
  assert.deepEqual(hub.sampleFileNear('r', 1), { step: 2, path: '/runs/r/samples/step-000002.jsonl' });
  assert.equal(hub.sampleFileNear('other', 1), undefined);
  hub.dispose();
});

test("a replaced events.jsonl restarts the run: the next snapshot holds only the new file's points", () => {
  const sent: HostToTraceWebview[] = [];
  const hub = new TraceHub((m) => sent.push(m), 20);
  hub.track('r', '/tmp/r', 'ppo');
  hub.apply('r', [metric(1, -2), metric(2, -1), metric(3, 0)]);
  hub.restart('r');
  const snap = sent.at(-1);
  assert.ok(snap?.type === 'snapshot', 'a restart sends a whole snapshot (deltas only append)');
  assert.equal(snap.runs[0].series['ppo/reward_total'], undefined, 'the old points are gone');
  hub.apply('r', [metric(1, 5)]);
  hub.sendSnapshot();
  const again = sent.at(-1);
  assert.ok(again?.type === 'snapshot');
  const points = again.runs[0].series['ppo/reward_total'];
  assert.deepEqual({ steps: Array.from(points.steps), values: Array.from(points.values) }, { steps: [1], values: [5] });
  hub.dispose();
});

test('sample files named by events are confined to the run folder', () => {
  const hub = new TraceHub(() => undefined, 20);
  hub.track('r', '/tmp/run-r', 'ppo');
  const sample = (step: number, path: string): RunEvent => ({ v: 1, t: step, type: 'sample', step, path, count: 1 }) as RunEvent;
  hub.apply('r', [sample(1, 'samples/step-1.jsonl')]);
  assert.deepEqual(hub.sampleFileNear('r', 1), { step: 1, path: '/tmp/run-r/samples/step-1.jsonl' });
  hub.apply('r', [sample(2, '../../etc/passwd')]);
  assert.equal(hub.sampleFileNear('r', 2)?.path.includes('passwd') ?? false, false, 'a path that climbs out opens nothing');
  hub.dispose();
});

test('a phase (no metric points yet) reaches the webview in a status message from the first event', async () => {
  const sent: HostToTraceWebview[] = [];
  const hub = new TraceHub((m) => sent.push(m), 50);
  hub.track('r', '/tmp/r', 'ppo');
  hub.sendSnapshot();
  hub.apply('r', [
    { v: 1, t: 1, type: 'status', status: 'starting' },
    { v: 1, t: 1.1, type: 'progress', step: 0, total: 0, eta: null, phase: 'setup' },
  ]);
  await new Promise((r) => setTimeout(r, 70));
  hub.apply('r', [{ v: 1, t: 5, type: 'progress', step: 3, total: 30, eta: 9, phase: 'reward_warmup' }]);
  await new Promise((r) => setTimeout(r, 70));
  const progress = sent.flatMap((m) => (m.type === 'status' ? [m.run.progress] : []));
  assert.deepEqual(progress, [
    { step: 0, total: 0, eta: null, phase: 'setup' },
    { step: 3, total: 30, eta: 9, phase: 'reward_warmup' },
  ]);
  hub.dispose();
});

test('typed arrays end to end: Float64Array columns (null as NaN) survive a structured clone and the contract', async () => {
  const { rewardTracesContract } = await import('../../src/protocol/webviews/rewardTraces');
  const { decodeForView } = await import('../../src/protocol/ipc');
  const sent: HostToTraceWebview[] = [];
  const hub = new TraceHub((m) => sent.push(m), 1000);
  hub.track('r', '/tmp/r', 'ppo');
  hub.apply('r', [
    metric(0, 0.5),
    { v: 1, t: 1, type: 'metric', step: 1, values: { 'ppo/reward_total': null, 'ppo/kl_sum': 0.25 } },
    metric(2, 1.5),
  ]);
  hub.sendSnapshot();
  // A null metric trips the NaN health rule, whose alarm notification goes out first.
  const snap = sent.find((m) => m.type === 'snapshot')!;
  assert.ok(snap.type === 'snapshot');
  const reward = snap.runs[0].series['ppo/reward_total'];
  assert.ok(reward.steps instanceof Float64Array && reward.values instanceof Float64Array, 'the host sends typed arrays');
  // Exact-size arrays: a view over a larger buffer would carry the whole buffer through postMessage.
  assert.equal(reward.steps.buffer.byteLength, 3 * 8);
  // What postMessage does to it (structured clone keeps the typed arrays and NaN).
  const cloned = structuredClone(snap);
  const decoded = decodeForView(rewardTracesContract, cloned);
  assert.equal(decoded.kind, 'notification', JSON.stringify(decoded));
  const got = cloned.runs[0].series['ppo/reward_total'];
  assert.ok(got.values instanceof Float64Array);
  assert.deepEqual(Array.from(got.steps), [0, 1, 2]);
  assert.equal(got.values[0], 0.5);
  assert.ok(Number.isNaN(got.values[1]), 'null travels as NaN');
  assert.equal(got.values[2], 1.5);
  assert.deepEqual(Array.from(cloned.runs[0].series['ppo/kl_sum'].steps), [1]);
  assert.equal(hub.lastValue('r', 'ppo/reward_total'), 1.5);
  hub.apply('r', [{ v: 1, t: 3, type: 'metric', step: 3, values: { 'ppo/reward_total': null } }]);
  assert.equal(hub.lastValue('r', 'ppo/reward_total'), null, 'a null last value reads back as null, not NaN');
  hub.flush();
  const delta = sent.find((m) => m.type === 'delta');
  assert.ok(delta && delta.type === 'delta');
  const d = structuredClone(delta).series['ppo/reward_total'];
  assert.ok(d.steps instanceof Float64Array);
  assert.deepEqual(Array.from(d.steps), [3]);
  assert.ok(Number.isNaN(d.values[0]));
  // A string smuggled into a column is still refused.
  assert.equal(
    decodeForView(rewardTracesContract, { type: 'delta', runId: 'r', series: { k: { steps: new Float64Array([1]), values: ['x'] } } }).kind,
    'invalid',
  );
  hub.dispose();
});

test('opening a finished run yields to the event loop while it reads (issue 16: the host must not block)', async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'fact-rlhf-open-'));
  try {
    // ~6 MB of metric lines: several 1 MiB slices.
    const lines: string[] = [];
    for (let s = 1; s <= 40_000; s++) lines.push(JSON.stringify(metric(s, s / 1000)).replace('}}', `,"pad/x":${'1'.repeat(80)}}}`));
    writeFileSync(join(dir, 'events.jsonl'), `${lines.join('\n')}\n`);
    const hub = new TraceHub(() => undefined, 20);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const opening = hub.open(dir);
    const runId = await opening;
    clearInterval(timer);
    assert.ok(ticks > 0, 'timers ran while the run was being read');
    assert.equal(hub.lastValue(runId, 'ppo/reward_total'), 40);
    hub.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
