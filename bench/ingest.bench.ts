// Event ingest (DESIGN.md §7): EventFileReader vs a plain line-by-line JSON.parse loop over the same
// events.jsonl of 20-metric lines; and the time from a line written to it being read by a live watcher.
// Run: node --import tsx bench/ingest.bench.ts [MB]
import { mkdtempSync, writeFileSync, readFileSync, rmSync, appendFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { EventFileReader } from '../src/runs/eventReader';
import { RunHandle } from '../src/runs/runManager';

const targetMb = Number(process.argv[2] ?? 100);
const dir = mkdtempSync(join(tmpdir(), 'fact-rlhf-ingest-'));
const file = join(dir, 'events.jsonl');
const keys = Array.from({ length: 20 }, (_, i) => `ppo/metric_${i}`);

function line(step: number): string {
  const values: Record<string, number> = {};
  for (const k of keys) values[k] = Math.sin(step * 0.001 + k.length) * 10 + step * 1e-4;
  return JSON.stringify({ v: 1, t: 1700000000 + step, type: 'metric', step, values });
}

const parts: string[] = [];
let bytes = 0;
let steps = 0;
while (bytes < targetMb * 1e6) {
  const l = `${line(steps++)}\n`;
  parts.push(l);
  bytes += l.length;
}
writeFileSync(file, parts.join(''));
parts.length = 0;
const size = statSync(file).size;
const scalars = steps * keys.length;

function time(label: string, fn: () => number): number {
  const best: number[] = [];
  let n = 0;
  for (let i = 0; i < 3; i++) {
    const t0 = process.hrtime.bigint();
    n = fn();
    best.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  const s = Math.min(...best);
  console.log(`${label.padEnd(44)} ${(size / 1e6 / s).toFixed(0).padStart(5)} MB/s  ${(scalars / 1e6 / s).toFixed(2).padStart(6)} M scalars/s  (${n} events, best of 3: ${s.toFixed(3)} s)`);
  return s;
}

console.log(`events.jsonl: ${(size / 1e6).toFixed(0)} MB, ${steps} lines × ${keys.length} metrics`);
const plain = time('plain readFileSync + split + JSON.parse', () => {
  let count = 0;
  for (const l of readFileSync(file, 'utf8').split('\n')) if (l) { JSON.parse(l); count++; }
  return count;
});
const raw = time('EventFileReader (no schema validation)', () => new EventFileReader(file, false).readNew().events.length);
const validated = time('EventFileReader (schema-validated, default)', () => new EventFileReader(file).readNew().events.length);
console.log(`ratio vs plain loop: ${(plain / raw).toFixed(2)}× (unvalidated), ${(plain / validated).toFixed(2)}× (validated); bar ≥ 1.0×`);

// Latency: a live watcher polling every 100 ms (the run manager's default) sees a new line within ...
async function latency(): Promise<void> {
  const live = join(dir, 'live');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(live);
  const handle = new RunHandle('live', live, undefined, 100, 1000, []);
  const waits: number[] = [];
  let written = 0;
  handle.on('events', () => waits.push(performance.now() - written));
  handle.begin();
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 37 + Math.random() * 60));
    written = performance.now();
    appendFileSync(join(live, 'events.jsonl'), `${line(i)}\n`);
    await new Promise((r) => setTimeout(r, 120));
  }
  void handle.stop();
  waits.sort((a, b) => a - b);
  console.log(`line written → read by the watcher: median ${waits[Math.floor(waits.length / 2)].toFixed(0)} ms, max ${waits[waits.length - 1].toFixed(0)} ms (bar for line → chart: < 250 ms; the view adds ≤ 250 ms of batching at 4 updates/s)`);
}
void latency().then(() => rmSync(dir, { recursive: true, force: true }));
