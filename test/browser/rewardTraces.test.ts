// Browser tier: the reward-trace webview in headless Chromium, fed from real run directories.
// The test writes run directories that follow schema/ (each line validated with ajv), turns them
// into the host's snapshot with the extension's own reader (loadRunTraces), and checks what the
// page draws — canvas pixels, not just DOM — and what it posts back to the host.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';
import type { Browser, Page } from 'playwright-core';
import type { RunTraces } from '../../src/protocol/webviews/rewardTraces';
import { loadRunTraces } from '../../src/viewModels/traces';
import { DARK_PALETTE, LIGHT_PALETTE } from '../../webview/shared/charts/palette';
import {
  buildBundle,
  DARK_THEME,
  LIGHT_THEME,
  launchChromium,
  nextPosted,
  openView,
  postedCount,
  ROOT,
  sendToView,
  servePage,
  type PageCanvas,
  type PageDocument,
  type PageElement,
  type PageServer,
  type PageWindow,
} from './harness';

// Page-side globals used inside page.evaluate callbacks (see harness.ts).
declare const window: PageWindow & { __inlineRan?: boolean };
declare const document: PageDocument;
declare function requestAnimationFrame(callback: () => void): number;
declare function getComputedStyle(element: PageElement): { backgroundColor: string };

const RESULTS = join(ROOT, 'test-results');
const REWARD = 'ppo/reward_total';
const KL = 'ppo/kl_sum';

// --- run directories ------------------------------------------------------------------------

interface RunSpec {
  id: string;
  steps: number;
  total: number;
  status: 'finished' | 'running' | 'failed';
  error?: string;
  reward(i: number): number;
}

const eventSchema = JSON.parse(readFileSync(join(ROOT, 'schema', 'run-event.schema.json'), 'utf8')) as object;
const manifestSchema = JSON.parse(readFileSync(join(ROOT, 'schema', 'run-manifest.schema.json'), 'utf8')) as object;
const ajv = new Ajv({ strict: false, allErrors: true });
const validateEvent = ajv.compile(eventSchema);
const validateManifest = ajv.compile(manifestSchema);

/** Deterministic small wiggle so curves look like training noise without randomness. */
const wiggle = (i: number, seed: number): number => Math.sin(i * 1.7 + seed) * 0.5 + Math.sin(i * 0.37 + seed * 3) * 0.5;

/** Writes run.json + events.jsonl; returns how many metric points it wrote. */
function writeRunDir(parent: string, spec: RunSpec): { dir: string; points: number } {
  const dir = join(parent, spec.id);
  mkdirSync(dir, { recursive: true });
  const t0 = 1_760_000_000;
  const manifest = {
    id: spec.id,
    stage: 'ppo',
    config: { ppo: { total_steps: spec.total } },
    config_path: 'examples/tiny.rlhf.yaml',
    config_hash: 'sha256:0123abcd',
    git_revision: null,
    host: 'test-host',
    pids: [4242],
    world_size: 1,
    device: 'cpu',
    started: t0,
    ended: spec.status === 'running' ? null : t0 + spec.steps,
    status: spec.status,
    protocol_version: 1,
  };
  assert.ok(validateManifest(manifest), `run.json of ${spec.id}: ${ajv.errorsText(validateManifest.errors)}`);
  writeFileSync(join(dir, 'run.json'), JSON.stringify(manifest, null, 2));

  const events: object[] = [
    { v: 1, t: t0, type: 'status', status: 'starting' },
    { v: 1, t: t0 + 0.5, type: 'status', status: 'running' },
  ];
  let points = 0;
  for (let i = 0; i < spec.steps; i++) {
    const values: Record<string, number | null> = {
      [REWARD]: spec.reward(i),
      [KL]: 0.02 + 0.6 * (i / spec.total) + 0.015 * wiggle(i, 2),
      'ppo/reward_rm': spec.reward(i) + 0.3,
      'ppo/response_length': 40 + 12 * wiggle(i, 5),
      // The value loss is unknown on the first step (no value estimate yet): null per the schema.
      'ppo/value_loss': i === 0 ? null : 0.5 / (1 + i / 20),
    };
    points += Object.keys(values).length;
    events.push({ v: 1, t: t0 + 1 + i, type: 'metric', step: i, values });
    if (i % 10 === 9 || i === spec.steps - 1) {
      const left = spec.status === 'running' ? (spec.total - i - 1) * 1.5 : 0;
      events.push({ v: 1, t: t0 + 1 + i, type: 'progress', step: i + 1, total: spec.total, eta: left });
    }
  }
  if (spec.status === 'failed') events.push({ v: 1, t: t0 + spec.steps + 1, type: 'status', status: 'failed', error: spec.error });
  if (spec.status === 'finished') events.push({ v: 1, t: t0 + spec.steps + 1, type: 'status', status: 'finished' });
  const lines = events.map((e) => JSON.stringify(e));
  lines.forEach((line, n) => {
    assert.ok(validateEvent(JSON.parse(line)), `${spec.id}/events.jsonl line ${n + 1}: ${ajv.errorsText(validateEvent.errors)}`);
  });
  writeFileSync(join(dir, 'events.jsonl'), `${lines.join('\n')}\n`);
  return { dir, points };
}

