// The columnar series cache beside a run's log: it must give the same series as reading the log,
// go on from its byte offset, grow by appending (not rewriting), and be refused whenever the log no
// longer matches it — by size, by the checksum of its tail, by version — and cost only speed when
// it cannot be written.
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  openSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { CachedRun, SeriesCache, cacheDir, CACHE_VERSION } from '../../src/runs/seriesCache';
import { RunSeries } from '../../src/runs/runSeries';
import { EventFileReader } from '../../src/runs/eventReader';

const KEYS = ['ppo/reward_total', 'ppo/kl_sum', 'ppo/response_length'];

function metricLine(step: number): string {
  const values: Record<string, number | null> = {};
  KEYS.forEach((k, i) => (values[k] = step % 17 === 5 && i === 1 ? null : Math.sin(step * 0.1 + i) * (i + 1)));
  // A key that appears only on some steps: columns have different lengths.
  if (step % 3 === 0) values['rm/eval_accuracy'] = step / 1000;
  return JSON.stringify({ v: 1, t: 1700000000 + step, type: 'metric', step, values });
}

function lines(from: number, to: number): string {
  let out = '';
  for (let s = from; s < to; s++) {
    out += `${metricLine(s)}\n`;
    if (s % 50 === 10)
      out += `${JSON.stringify({ v: 1, t: 1700000000 + s, type: 'sample', step: s, path: `samples/step-${s}.jsonl`, count: 2 })}\n`;
  }
  return out;
}

