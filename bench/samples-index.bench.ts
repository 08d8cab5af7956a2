// Sample source (src/runs/samples) on 100,000 records of ours: open + the first screen (the first
// step, file order, 50 records) against the anchor of reading and JSON.parse-ing every line (what
// "parse it all at open" would cost), side by side in one run; then a sort by total over every step
// (parses each record once and keeps its keys), a second sort (keys kept: no parse) and a text search.
// The bar (DESIGN.md §7): the first screen under 1 s; this is the host's share.
// Run: node --import tsx bench/samples-index.bench.ts [FILES] [PER_FILE]   (default 400 × 250)
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSampleSource } from '../src/runs/samples';
import type { QueryParams } from '../src/protocol/webviews/sampleInspector';

const files = Number(process.argv[2] ?? 400);
const perFile = Number(process.argv[3] ?? 250);
const dir = mkdtempSync(join(tmpdir(), 'fact-rlhf-samples-bench-'));
const samples = join(dir, 'samples');
mkdirSync(samples);
writeFileSync(join(dir, 'run.json'), '{}');

// Records shaped like the trainer's (schema/sample-record.schema.json), ~600 bytes each.
const words = 'a red circle blue square green triangle yellow diamond small large on the left right top bottom of beach snow grass'.split(
  ' ',
);
let seed = 1;
const rand = (): number => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
const sentence = (n: number): string => Array.from({ length: n }, () => words[Math.floor(rand() * words.length)]).join(' ');
for (let f = 0; f < files; f++) {
  const lines: string[] = [];
  for (let i = 0; i < perFile; i++) {
    const response = sentence(24 + Math.floor(rand() * 16));
    const rm = rand() * 2 - 1;
    lines.push(
      JSON.stringify({
        step: f,
        prompt_id: `shapes-${String(i).padStart(5, '0')}-${i % 4}`,
        image: `world/images/shapes-${String(i).padStart(5, '0')}.png`,
        prompt: `Describe the image in detail. ${sentence(4)}?`,
        response,
        facts: [sentence(9), sentence(9), sentence(7)],
        reward: { rm, eos_penalty: 0, length: -0.5, symbolic: 0, kl: -0.01, total: rm - 0.51 },
        advantage: rand() - 0.5,
        hallucination: { spans: rand() < 0.3 ? [[2, 8, 'object']] : [], source: 'shapes-judge' },
        caption_type: 1 + Math.floor(rand() * 7),
      }),
    );
  }
  writeFileSync(join(samples, `step-${String(f).padStart(6, '0')}.jsonl`), `${lines.join('\n')}\n`);
}
const bytes = readdirSync(samples).reduce((n, name) => n + statSync(join(samples, name)).size, 0);
const total = files * perFile;
console.log(`${total} records in ${files} files, ${(bytes / 1e6).toFixed(1)} MB (${Math.round(bytes / total)} bytes/record)`);

const base: QueryParams = {
  step: 0,
  sort: 'index',
  descending: false,
  filter: { captionType: null, hallucinatedOnly: false, text: '' },
  offset: 0,
  limit: 50,
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
// Wall time, and this process's CPU time beside it: on a loaded shared machine the wall figure mostly
// measures the wait for a core, the CPU figure what the code costs.
const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;
let cpu0 = process.cpuUsage();
const cpuMs = (): number => {
  const d = process.cpuUsage(cpu0);
  cpu0 = process.cpuUsage();
  return (d.user + d.system) / 1000;
};
const row = (label: string, wall: number[], cpu: number[], note = ''): void =>
  console.log(`${label.padEnd(56)} ${median(wall).toFixed(1).padStart(7)} ms wall ${median(cpu).toFixed(1).padStart(7)} ms CPU  ${note}`);

async function main(): Promise<void> {
  const firstScreen: number[] = [];
  const openOnly: number[] = [];
  const firstCpu: number[] = [];
  const openCpu: number[] = [];
  for (let k = 0; k < 7; k++) {
    cpuMs();
    const t0 = process.hrtime.bigint();
    const s = await openSampleSource(dir);
    openOnly.push(ms(t0));
    const c = cpuMs();
    openCpu.push(c);
    const page = await s.query(base);
    firstScreen.push(ms(t0));
    firstCpu.push(c + cpuMs());
    if (page.records.length !== 50 || s.info().total !== total) throw new Error('wrong answer');
    s.close();
  }
  row('ours: open (index 100k lines, no parse)', openOnly, openCpu, '(median of 7)');
  row('ours: open + first screen (step 0, 50 records)', firstScreen, firstCpu, '(median of 7)');

  const anchor: number[] = [];
  const anchorCpu: number[] = [];
  for (let k = 0; k < 3; k++) {
    cpuMs();
    const t0 = process.hrtime.bigint();
    let n = 0;
    for (const name of readdirSync(samples).sort())
      for (const line of readFileSync(join(samples, name), 'utf8').split('\n'))
        if (line) {
          JSON.parse(line);
          n++;
        }
    anchor.push(ms(t0));
    anchorCpu.push(cpuMs());
    if (n !== total) throw new Error('anchor miscounted');
  }
  row(
    'anchor: read + JSON.parse every line',
    anchor,
    anchorCpu,
    `(median of 3; CPU ${(median(anchorCpu) / median(firstCpu)).toFixed(1)}× the first screen's)`,
  );

  const sortAll: number[] = [];
  const sortAgain: number[] = [];
  const textAll: number[] = [];
  const [sortAllCpu, sortAgainCpu, textCpu]: number[][] = [[], [], []];
  for (let k = 0; k < 3; k++) {
    const s = await openSampleSource(dir);
    cpuMs();
    let t0 = process.hrtime.bigint();
    const top = await s.query({ ...base, step: null, sort: 'total', descending: true });
    sortAll.push(ms(t0));
    sortAllCpu.push(cpuMs());
    if (top.matching !== total || top.records[0].reward.total! < top.records[49].reward.total!) throw new Error('sort wrong');
    t0 = process.hrtime.bigint();
    await s.query({ ...base, step: null, sort: 'rm', descending: false });
    sortAgain.push(ms(t0));
    sortAgainCpu.push(cpuMs());
    t0 = process.hrtime.bigint();
    const hits = await s.query({ ...base, step: null, filter: { ...base.filter, text: 'yellow diamond on the beach' } });
    textAll.push(ms(t0));
    textCpu.push(cpuMs());
    if (k === 0) console.log(`  (text search matched ${hits.matching} records)`);
    s.close();
  }
  row('ours: sort by total over every step (first: parses all)', sortAll, sortAllCpu, '(median of 3)');
  row('ours: then sort by rm (keys kept, no parse)', sortAgain, sortAgainCpu, '(median of 3)');
  row('ours: text search over every step', textAll, textCpu, '(median of 3)');
  rmSync(dir, { recursive: true, force: true });
}

void main();
