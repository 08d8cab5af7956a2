// The reader's metric fast path (takeMetricEventFast) must take exactly the metric events the
// schema accepts: checked against ajv on the schema's own examples and on fuzzed lines, and against
// the reader's slow path (ajv + sanitising) for what it makes of non-finite values.
import test from 'node:test';
import assert from 'node:assert/strict';
import Ajv from 'ajv';
import schema from '../../schema/run-event.schema.json';
import { takeMetricEventFast } from '../../src/runs/schemaValidation';

const ajv = new Ajv({ strict: false }).compile(schema);

/** What the slow path decides: valid for the schema, and (for metrics) t finite. */
function slowAccepts(value: unknown): boolean {
  if (!ajv(value)) return false;
  const e = value as { type: string; t: number; step?: number };
  return e.type === 'metric' && Number.isFinite(e.t) && (e.step === undefined || Number.isFinite(e.step));
}

function hasNonFinite(value: unknown): boolean {
  return JSON.stringify(value, (_k, x: unknown) => (typeof x === 'number' && !Number.isFinite(x) ? '__nonfinite__' : x)).includes(
    '__nonfinite__',
  );
}

function agree(line: string): void {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return;
  }
  const forSlow: unknown = JSON.parse(line);
  const took = takeMetricEventFast(value);
  if (hasNonFinite(forSlow)) {
    // ajv's view of Infinity is not the contract here; the reader's is: values become null (counted),
    // a non-finite t or step is never taken by the fast path.
    if (took >= 0) {
      const e = forSlow as { t: number; values: Record<string, unknown> };
      assert.ok(Number.isFinite(e.t), `fast path took a non-finite t: ${line}`);
      // (structuredClone, not a JSON round trip, which would turn -0 into 0)
      const nulled = structuredClone(forSlow) as { values: Record<string, unknown> };
      for (const k of Object.keys(nulled.values))
        if (typeof nulled.values[k] === 'number' && !Number.isFinite(nulled.values[k])) nulled.values[k] = null;
      assert.equal(ajv(nulled), true, `fast path took what the schema rejects: ${line}`);
      assert.deepEqual(value, nulled, 'non-finite values become null');
      assert.equal(took, Object.values(e.values).filter((x) => typeof x === 'number' && !Number.isFinite(x)).length);
    }
    return;
  }
  assert.equal(took >= 0, slowAccepts(forSlow), `fast path and schema disagree on ${line}`);
  if (took >= 0) assert.equal(took, 0);
  else assert.deepEqual(value, forSlow, 'a line the fast path does not take is left untouched');
}

test("the fast path agrees with ajv on the schema's own examples", () => {
  const examples: unknown[] = [];
  const collect = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(collect);
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (k === 'examples' && Array.isArray(v)) examples.push(...(v as unknown[]));
        else collect(v);
      }
    }
  };
  collect(schema);
  // The schema's examples, plus one event of every type as the trainer writes them.
  examples.push(
    { v: 1, t: 1700000000.5, type: 'metric', step: 0, values: { 'ppo/reward_total': -17.2, 'ppo/kl_sum': null, 'time/a.b-c_d': 3 } },
    { v: 1, t: 1, type: 'status', status: 'running' },
    { v: 1, t: 1, type: 'progress', step: 1, total: 10, eta: null },
    { v: 1, t: 1, type: 'sample', step: 2, path: 'samples/step-2.jsonl', count: 4 },
    { v: 1, t: 1, type: 'checkpoint', step: 2, path: 'checkpoints/step-2' },
    { v: 1, t: 1, type: 'log', level: 'info', message: 'hello' },
  );
  for (const e of examples) agree(JSON.stringify(e));
});

test('the fast path agrees with ajv on 20,000 fuzzed metric lines', () => {
  let seed = 0x2545f491;
  const rand = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 4294967296;
  };
  let taken = 0;
  let refused = 0;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const keys = [
    'ppo/reward_total',
    'ppo/kl',
    'a/b/c',
    'rm/eval_accuracy_other_facts',
    'x.y/z-1',
    'reward',
    'ppo/',
    '/kl',
    'ppo/a b',
    'ppo/é',
    'ppo//x',
    '__proto__',
    'ppo/kl\n',
    'constructor/x',
    'A/B',
  ];
  const numbers = ['0', '-1', '1.5', '1e3', '1e999', '-1e999', '1E-7', '3', '-0', '123456789012345678901234567890'];
  const others = ['null', '"1"', 'true', '{}', '[]', '[1]', 'false'];
  const value = (): string => (rand() < 0.8 ? pick(numbers) : pick(others));
  const steps = ['0', '1', '7', '1.5', '-1', '"3"', 'null', '1e21', '1e999', '2.0', '-0'];
  const ts = ['1700000000.25', '0', '-5', '"1"', 'null', '1e999', '1'];
  const vs = ['1', '1', '1', '1.0', '2', '"1"', 'null', '0'];
  const typesList = ['"metric"', '"metric"', '"metric"', '"metric"', '"metric"', '"log"', '"status"', '"Metric"', '1'];
  for (let n = 0; n < 20_000; n++) {
    const fields: string[] = [];
    if (rand() > 0.03) fields.push(`"v":${pick(vs)}`);
    if (rand() > 0.03) fields.push(`"t":${pick(ts)}`);
    if (rand() > 0.03) fields.push(`"type":${pick(typesList)}`);
    if (rand() > 0.03) fields.push(`"step":${pick(steps)}`);
    if (rand() > 0.03) {
      const m = Math.floor(rand() * 5);
      const entries: string[] = [];
      for (let i = 0; i < m; i++) entries.push(`${JSON.stringify(rand() < 0.85 ? pick(keys.slice(0, 5)) : pick(keys))}:${value()}`);
      fields.push(`"values":${rand() < 0.95 ? `{${entries.join(',')}}` : pick(['[]', 'null', '1', '"x"'])}`);
    }
    if (rand() < 0.03) fields.push(`"extra":1`);
    if (rand() < 0.02) fields.push(`"step":4`); // a duplicate key: the last one wins in JSON.parse
    // Shuffle sometimes: field order must not matter.
    if (rand() < 0.3) fields.sort(() => rand() - 0.5);
    const line = `{${fields.join(',')}}`;
    agree(line);
    try {
      if (takeMetricEventFast(JSON.parse(line)) >= 0) taken++;
      else refused++;
    } catch {
      // not JSON
    }
  }
  // The fuzz must reach both sides of the check for the agreement to mean anything.
  assert.ok(taken > 500 && refused > 1000, `taken ${taken}, refused ${refused}`);
});