function tempRun(): { dir: string; log: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'fact-rlhf-cache-'));
  return { dir, log: join(dir, 'events.jsonl'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The series straight from the log, no cache: what every cached open must equal. */
function fromLog(log: string): RunSeries {
  const s = new RunSeries();
  s.apply(new EventFileReader(log).readNew({ final: true }).events);
  return s;
}

function assertSameSeries(got: RunSeries, want: RunSeries): void {
  assert.deepEqual(got.keys().sort(), want.keys().sort());
  for (const k of want.keys()) {
    const a = got.get(k)!;
    const b = want.get(k)!;
    assert.deepEqual(Array.from(a.steps), Array.from(b.steps), `${k} steps`);
    // NaN stands for null: compare as strings so NaN === NaN.
    assert.deepEqual(Array.from(a.values, String), Array.from(b.values, String), `${k} values`);
  }
  assert.equal(got.pointCount, want.pointCount);
  assert.equal(got.lastStep, want.lastStep);
  assert.equal(got.status, want.status);
  assert.deepEqual(got.sampleFiles, want.sampleFiles);
  assert.deepEqual(got.progress, want.progress);
}

const finished = (step: number): string => `${JSON.stringify({ v: 1, t: 1700001000 + step, type: 'status', status: 'finished' })}\n`;

test('a cached open equals reading the log, and reading goes on from the cached offset', () => {
  const { dir, log, cleanup } = tempRun();
  try {
    writeFileSync(log, `${JSON.stringify({ v: 1, t: 1, type: 'status', status: 'running' })}\n${lines(0, 3000)}`);
    const cold = new CachedRun(dir);
    assert.equal(cold.cacheState, 'no cache');
    cold.readNew();
    cold.save();
    assertSameSeries(cold.series, fromLog(log));

    const warm = new CachedRun(dir);
    assert.equal(warm.cacheState, 'hit');
    assertSameSeries(warm.series, fromLog(log));
    assert.equal(warm.reader.bytesConsumed, statSync(log).size, 'the reader starts at the cached offset');
    assert.equal(warm.readNew().events.length, 0, 'nothing is re-read');

    // The run goes on: only the new lines are read, and the series equals the whole log.
    appendFileSync(
      log,
      lines(3000, 3100) + `${JSON.stringify({ v: 1, t: 2, type: 'progress', step: 3099, total: 4000, eta: 12 })}\n` + finished(3100),
    );
    const r = warm.readNew();
    assert.equal(r.events.filter((e) => e.type === 'metric').length, 100);
    assertSameSeries(warm.series, fromLog(log));
    assert.equal(warm.series.status, 'finished');
  } finally {
    cleanup();
  }
});

test('the cache grows by appending: earlier column bytes are not rewritten, few extents per column', () => {
  const { dir, log, cleanup } = tempRun();
  try {
    writeFileSync(log, lines(0, 2000));
    const run = new CachedRun(dir, { saveEveryBytes: 1, saveEveryMs: 0 });
    run.readNew();
    const bin = join(cacheDir(dir), `series-v${CACHE_VERSION}.bin`);
    const before = readFileSync(bin);
    for (let i = 0; i < 20; i++) {
      appendFileSync(log, lines(2000 + i * 500, 2500 + i * 500));
      run.readNew(); // saves after each read (saveEveryBytes: 1)
    }
    const after = readFileSync(bin);
    assert.ok(after.length > before.length, 'the column file grew');
    // Every byte written before is still in place, except the free ends of extents that were filled.
    const header = JSON.parse(readFileSync(join(cacheDir(dir), `series-v${CACHE_VERSION}.json`), 'utf8')) as {
      keys: { key: string; count: number; extents: [number, number][] }[];
    };
    const reward = header.keys.find((k) => k.key === 'ppo/reward_total')!;
    assert.equal(reward.count, 12000);
    assert.ok(reward.extents.length <= 5, `doubling extents: ${reward.extents.length} for 12,000 points`);
    const [offset, capacity] = reward.extents[0];
    // The first extent's first 1,000 steps were written by the first save and never since.
    assert.ok(before.subarray(offset, offset + 8000).equals(after.subarray(offset, offset + 8000)));
    assert.ok(capacity >= 1000);
    assert.ok(run.cache!.saves >= 21);
    assertSameSeries(new CachedRun(dir).series, fromLog(log));
  } finally {
    cleanup();
  }
});

test('stale by size: a truncated or rewritten-shorter log is not trusted; the cache is rebuilt', () => {
  const { dir, log, cleanup } = tempRun();
  try {
    writeFileSync(log, lines(0, 1000));
    new CachedRun(dir).readNew({ final: true });
    writeFileSync(log, lines(0, 400)); // the run was restarted from scratch
    const run = new CachedRun(dir);
    assert.match(run.cacheState, /shorter/);
    assert.equal(run.series.pointCount, 0, 'nothing from the stale cache');
    run.readNew({ final: true });
    assertSameSeries(run.series, fromLog(log));
    assert.equal(new CachedRun(dir).cacheState, 'hit', 'rebuilt for the new log');
  } finally {
    cleanup();
  }
});

test('stale by tail checksum: same size, different bytes before the cached offset', () => {
  const { dir, log, cleanup } = tempRun();
  try {
    writeFileSync(log, lines(0, 1000));
    new CachedRun(dir).readNew({ final: true });
    // Flip one digit inside the last 4 KiB, keeping the size: only the checksum can tell.
    const size = statSync(log).size;
    const text = readFileSync(log, 'utf8');
    const at = text.lastIndexOf('"step":') + 7;
    const fd = openSync(log, 'r+');
    writeSync(fd, text[at] === '9' ? '8' : '9', at);
    closeSync(fd);
    assert.equal(statSync(log).size, size);
    const run = new CachedRun(dir);
    assert.match(run.cacheState, /tail checksum/);
    run.readNew({ final: true });
    assertSameSeries(run.series, fromLog(log));
    // And the head: a change in the first 4 KiB of a longer log.
    writeFileSync(log, lines(0, 1000));
    new CachedRun(dir).readNew({ final: true });
    const fd2 = openSync(log, 'r+');
    writeSync(fd2, '{"v":1,"t":1700000000,"type":"metric","step":0,"values":{"ppo/reward_total":7', 0);
    closeSync(fd2);
    assert.match(new CachedRun(dir).cacheState, /head checksum/);
  } finally {
    cleanup();
  }
});

test('stale by version: another cache or protocol version, or a validation mode it was not built with', () => {
  const { dir, log, cleanup } = tempRun();
  try {
    writeFileSync(log, lines(0, 500));
    new CachedRun(dir).readNew({ final: true });
    const headerPath = join(cacheDir(dir), `series-v${CACHE_VERSION}.json`);
    const good = readFileSync(headerPath, 'utf8');
    const edit = (change: (h: Record<string, unknown>) => void): string => {
      const h = JSON.parse(good) as Record<string, unknown>;
      change(h);
      writeFileSync(headerPath, JSON.stringify(h));
      return new SeriesCache(dir).load().ok ? 'ok' : (new SeriesCache(dir).load() as { reason: string }).reason;
    };
    assert.match(
      edit((h) => (h.version = CACHE_VERSION + 1)),
      /cache version/,
    );
    assert.match(
      edit((h) => (h.protocol = 2)),
      /protocol version/,
    );
    assert.match(
      edit((h) => (h.format = 'something-else')),
      /not a series cache/,
    );
    assert.equal(
      edit(() => undefined),
      'ok',
    );
    assert.match(new CachedRun(dir, { validate: false }).cacheState, /validation/);
    // That reader threw the refused cache away; build it again.
    new CachedRun(dir).readNew({ final: true });
    const rebuilt = readFileSync(headerPath, 'utf8');
    // A header that claims more than its column file holds (a torn write).
    const h = JSON.parse(rebuilt) as { keys: { count: number; last: [number, number] }[] };
    h.keys[0].last = [h.keys[0].last[0] + 1, 0];
    writeFileSync(headerPath, JSON.stringify(h));
    assert.match((new SeriesCache(dir).load() as { reason: string }).reason, /does not end with/);
    writeFileSync(join(cacheDir(dir), `series-v${CACHE_VERSION}.bin`), Buffer.alloc(16));
    writeFileSync(headerPath, rebuilt);
    assert.match((new SeriesCache(dir).load() as { reason: string }).reason, /shorter than its header/);
    const run = new CachedRun(dir);
    run.readNew({ final: true });
    assertSameSeries(run.series, fromLog(log));
  } finally {
    cleanup();
  }
});

test('a cache that cannot be written only costs speed', () => {
  const { dir, log, cleanup } = tempRun();
  try {
    writeFileSync(log, lines(0, 800) + finished(800));
    // A file where the cache folder should be: mkdir fails the way a read-only folder does (the
    // tests run as root, which ignores permission bits, so chmod would not stop the write).
    writeFileSync(cacheDir(dir), 'not a folder');
    const run = new CachedRun(dir);
    run.readNew({ final: true });
    assert.ok(run.cache!.disabled, 'the cache switched itself off');
    assertSameSeries(run.series, fromLog(log));
    assert.match(new CachedRun(dir).cacheState, /no cache|ENOTDIR|not a directory/i);
    // A column file that is a folder: the write fails after the folder exists.
    rmSync(cacheDir(dir));
    mkdirSync(join(cacheDir(dir), `series-v${CACHE_VERSION}.bin`), { recursive: true });
    const run2 = new CachedRun(dir);
    run2.readNew({ final: true });
    assert.ok(run2.cache!.disabled);
    assertSameSeries(run2.series, fromLog(log));
  } finally {
    cleanup();
  }
});

test('a torn last line is not cached: the resumed reader reads it whole', () => {
  const { dir, log, cleanup } = tempRun();
  try {
    const full = lines(0, 300);
    const next = metricLine(300);
    writeFileSync(log, full + next.slice(0, 25));
    const run = new CachedRun(dir);
    run.readNew();
    run.save();
    appendFileSync(log, `${next.slice(25)}\n`);
    const warm = new CachedRun(dir);
    assert.equal(warm.cacheState, 'hit');
    const r = warm.readNew();
    assert.equal(r.events.length, 1);
    assertSameSeries(warm.series, fromLog(log));
    assert.equal(warm.reader.corruptCount, 0);
  } finally {
    cleanup();
  }
});

test('a replaced log after a cached open starts over, series and cache alike', async () => {
  const { dir, log, cleanup } = tempRun();
  try {
    writeFileSync(log, lines(0, 600));
    new CachedRun(dir).readNew({ final: true });
    const warm = new CachedRun(dir);
    assert.equal(warm.cacheState, 'hit');
    rmSync(log);
    writeFileSync(log, lines(1000, 1900)); // another run's log under the same name, longer
    const r = await warm.readNewAsync({ final: true });
    assert.ok(r.reset);
    assertSameSeries(warm.series, fromLog(log));
    assertSameSeries(new CachedRun(dir).series, fromLog(log));
  } finally {
    cleanup();
  }
});

test('two readers of one run: the second writer stops, the cache stays true to the log', () => {
  const { dir, log, cleanup } = tempRun();
  try {
    writeFileSync(log, lines(0, 500));
    const a = new CachedRun(dir, { saveEveryBytes: 1, saveEveryMs: 0 });
    const b = new CachedRun(dir, { saveEveryBytes: 1, saveEveryMs: 0 });
    a.readNew();
    b.readNew(); // finds a's header, which it neither loaded nor wrote
    assert.match(b.cache!.disabled ?? '', /another reader/);
    appendFileSync(log, lines(500, 900));
    a.readNew();
    b.readNew();
    assert.equal(a.cache!.disabled, undefined);
    assertSameSeries(b.series, fromLog(log));
    const c = new CachedRun(dir);
    assert.equal(c.cacheState, 'hit');
    assertSameSeries(c.series, fromLog(log));
  } finally {
    cleanup();
  }
});
