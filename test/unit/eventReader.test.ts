import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, appendFileSync, rmSync } from 'node:fs';
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
    assert.deepEqual(r.events.map((e) => (e.type === 'metric' ? e.step : -1)), [1, 4]);
    assert.equal(reader.corruptCount, 3);
    assert.deepEqual(r.corrupt.map((c) => c.line), [2, 3, 4]);
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
