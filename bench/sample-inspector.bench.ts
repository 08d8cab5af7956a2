// Sample inspector bar (DESIGN.md §7): 100,000 records, first screen under 1 s. Writes a samples
// folder of 400 steps × 250 records (~600 bytes each, schema/sample-record.schema.json) and, five
// times, opens it with the host data layer, loads the inspector page in headless Chromium (the real
// bundle under the strict CSP) with the real HostChannel answering from that source, and times
// page load → the view's first `rendered` (the first screen, records drawn). Prints the median.
// Run: node --import tsx bench/sample-inspector.bench.ts [steps] [perStep]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildBundle, DARK_THEME, launchChromium, openView, servePage } from '../test/browser/harness';
import { inspectorHost } from '../test/browser/inspectorHost';
import { openSampleSource } from '../src/runs/samples';

const STEPS = Number(process.argv[2] ?? 400);
const PER_STEP = Number(process.argv[3] ?? 250);
const RUNS = 5;

// A 1×1 PNG: every record points at it, so the first screen loads real images.
const PIXEL = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
const WORDS = 'a red circle blue square green triangle yellow diamond left right top bottom small large beach snow'.split(' ');

/** Writes the run folder; returns its size in bytes. */
function writeRun(dir: string): number {
  mkdirSync(join(dir, 'samples'), { recursive: true });
  mkdirSync(join(dir, 'world', 'images'), { recursive: true });
  writeFileSync(join(dir, 'world', 'images', 'pixel.png'), PIXEL);
  let seed = 12345;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const words = (n: number): string => Array.from({ length: n }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ');
  let bytes = 0;
  for (let s = 1; s <= STEPS; s++) {
    const lines: string[] = [];
    for (let i = 0; i < PER_STEP; i++) {
      const response = words(18);
      const spanAt = response.indexOf(' ') + 1;
      const rm = rand() * 2 - 1;
      const eos = rand() < 0.3 ? -8 : 0;
      const length = -rand() * 2;
      const kl = -rand() * 0.5;
      lines.push(
        JSON.stringify({
          step: s,
          prompt_id: `shapes-${String(i).padStart(5, '0')}-${s % 3}`,
          image: 'world/images/pixel.png',
          prompt: `Describe the image in detail. ${words(6)}?`,
          response,
          facts: [`There are ${1 + (i % 4)} shapes.`, `A ${words(3)} can be seen.`, `The ${words(2)} is at the ${words(1)}.`],
          reward: { rm, eos_penalty: eos, length, symbolic: 0, kl, total: rm + eos + length + kl },
          advantage: rand() - 0.5,
          hallucination: { spans: rand() < 0.4 ? [[spanAt, spanAt + 4, 'object']] : [], source: 'shapes-judge' },
          caption_type: 1 + (i % 7),
        }),
      );
    }
    const text = `${lines.join('\n')}\n`;
    bytes += Buffer.byteLength(text);
    writeFileSync(join(dir, 'samples', `step-${String(s).padStart(6, '0')}.jsonl`), text);
  }
  return bytes;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'fact-rlhf-inspector-bench-'));
  const runDir = join(work, 'run');
  const bytes = writeRun(runDir);
  buildBundle('sample-inspector');
  const server = await servePage('sample-inspector', { fileRoots: [runDir] });
  const browser = await launchChromium();
  const open: number[] = [];
  const firstScreen: number[] = [];
  const toReady: number[] = [];
  const fromNavigation: number[] = [];
  let shown = 0;
  try {
    for (let run = 0; run < RUNS; run++) {
      const t0 = performance.now();
      const source = await openSampleSource(runDir);
      const t1 = performance.now();
      const host = inspectorHost({ source, fileUri: server.fileUri });
      let done: (() => void) | undefined;
      const rendered = new Promise<void>((ok) => (done = ok));
      let renderedWall = 0;
      // The clock starts as the page is asked for: page load, handshake, summary, first query, draw.
      const t2 = performance.now();
      let tReady = 0;
      const page = await openView(browser, server.url, DARK_THEME, { width: 900, height: 760 }, (m, p) => {
        if (tReady === 0) tReady = performance.now();
        host.receive(m, p);
        if (host.rendered.length > 0 && renderedWall === 0) {
          renderedWall = Date.now();
          done?.();
        }
      });
      await rendered;
      const t3 = performance.now();
      // The page's own clock starts at its navigation: this leaves out the browser context and
      // page that openView creates first (VS Code has its webview frame ready by then).
      fromNavigation.push(renderedWall - ((await page.evaluate('performance.timeOrigin')) as number));
      open.push(t1 - t0);
      firstScreen.push(t3 - t2);
      toReady.push(tReady - t2);
      shown = host.rendered[0].shown;
      if (host.rendered[0].matching !== PER_STEP)
        throw new Error(`first screen matched ${host.rendered[0].matching} records, not ${PER_STEP}`);
      await page.context().close();
      source.close();
    }
    const total = STEPS * PER_STEP;
    console.log(
      `sample inspector bench: ${total.toLocaleString('en-US')} records (${STEPS} steps × ${PER_STEP}), ${(bytes / 1e6).toFixed(1)} MB, ${Math.round(bytes / total)} bytes/record; ${RUNS} runs`,
    );
    console.log(
      `  open the source (index):             median ${median(open).toFixed(0)} ms  [${open.map((x) => x.toFixed(0)).join(', ')}]`,
    );
    console.log(
      `  new page → first rendered (${shown} rows), wall: median ${median(firstScreen).toFixed(0)} ms  [${firstScreen.map((x) => x.toFixed(0)).join(', ')}]  (bar < 1000 ms)`,
    );
    console.log(
      `  navigation start → first rendered (page clock): median ${median(fromNavigation).toFixed(0)} ms  [${fromNavigation.map((x) => x.toFixed(0)).join(', ')}]`,
    );
    console.log(
      `    of which page load → ready (new browser context and page, bundle, handshake; no data): median ${median(toReady).toFixed(0)} ms; ready → first rendered: median ${median(firstScreen.map((x, i) => x - toReady[i])).toFixed(0)} ms`,
    );
  } finally {
    await browser.close();
    await server.close();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
