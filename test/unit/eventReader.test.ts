import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, appendFileSync, rmSync, renameSync, truncateSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { EventFileReader } from '../../src/runs/eventReader';
import { appendEventLine } from '../../src/runs/runManager';

const metric = (step: number, reward: number): string =>
  JSON.stringify({ v: 1, t: 1700000000 + step, type: 'metric', step, values: { 'ppo/reward_total': reward, 'ppo/kl_sum': 0.01 * step } });

function tempFile(): { path: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'fact-rlhf-reader-'));
  return { path: join(dir, 'events.jsonl'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('reads only appended bytes and keeps a torn last line until it completes', () => {
  const { path, cleanup } = tempFile();
  try {
    const reader = new EventFileReader(path);
    assert.deepEqual(reader.readNew().events, [], 'missing file reads as empty');
    writeFileSync(path, `${metric(1, -3)}\n${metric(2, -2)}\n`);
    const first = reader.readNew();
    assert.equal(first.events.length, 2);
    const line3 = metric(3, -1);
    appendFileSync(path, line3.slice(0, 20)); // torn: the writer has not flushed the rest yet
    assert.equal(reader.readNew().events.length, 0);
    assert.equal(reader.corruptCount, 0, 'a torn line is not corrupt');
    appendFileSync(path, `${line3.slice(20)}\n`);
    const third = reader.readNew();
    assert.equal(third.events.length, 1);
    const e = third.events[0];
    assert.equal(e.type, 'metric');
    if (e.type === 'metric') assert.equal(e.values['ppo/reward_total'], -1);
    assert.equal(reader.bytesConsumed, (metric(1, -3) + metric(2, -2) + line3).length + 3);
  } finally {
    cleanup();
  }
});

test('skips and counts corrupt and schema-invalid lines without losing valid ones', () => {
  const { path, cleanup } = tempFile();
  try {
    writeFileSync(
      path,
      [
        metric(1, 0.5),
        '{"v":1,"t":1,"type":"metric","step":2,"values":{"ppo/reward_total":', // truncated garbage line
        '{"v":1,"t":1,"type":"metric","step":"three","values":{}}', // wrong type
        '{"v":1,"t":1,"type":"status","status":"failed"}', // failed without error text
        '',
        metric(4, 0.9),
      ].join('\n') + '\n',
    );
    const reader = new EventFileReader(path);
    const r = reader.readNew();
    assert.deepEqual(
      r.events.map((e) => (e.type === 'metric' ? e.step : -1)),
      [1, 4],
    );
    assert.equal(reader.corruptCount, 3);
    assert.deepEqual(
      r.corrupt.map((c) => c.line),
      [2, 3, 4],
    );
    assert.match(r.corrupt[1].error, /step/);
  } finally {
    cleanup();
  }
});

test('a line appended after a torn tail (killed writer) starts on its own line', () => {
  const { path, cleanup } = tempFile();
  try {
    writeFileSync(path, `${metric(1, 1)}\n{"v":1,"t":2,"ty`);
    appendEventLine(path, JSON.stringify({ v: 1, t: 3, type: 'status', status: 'failed', error: 'killed' }));
    const reader = new EventFileReader(path);
    const r = reader.readNew();
    assert.equal(r.events.length, 2);
    assert.equal(r.events[1].type, 'status');
    assert.equal(reader.corruptCount, 1);
  } finally {
    cleanup();
  }
});

test('multi-byte UTF-8 split across reads is decoded intact', () => {
  const { path, cleanup } = tempFile();
  try {
    const line = JSON.stringify({ v: 1, t: 1, type: 'log', level: 'info', message: 'reward ↑ für 🦙' });
    const bytes = Buffer.from(`${line}\n`, 'utf8');
    const cut = bytes.indexOf(Buffer.from('🦙', 'utf8')) + 2; // inside the 4-byte emoji
    writeFileSync(path, bytes.subarray(0, cut));
    const reader = new EventFileReader(path);
    assert.equal(reader.readNew().events.length, 0);
    appendFileSync(path, bytes.subarray(cut));
    const [e] = reader.readNew().events;
    assert.ok(e && e.type === 'log');
    if (e.type === 'log') assert.equal(e.message, 'reward ↑ für 🦙');
  } finally {
    cleanup();
  }
});

test('the metric fast path agrees with the schema (ajv) on valid and invalid events', async () => {
  const { isValidMetricEventFast } = await import('../../src/runs/schemaValidation');
  const Ajv = (await import('ajv')).default;
  const schema = (await import('../../schema/run-event.schema.json')).default;
  const ajv = new Ajv({ strict: false }).compile(schema);
  const base = { v: 1, t: 1.5, type: 'metric', step: 3, values: { 'ppo/reward_total': 1, 'time/generation': null } };
  const cases: unknown[] = [
    base,
    { ...base, values: {} },
    { ...base, v: 2 },
    { ...base, t: '1' },
    { ...base, step: -1 },
    { ...base, step: 1.5 },
    { ...base, extra: 1 },
    { ...base, values: { reward: 1 } }, // key without a group
    { ...base, values: { 'ppo/x': '1' } },
    { ...base, values: { 'ppo/a b': 1 } },
    { ...base, values: [] },
    { v: 1, t: 1, type: 'metric', values: {} },
    { ...base, type: 'log' },
    null,
  ];
  for (const c of cases) {
    const fast = isValidMetricEventFast(c);
    if (fast) assert.equal(ajv(c), true, `fast path accepted what the schema rejects: ${JSON.stringify(c)}`);
    if (c && (c as { type?: string }).type === 'metric') assert.equal(fast, ajv(c), JSON.stringify(c));
  }
});

// ---- faults from the audit (issue 16) -------------------------------------------------------------

const status = (s: string, t = 1): string => JSON.stringify({ v: 1, t, type: 'status', status: s });
const steps = (events: { type: string; step?: number }[]): number[] => events.filter((e) => e.type === 'metric').map((e) => e.step ?? -1);

test('a replaced events.jsonl (new file, longer) is noticed: reading starts over with a reset', () => {
  const { path, cleanup } = tempFile();
  try {
    writeFileSync(path, Array.from({ length: 100 }, (_, i) => metric(i, i)).join('\n') + '\n');
    const reader = new EventFileReader(path);
    assert.equal(reader.readNew().events.length, 100);
    // Another writer replaces the log (write a new file, rename it over): 300 other lines.
    const replacement = `${path}.new`;
    writeFileSync(replacement, Array.from({ length: 300 }, (_, i) => metric(1000 + i, -i)).join('\n') + '\n');
    renameSync(replacement, path);
    const r = reader.readNew();
    assert.equal(r.reset, true, 'the reader reports the reset');
    assert.deepEqual(
      steps(r.events),
      Array.from({ length: 300 }, (_, i) => 1000 + i),
      'all 300 complete lines, none lost',
    );
    assert.equal(reader.resetCount, 1);
    assert.equal(reader.readNew().reset, undefined, 'the next read continues normally');
  } finally {
    cleanup();
  }
});

test('a regrown events.jsonl (truncated in place, then longer than before) is read from its start', () => {
  const { path, cleanup } = tempFile();
  try {
    writeFileSync(path, Array.from({ length: 100 }, (_, i) => metric(i, i)).join('\n') + '\n');
    const reader = new EventFileReader(path);
    assert.equal(reader.readNew().events.length, 100);
    truncateSync(path, 0); // same inode: only its contents tell
    appendFileSync(path, Array.from({ length: 300 }, (_, i) => metric(5000 + i, i)).join('\n') + '\n');
    const r = reader.readNew();
    assert.equal(r.reset, true);
    assert.equal(r.events.length, 300);
    assert.equal(reader.corruptCount, 0, 'no line read from the middle of another line');
  } finally {
    cleanup();
  }
});

test('a line over the 64 MiB limit is skipped and counted; the lines after it arrive', async () => {
  const { MAX_LINE_BYTES } = await import('../../src/runs/eventReader');
  const { path, cleanup } = tempFile();
  try {
    assert.ok(MAX_LINE_BYTES, 'the limit is exported');
    assert.equal(MAX_LINE_BYTES, 64 * 1024 * 1024, 'the documented limit');
    const huge = JSON.stringify({ v: 1, t: 1, type: 'log', level: 'info', message: 'x'.repeat(MAX_LINE_BYTES + 1024) });
    writeFileSync(path, `${metric(1, 1)}\n`);
    appendFileSync(path, huge.slice(0, 40 * 1024 * 1024)); // torn: the reader holds it for now
    const reader = new EventFileReader(path);
    assert.deepEqual(steps(reader.readNew().events), [1]);
    appendFileSync(path, `${huge.slice(40 * 1024 * 1024)}\n${metric(3, 3)}\n`);
    const r = reader.readNew();
    assert.deepEqual(steps(r.events), [3], 'the event after the over-long line is delivered');
    assert.equal(reader.corruptCount, 1);
    assert.equal(r.corrupt[0].line, 2);
    assert.match(r.corrupt[0].error, /longer than the 64\.0 MiB limit/);
    appendFileSync(path, `${metric(4, 4)}\n`);
    assert.deepEqual(steps(reader.readNew().events), [4], 'line counting and offsets stay right after the skip');
    assert.equal(reader.bytesConsumed, statSync(path).size);
  } finally {
    cleanup();
  }
});

test('an over-long line that never ends does not grow the buffer: later polls stay cheap', () => {
  const { path, cleanup } = tempFile();
  try {
    const reader = new EventFileReader(path, true, { maxLineBytes: 1024 });
    writeFileSync(path, `${metric(1, 1)}\n${'y'.repeat(3000)}`);
    assert.deepEqual(steps(reader.readNew().events), [1]);
    assert.equal(reader.corruptCount, 1, 'counted once, as soon as it passes the limit');
    appendFileSync(path, 'y'.repeat(5000));
    assert.equal(reader.readNew().corrupt.length, 0, 'still the same line: not counted again');
    appendFileSync(path, `y\n${metric(2, 2)}\n`);
    const r = reader.readNew();
    assert.deepEqual(steps(r.events), [2]);
    assert.equal(reader.corruptCount, 1);
  } finally {
    cleanup();
  }
});

test('readNewAsync reads a large log in slices, yielding to the event loop, first events early', async () => {
  const { path, cleanup } = tempFile();
  try {
    const lines = Array.from({ length: 60_000 }, (_, i) => metric(i, i)).join('\n') + '\n'; // ~7 MB
    writeFileSync(path, lines);
    const reader = new EventFileReader(path);
    let ticks = 0;
    let ticking = true;
    const tick = (): void => {
      ticks++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const batches: number[] = [];
    let consumedAtFirstBatch = -1;
    let total;
    try {
      total = await reader.readNewAsync({
        onBatch: (b) => {
          if (consumedAtFirstBatch < 0) consumedAtFirstBatch = reader.bytesConsumed;
          batches.push(b.events.length);
        },
      });
    } finally {
      ticking = false; // never leave the ticker spinning, even when the read fails
    }
    assert.equal(total.events.length, 0, 'with onBatch the events go to the callback');
    assert.equal(
      batches.reduce((a, b) => a + b, 0),
      60_000,
      'every line delivered',
    );
    assert.ok(batches.length >= 5, `several slices (${batches.length})`);
    assert.ok(ticks >= batches.length - 1, `the event loop ran between slices (${ticks} turns for ${batches.length} slices)`);
    assert.ok(consumedAtFirstBatch < lines.length / 4, 'the first slice arrives before the rest is read');
    const again = await reader.readNewAsync();
    assert.equal(again.events.length, 0, 'offsets are shared with readNew: nothing read twice');
  } finally {
    cleanup();
  }
});

test('a UTF-8 byte order mark does not make line 1 corrupt', () => {
  const { path, cleanup } = tempFile();
  try {
    writeFileSync(path, `\uFEFF${status('starting')}\n${metric(1, 1)}\n`);
    const reader = new EventFileReader(path);
    const r = reader.readNew();
    assert.equal(reader.corruptCount, 0, JSON.stringify(r.corrupt));
    assert.equal(r.events.length, 2);
  } finally {
    cleanup();
  }
});

test('1e999 (read as Infinity by JSON.parse) is not a metric: it reads as null and is counted', () => {
  const { path, cleanup } = tempFile();
  try {
    writeFileSync(
      path,
      '{"v":1,"t":1,"type":"metric","step":1,"values":{"ppo/reward_total":1e999,"ppo/kl_sum":-1e999,"ppo/loss":0.5}}\n' +
        '{"v":1,"t":1e999,"type":"metric","step":2,"values":{}}\n' +
        '{"v":1,"t":1,"type":"progress","step":1,"total":10,"eta":1e999}\n',
    );
    const reader = new EventFileReader(path);
    const r = reader.readNew();
    const [m, p] = r.events;
    assert.ok(m.type === 'metric');
    if (m.type === 'metric') assert.deepEqual(m.values, { 'ppo/reward_total': null, 'ppo/kl_sum': null, 'ppo/loss': 0.5 });
    assert.ok(p.type === 'progress' && p.eta === null);
    assert.equal(reader.nonFiniteCount, 3);
    assert.deepEqual(
      r.corrupt.map((c) => c.line),
      [2],
      'a non-finite time makes the line corrupt',
    );
  } finally {
    cleanup();
  }
});

test('a final line without a newline is delivered by the final read (the writer is gone)', () => {
  const { path, cleanup } = tempFile();
  try {
    writeFileSync(path, `${metric(1, 1)}\n${status('finished')}`);
    const reader = new EventFileReader(path);
    assert.equal(reader.readNew().events.length, 1, 'while the run may be live it waits for the newline');
    const last = reader.readNew({ final: true }).events;
    assert.equal(last.length, 1);
    assert.ok(last[0].type === 'status' && last[0].status === 'finished');
    appendEventLine(path, status('stopped'));
    const after = reader.readNew();
    assert.equal(after.events.length, 1, 'a line appended later is read once, on its own');
    assert.equal(reader.corruptCount, 0);
  } finally {
    cleanup();
  }
});

test('sample and checkpoint paths must stay inside the run folder', async () => {
  const { resolveRunPath } = await import('../../src/runs/runDirectory');
  const { path, cleanup } = tempFile();
  try {
    const ev = (type: string, p: string): string =>
      JSON.stringify(type === 'sample' ? { v: 1, t: 1, type, step: 1, path: p, count: 1 } : { v: 1, t: 1, type, step: 1, path: p });
    writeFileSync(
      path,
      [
        ev('sample', 'samples/step-000001.jsonl'),
        ev('sample', '../../etc/passwd'),
        ev('checkpoint', '/etc'),
        ev('checkpoint', 'checkpoints/../../x'),
        ev('checkpoint', 'C:\\Windows'),
        ev('checkpoint', 'checkpoints/step-1'),
      ].join('\n') + '\n',
    );
    const reader = new EventFileReader(path);
    const r = reader.readNew();
    assert.deepEqual(
      r.events.map((e) => (e.type === 'sample' || e.type === 'checkpoint' ? e.path : '')),
      ['samples/step-000001.jsonl', 'checkpoints/step-1'],
    );
    assert.deepEqual(
      r.corrupt.map((c) => c.line),
      [2, 3, 4, 5],
    );
    assert.match(r.corrupt[0].error, /not inside the run folder/);
    const runDir = join(path, '..');
    assert.equal(resolveRunPath(runDir, 'samples/step-000001.jsonl'), join(runDir, 'samples', 'step-000001.jsonl'));
    for (const bad of ['../../etc/passwd', '/etc/passwd', 'a/../../b', '..', '.', '', 'x\0y'])
      assert.equal(resolveRunPath(runDir, bad), undefined, bad);
  } finally {
    cleanup();
  }
});