const N = 200;
const RUNS: RunSpec[] = [
  {
    id: 'ppo-fact-augmented',
    steps: N,
    total: N,
    status: 'finished',
    reward: (i) => -0.6 + 1.5 * (1 - Math.exp((-3 * i) / N)) + 0.08 * wiggle(i, 0),
  },
  {
    id: 'ppo-baseline',
    steps: 121,
    total: N,
    status: 'running',
    reward: (i) => -0.6 + 0.9 * (1 - Math.exp((-2 * i) / N)) + 0.08 * wiggle(i, 1),
  },
  {
    id: 'ppo-lr-3e-5',
    steps: 45,
    total: N,
    status: 'failed',
    error: 'RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 23.69 GiB total capacity)',
    reward: (i) => -0.6 + 0.4 * (i / 45) + 0.1 * wiggle(i, 4),
  },
];

// --- canvas sampling ------------------------------------------------------------------------

interface LineTrace {
  /** Per device-pixel column x that holds pixels of the colour: [x, topmost y, bottom-most y, mean y]. */
  columns: [number, number, number, number][];
  pixels: number;
  plot: { left: number; right: number; top: number; bottom: number; stepMin: number; stepMax: number };
  canvasTop: number;
  canvasLeft: number;
}

/** Finds the pixels of one line colour on a panel's canvas (opaque, within a small colour distance). */
function traceColour(page: Page, metric: string, hex: string): Promise<LineTrace> {
  return page.evaluate(
    ([m, colour]) => {
      const canvas = document.querySelector<PageCanvas>(`.panel[data-metric="${m}"] canvas`);
      if (!canvas) throw new Error(`no canvas for ${m}`);
      const ctx = canvas.getContext('2d');
      if (!ctx) throw new Error('no 2d context');
      const R = parseInt(colour.slice(1, 3), 16);
      const G = parseInt(colour.slice(3, 5), 16);
      const B = parseInt(colour.slice(5, 7), 16);
      const { width, height } = canvas;
      const img = ctx.getImageData(0, 0, width, height).data;
      const columns: [number, number, number, number][] = [];
      let pixels = 0;
      for (let x = 0; x < width; x++) {
        let top = -1;
        let bottom = -1;
        let sum = 0;
        let n = 0;
        for (let y = 0; y < height; y++) {
          const o = (y * width + x) * 4;
          if (img[o + 3] < 200) continue;
          if (Math.abs(img[o] - R) + Math.abs(img[o + 1] - G) + Math.abs(img[o + 2] - B) > 60) continue;
          if (top < 0) top = y;
          bottom = y;
          sum += y;
          n++;
        }
        if (n > 0) {
          columns.push([x, top, bottom, sum / n]);
          pixels += n;
        }
      }
      const ds = canvas.dataset;
      const rect = canvas.getBoundingClientRect();
      return {
        columns,
        pixels,
        plot: {
          left: Number(ds.plotLeft),
          right: Number(ds.plotRight),
          top: Number(ds.plotTop),
          bottom: Number(ds.plotBottom),
          stepMin: Number(ds.stepMin),
          stepMax: Number(ds.stepMax),
        },
        canvasTop: rect.top,
        canvasLeft: rect.left,
      };
    },
    [metric, hex] as const,
  );
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Mean line y over the columns in the given fraction [a, b) of the traced x extent. */
function yOver(trace: LineTrace, a: number, b: number): number {
  const cols = trace.columns;
  const x0 = cols[0][0];
  const x1 = cols[cols.length - 1][0];
  const sel = cols.filter(([x]) => x >= x0 + a * (x1 - x0) && x < x0 + b * (x1 - x0) + (b >= 1 ? 1 : 0));
  assert.ok(sel.length > 0, `no line pixels between ${a} and ${b} of the line`);
  return mean(sel.map((c) => c[3]));
}

async function nextFrame(page: Page): Promise<void> {
  await page.evaluate(() => new Promise<void>((ok) => requestAnimationFrame(() => requestAnimationFrame(() => ok()))));
}

// --- the test ----------------------------------------------------------------------------------

let server: PageServer;
let browser: Browser;
let workDir: string;
let snapshot: RunTraces[];
let writtenPoints = 0;
const consoleCsp: string[] = [];

before(async () => {
  buildBundle('reward-traces');
  workDir = mkdtempSync(join(tmpdir(), 'fact-rlhf-traces-'));
  snapshot = [];
  for (const spec of RUNS) {
    const { dir, points } = writeRunDir(workDir, spec);
    writtenPoints += points;
    snapshot.push(await loadRunTraces(dir));
  }
  mkdirSync(RESULTS, { recursive: true });
  server = await servePage('reward-traces');
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

test('reward-trace webview renders run directories in headless Chromium', async (t) => {
  const page = await openView(browser, server.url, DARK_THEME);
  page.on('console', (m) => {
    if (/Content.Security.Policy/i.test(m.text())) consoleCsp.push(m.text());
  });
  // The first runs' colours: the view's own colour-blind-safe palette (theme.ts), not the theme's red/green chart tokens.
  const blue = DARK_PALETTE[0];
  const red = DARK_PALETTE[1];
  const [fact, baseline] = RUNS;

  await t.test('the page carries the strict CSP and shows the empty state before data', async () => {
    const csp = await page.getAttribute('meta[http-equiv="Content-Security-Policy"]', 'content');
    assert.ok(csp, 'CSP meta tag missing');
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'nonce-[A-Za-z0-9_-]{16,}'/);
    assert.ok(csp.includes(`style-src ${server.origin} 'nonce-`), csp);
    const nonce = await page.getAttribute('script[src$="reward-traces.js"]', 'nonce');
    assert.ok(nonce !== null, 'the script tag must carry the nonce');
    assert.ok(await page.isVisible('text=No runs yet'), 'empty-state text not shown');
  });

  await t.test('after ready, a snapshot from run directories shows every run and reports its points', async () => {
    const expected = snapshot.reduce((n, r) => n + Object.values(r.series).reduce((m, s) => m + s.steps.length, 0), 0);
    assert.equal(expected, writtenPoints, 'loadRunTraces should hand over every point the run directories hold');
    const from = await postedCount(page);
    await sendToView(page, { type: 'snapshot', runs: snapshot });
    const rendered = await nextPosted(page, 'rendered', from);
    assert.equal(rendered.runs, RUNS.length);
    assert.equal(rendered.points, writtenPoints);
    for (const spec of RUNS) {
      const row = page.locator(`.run[data-run-id="${spec.id}"]`);
      assert.equal(await row.getAttribute('data-status'), spec.status);
      assert.ok((await row.textContent())?.includes(spec.status), `status of ${spec.id} not shown`);
    }
    assert.match((await page.textContent(`.run[data-run-id="${baseline.id}"]`)) ?? '', /step 121 \/ 200 · ETA 1m 59s/);
    assert.match((await page.textContent(`.run[data-run-id="${RUNS[2].id}"] .run-error`)) ?? '', /CUDA out of memory/);
    assert.equal(await page.isVisible('text=No runs yet'), false);
    const panels = await page.$$eval('.panel', (els) => els.map((e) => (e as PageElement).dataset.metric));
    assert.deepEqual(panels, [REWARD, KL]);
  });

  await t.test('screenshot of the view with the crosshair tooltip', async () => {
    const trace = await traceColour(page, REWARD, blue);
    const { left, right, bottom } = trace.plot;
    await page.mouse.move(trace.canvasLeft + left + 0.45 * (right - left), trace.canvasTop + bottom - 30);
    await page.waitForSelector(`.panel[data-metric="${REWARD}"] .chart-tooltip:not([hidden])`);
    const tip = (await page.textContent(`.panel[data-metric="${REWARD}"] .chart-tooltip`)) ?? '';
    assert.match(tip, /step \d+/);
    assert.ok(tip.includes(fact.id) && tip.includes(baseline.id), `tooltip lists both runs at that step: ${tip}`);
    assert.ok(!tip.includes(RUNS[2].id), 'the failed run ended before that step and must not be listed');
    await page.screenshot({ path: join(RESULTS, 'reward-traces.png'), fullPage: true });
    await page.mouse.move(2, 2);
  });

  await t.test('smoothing 0 draws the raw curve: pixels follow the rising reward', async () => {
    await page.focus('.smoothing input');
    await page.keyboard.press('Home');
    assert.equal(await page.textContent('.smoothing-value'), '0.00');
    const state = (await page.evaluate(() => window.__state)) as { smoothing: number };
    assert.equal(state.smoothing, 0, 'smoothing is kept in the webview state');
    await nextFrame(page);
    const trace = await traceColour(page, REWARD, blue);
    assert.ok(trace.columns.length > 0.8 * (trace.plot.right - trace.plot.left), 'the line spans the plot width');
    const q = [0, 0.2, 0.4, 0.6, 0.8].map((a) => yOver(trace, a, a + 0.2));
    // Canvas y grows downwards: a rising reward means falling y, quarter by quarter.
    for (let k = 1; k < q.length; k++) assert.ok(q[k] < q[k - 1], `line y should fall left to right: ${q.map((v) => v.toFixed(1))}`);
    const plotH = trace.plot.bottom - trace.plot.top;
    assert.ok(q[0] - q[4] > 0.4 * plotH, `the rise spans most of the plot height (${q[0] - q[4]} of ${plotH})`);
  });

  await t.test('a delta appends points and the new points are drawn', async () => {
    const before = await traceColour(page, REWARD, red);
    const from = await postedCount(page);
    const steps = Array.from({ length: 10 }, (_, k) => 121 + k);
    await sendToView(page, {
      type: 'delta',
      runId: baseline.id,
      series: { [REWARD]: { steps, values: steps.map(() => -3) } },
      progress: { step: 131, total: N, eta: 104 },
    });
    const rendered = await nextPosted(page, 'rendered', from);
    assert.equal(rendered.points, writtenPoints + steps.length);
    const after = await traceColour(page, REWARD, red);
    const lastBefore = before.columns[before.columns.length - 1][0];
    const lastAfter = after.columns[after.columns.length - 1][0];
    assert.ok(lastAfter > lastBefore + 5, `the red line extends right (${lastBefore} → ${lastAfter})`);
    // The appended -3s are the new minimum: they sit at the bottom of the plot.
    const tail = after.columns.filter(([x]) => x > lastBefore + 2);
    assert.ok(tail.length > 0);
    assert.ok(
      Math.max(...tail.map((c) => c[2])) > after.plot.bottom - 0.1 * (after.plot.bottom - after.plot.top),
      'new points drawn at the bottom',
    );
    assert.match((await page.textContent(`.run[data-run-id="${baseline.id}"]`)) ?? '', /step 131 \/ 200 · ETA 1m 44s/);
    assert.match((await page.textContent(`.panel[data-metric="${REWARD}"] .panel-latest`)) ?? '', /-3\b/);
  });

  await t.test('a status message marks a run failed with the trainer error', async () => {
    const from = await postedCount(page);
    const { series: _series, ...summary } = snapshot[1];
    await sendToView(page, { type: 'status', run: { ...summary, status: 'failed', error: 'ValueError: reward is NaN at step 131' } });
    await nextPosted(page, 'rendered', from);
    const row = page.locator(`.run[data-run-id="${baseline.id}"]`);
    assert.equal(await row.getAttribute('data-status'), 'failed');
    assert.match((await row.locator('.run-error').textContent()) ?? '', /reward is NaN at step 131/);
  });

  await t.test('a click on the chart posts selectStep with the step under the pointer', async () => {
    const trace = await traceColour(page, REWARD, blue);
    const { left, right, stepMin, stepMax } = trace.plot;
    const frac = 0.3;
    const x = left + frac * (right - left);
    const col = trace.columns.reduce((best, c) => (Math.abs(c[0] - x) < Math.abs(best[0] - x) ? c : best));
    const expectedStep = stepMin + frac * (stepMax - stepMin);
    const from = await postedCount(page);
    await page.mouse.click(trace.canvasLeft + x, trace.canvasTop + col[3]);
    const sel = await nextPosted(page, 'selectStep', from);
    assert.equal(sel.runId, fact.id, 'the run whose line is under the pointer');
    assert.ok(Math.abs(sel.step - expectedStep) <= 1, `step ${sel.step} should be near ${expectedStep.toFixed(1)}`);
    assert.ok(Number.isInteger(sel.step), 'snaps to a real step');
  });

  await t.test('keyboard: arrows move the crosshair, Enter selects that step', async () => {
    await page.focus(`.panel[data-metric="${REWARD}"] .chart`);
    await page.keyboard.press('End');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    const from = await postedCount(page);
    await page.keyboard.press('Enter');
    const sel = await nextPosted(page, 'selectStep', from);
    assert.deepEqual(sel, { type: 'selectStep', runId: fact.id, step: N - 3 });
    await nextFrame(page);
    const live = await page.textContent(`.panel[data-metric="${REWARD}"] .sr-only`);
    assert.match(live ?? '', new RegExp(`Step ${N - 3}: ${fact.id}`));
    await page.keyboard.press('Escape');
  });

  await t.test('wheel zoom narrows the step range, double-click resets it', async () => {
    const before = await traceColour(page, REWARD, blue);
    const { left, right, top, bottom } = before.plot;
    await page.mouse.move(before.canvasLeft + (left + right) / 2, before.canvasTop + (top + bottom) / 2);
    await page.mouse.wheel(0, -400);
    await nextFrame(page);
    const zoomed = await traceColour(page, REWARD, blue);
    const span = (p: LineTrace['plot']): number => p.stepMax - p.stepMin;
    assert.ok(span(zoomed.plot) < 0.8 * span(before.plot), `zoomed span ${span(zoomed.plot)} vs ${span(before.plot)}`);
    assert.equal(await page.isEnabled('.reset'), true);
    // The step axis is shared: the KL panel follows.
    const kl = await page.$eval(
      `.panel[data-metric="${KL}"] canvas`,
      (c) => Number((c as PageElement).dataset.stepMax) - Number((c as PageElement).dataset.stepMin),
    );
    assert.ok(Math.abs(kl - span(zoomed.plot)) < 1e-6);
    await page.mouse.dblclick(before.canvasLeft + (left + right) / 2, before.canvasTop + (top + bottom) / 2);
    await nextFrame(page);
    const reset = await traceColour(page, REWARD, blue);
    assert.equal(span(reset.plot), span(before.plot));
    await page.mouse.move(2, 2);
  });

  await t.test('the picker adds a chart for another metric', async () => {
    await page.selectOption('.picker', 'ppo/response_length');
    await page.waitForSelector('.panel[data-metric="ppo/response_length"]');
    await nextFrame(page);
    const trace = await traceColour(page, 'ppo/response_length', blue);
    assert.ok(trace.columns.length > 100, 'the new panel draws the run');
    const state = (await page.evaluate(() => window.__state)) as { metrics: string[] };
    assert.deepEqual(state.metrics, [REWARD, KL, 'ppo/response_length']);
  });

  await t.test('the legend hides and shows a run', async () => {
    const green = DARK_PALETTE[2];
    const failed = RUNS[2];
    assert.ok((await traceColour(page, REWARD, green)).pixels > 100, 'the third run is drawn in green');
    const toggle = page.locator(`.run[data-run-id="${failed.id}"] .run-toggle`);
    await toggle.click();
    await nextFrame(page);
    assert.equal(await page.getAttribute(`.run[data-run-id="${failed.id}"] .run-toggle`, 'aria-pressed'), 'false');
    assert.equal((await traceColour(page, REWARD, green)).pixels, 0, 'a hidden run is not drawn');
    assert.deepEqual(((await page.evaluate(() => window.__state)) as { hiddenRuns: string[] }).hiddenRuns, [failed.id]);
    await page.locator(`.run[data-run-id="${failed.id}"] .run-toggle`).click();
    await nextFrame(page);
    assert.ok((await traceColour(page, REWARD, green)).pixels > 100, 'shown again');
  });

  await t.test('light vs dark theme variables change the drawn line colour', async () => {
    const lightBlue = LIGHT_PALETTE[0];
    const darkBefore = await traceColour(page, REWARD, blue);
    const lightBefore = await traceColour(page, REWARD, lightBlue);
    assert.ok(
      darkBefore.pixels > 300 && lightBefore.pixels < 0.02 * darkBefore.pixels,
      `dark theme draws ${blue} (${darkBefore.pixels} vs ${lightBefore.pixels})`,
    );
    await page.evaluate((t) => {
      // What VS Code does on a theme switch: new variables on <html>, new class on <body>.
      for (const [k, v] of Object.entries(t.vars)) document.documentElement.style.setProperty(k, v);
      document.body.classList.replace('vscode-dark', t.bodyClass);
    }, LIGHT_THEME);
    await nextFrame(page);
    const darkAfter = await traceColour(page, REWARD, blue);
    const lightAfter = await traceColour(page, REWARD, lightBlue);
    assert.ok(
      lightAfter.pixels > 300 && darkAfter.pixels < 0.02 * lightAfter.pixels,
      `light theme draws ${lightBlue} (${lightAfter.pixels} vs ${darkAfter.pixels})`,
    );
    const swatch = await page.$eval(`.run[data-run-id="${fact.id}"] .swatch`, (e) => getComputedStyle(e as PageElement).backgroundColor);
    assert.equal(swatch, 'rgb(51, 34, 136)', 'legend swatch follows the theme');
    await page.screenshot({ path: join(RESULTS, 'reward-traces-light.png'), fullPage: true });
  });

  await t.test('UI state survives a reload (VS Code keeps it across hides)', async () => {
    await page.reload();
    await page.waitForFunction(() => window.__posted.some((m) => m.type === 'ready'));
    assert.equal(await page.textContent('.smoothing-value'), '0.00');
    const from = await postedCount(page);
    await sendToView(page, { type: 'snapshot', runs: snapshot });
    await nextPosted(page, 'rendered', from);
    const panels = await page.$$eval('.panel', (els) => els.map((e) => (e as PageElement).dataset.metric));
    assert.deepEqual(panels, [REWARD, KL, 'ppo/response_length']);
  });

  await t.test('no CSP violations occurred, and the CSP does block inline script', async () => {
    assert.deepEqual(await page.evaluate(() => window.__cspViolations), []);
    assert.deepEqual(consoleCsp, []);
    const ran = await page.evaluate(async () => {
      const s = document.createElement('script');
      s.textContent = 'window.__inlineRan = true';
      document.body.append(s);
      await new Promise((ok) => setTimeout(ok, 50));
      return window.__inlineRan === true;
    });
    assert.equal(ran, false, 'inline script must not run under the CSP');
    assert.ok((await page.evaluate(() => window.__cspViolations)).some((v) => v.startsWith('script-src')));
  });

  await page.context().close();
});

const realRunDir = process.env.FACT_RLHF_TEST_RUN_DIR;
if (realRunDir) {
  test(`renders a real trainer run directory (${realRunDir})`, async () => {
    const traces = await loadRunTraces(realRunDir);
    const points = Object.values(traces.series).reduce((n, s) => n + s.steps.length, 0);
    assert.ok(points > 0, 'the run directory holds no metric points');
    const page = await openView(browser, server.url, DARK_THEME);
    const from = await postedCount(page);
    await sendToView(page, { type: 'snapshot', runs: [traces] });
    const rendered = await nextPosted(page, 'rendered', from);
    assert.deepEqual({ runs: rendered.runs, points: rendered.points }, { runs: 1, points });
    assert.ok((await page.textContent(`.run[data-run-id="${traces.runId}"]`))?.includes(traces.status));
    const reward = traces.series[REWARD];
    assert.ok(reward && reward.steps.length > 0, `the run has no ${REWARD} series`);
    const trace = await traceColour(page, REWARD, DARK_PALETTE[0]);
    const expectedColumns = Math.min(reward.steps.length, 10);
    assert.ok(trace.columns.length >= expectedColumns, `the reward line is drawn (${trace.columns.length} columns)`);
    await page.screenshot({ path: join(RESULTS, 'reward-traces-real-run.png'), fullPage: true });
    assert.deepEqual(await page.evaluate(() => window.__cspViolations), []);
    await page.context().close();
  });
}
