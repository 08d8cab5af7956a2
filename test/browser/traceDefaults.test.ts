// Browser tier, issue 15 items 14 and 16: the trace view's defaults in headless Chromium — panels
// per stage, a 300 px sidebar without overflow, axis titles and ticks, a colour-blind-safe palette,
// runs named by their config, a double-click that opens nothing, and the run's phase.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import type { RunTraces, PlainSeriesData } from '../../src/protocol/webviews/rewardTraces';
import { primaryMetricKeys } from '../../src/protocol/metrics';
import { DARK_PALETTE, LIGHT_PALETTE } from '../../webview/shared/charts/palette';
import {
  buildBundle,
  DARK_THEME,
  launchChromium,
  nextPosted,
  openView,
  postedCount,
  sendToView,
  servePage,
  type PageCanvas,
  type PageDocument,
  type PageElement,
  type PageServer,
  type PageWindow,
} from './harness';

declare const window: PageWindow;
declare const document: PageDocument & { documentElement: PageElement & { scrollWidth: number; clientWidth: number } };
declare function requestAnimationFrame(callback: () => void): number;
declare function getComputedStyle(element: PageElement): { backgroundColor: string };

let server: PageServer;
let browser: Browser;

before(async () => {
  buildBundle('reward-traces');
  server = await servePage('reward-traces');
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

function series(n: number, f: (i: number) => number, from = 1): PlainSeriesData {
  return { steps: Array.from({ length: n }, (_, i) => i + from), values: Array.from({ length: n }, (_, i) => f(i)) };
}

function run(runId: string, stage: string, keys: string[], extra: Partial<RunTraces> = {}): RunTraces {
  const s: Record<string, PlainSeriesData> = {};
  keys.forEach((k, j) => (s[k] = series(12, (i) => Math.sin(i / 3 + j) + i / 10)));
  return { runId, runDir: `/runs/${runId}`, stage, status: 'finished', series: s, ...extra };
}

async function nextFrame(page: Page): Promise<void> {
  await page.evaluate(() => new Promise<void>((ok) => requestAnimationFrame(() => requestAnimationFrame(() => ok()))));
}

async function show(page: Page, runs: RunTraces[]): Promise<void> {
  const from = await postedCount(page);
  await sendToView(page, { type: 'snapshot', runs });
  await nextPosted(page, 'rendered', from);
  await nextFrame(page);
}

const panelKeys = (page: Page): Promise<(string | undefined)[]> =>
  page.$$eval('.panel', (els) => els.map((e) => (e as PageElement).dataset.metric));

test("SFT and RM runs open on their own stage's panels, not on PPO's", async () => {
  const page = await openView(browser, server.url, DARK_THEME);
  assert.deepEqual(await panelKeys(page), primaryMetricKeys('ppo'), 'before any run: the PPO panels');
  await show(page, [run('tiny-sft-1', 'sft', ['sft/loss', 'sft/learning_rate'])]);
  assert.deepEqual(await panelKeys(page), ['sft/loss']);
  await show(page, [run('tiny-rm-1', 'rm', ['rm/loss', 'rm/accuracy', 'rm/eval_accuracy'])]);
  assert.deepEqual(await panelKeys(page), primaryMetricKeys('rm'));
  assert.ok(!(await panelKeys(page)).some((k) => k?.startsWith('ppo/')), 'an RM run shows no PPO panel');
  // Every default panel has data to draw (no "No data yet" panels).
  const empty = await page.$$eval(
    '.panel canvas',
    (cs) => cs.filter((c) => (c as PageElement).dataset.xTicks === undefined || (c as PageElement).dataset.xTicks === '0').length,
  );
  assert.equal(empty, 0);
  await page.context().close();
});

test('at the default 300 px sidebar the charts fit the width, with axis titles and at least three ticks', async () => {
  const page = await openView(browser, server.url, DARK_THEME, { width: 300, height: 900 });
  await show(page, [run('a', 'ppo', ['ppo/reward_total', 'ppo/kl_sum'])]);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.equal(overflow, 0, 'the page scrolls sideways');
  const boxes = await page.$$eval('.panel', (els) =>
    els.map((e) => {
      const r = (e as PageElement).getBoundingClientRect();
      return { left: r.left, right: r.left + r.width };
    }),
  );
  for (const b of boxes) assert.ok(b.left >= 0 && b.right <= 300, `panel at ${b.left}..${b.right} is clipped`);
  const axes = await page.$$eval('.panel canvas', (cs) =>
    cs.map((c) => {
      const el = c as PageCanvas;
      const r = el.getBoundingClientRect();
      const ds = el.dataset;
      return { xTicks: ds.xTicks, yTicks: ds.yTicks, xTitle: ds.xTitle, yTitle: ds.yTitle, right: r.left + r.width };
    }),
  );
  assert.equal(axes.length, 2);
  for (const a of axes) {
    assert.ok(a.right <= 300, `a chart ends at ${a.right}`);
    assert.ok(Number(a.xTicks) >= 3, `x ticks: ${a.xTicks}`);
    assert.ok(Number(a.yTicks) >= 3, `y ticks: ${a.yTicks}`);
    assert.equal(a.xTitle, 'PPO iteration');
  }
  assert.equal(axes[0].yTitle, 'reward', "the catalogue's label for ppo/reward_total");
  assert.equal(axes[1].yTitle, 'KL divergence (sum over tokens) (nats)', "the title with the catalogue's unit");
  // Pixels: the y title is drawn in the strip left of the tick labels, the x title under the plot.
  // (No helper functions inside evaluate: the test transpiler would name them with a helper the page lacks.)
  const ink = await page.evaluate(() => {
    const c = document.querySelector<PageCanvas>('.panel canvas');
    if (!c) throw new Error('no canvas');
    const ctx = c.getContext('2d');
    if (!ctx) throw new Error('no 2d context');
    const top = Number(c.dataset.plotTop);
    const bottom = Number(c.dataset.plotBottom);
    const left = Number(c.dataset.plotLeft);
    const right = Number(c.dataset.plotRight);
    const rects = [
      [0, top, 12, bottom - top],
      [left, c.height - 14, right - left, 14],
    ];
    const counts: number[] = [];
    for (const [x0, y0, w, h] of rects) {
      const d = ctx.getImageData(x0, y0, w, h).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 100) n++;
      counts.push(n);
    }
    return { yTitle: counts[0], xTitle: counts[1] };
  });
  assert.ok(ink.yTitle > 20, `y-axis title pixels: ${ink.yTitle}`);
  assert.ok(ink.xTitle > 20, `x-axis title pixels: ${ink.xTitle}`);
  await page.context().close();
});

// --- palette -----------------------------------------------------------------------------------

const lin = (c: number): number => (c / 255 <= 0.04045 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4);
const rgbOf = (hex: string): number[] => [1, 3, 5].map((i) => lin(parseInt(hex.slice(i, i + 2), 16)));
const luminance = (c: number[]): number => 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
const contrast = (a: string, b: string): number => {
  const [x, y] = [luminance(rgbOf(a)), luminance(rgbOf(b))];
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
};
// Machado et al. 2009, severity 1, on linear RGB.
const CVD: Record<string, number[][]> = {
  none: [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ],
  deuteranopia: [
    [0.367322, 0.860646, -0.227968],
    [0.280085, 0.672501, 0.047413],
    [-0.01182, 0.04294, 0.968881],
  ],
  protanopia: [
    [0.152286, 1.052583, -0.204868],
    [0.114503, 0.786281, 0.099216],
    [-0.003882, -0.048116, 1.051998],
  ],
};
function lab(c: number[]): number[] {
  const f = (t: number): number => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116);
  const X = (0.4124 * c[0] + 0.3576 * c[1] + 0.1805 * c[2]) / 0.95047;
  const Y = 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  const Z = (0.0193 * c[0] + 0.1192 * c[1] + 0.9505 * c[2]) / 1.08883;
  return [116 * f(Y) - 16, 500 * (f(X) - f(Y)), 200 * (f(Y) - f(Z))];
}
function seenAs(hex: string, m: number[][]): number[] {
  const c = rgbOf(hex);
  return lab(m.map((row) => Math.min(1, Math.max(0, row[0] * c[0] + row[1] * c[1] + row[2] * c[2]))));
}
const deltaE = (a: number[], b: number[]): number => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
const hex = (rgb: string): string =>
  `#${(rgb.match(/\d+/g) ?? [])
    .slice(0, 3)
    .map((n) => Number(n).toString(16).padStart(2, '0'))
    .join('')}`;

test('six overlaid runs get colour-blind-safe colours that read on dark and light themes (no red/green pair, no brown)', async () => {
  const page = await openView(browser, server.url, DARK_THEME);
  const runs = Array.from({ length: 6 }, (_, i) => run(`r${i}`, 'ppo', ['ppo/reward_total']));
  await show(page, runs);
  const swatches = async (): Promise<string[]> =>
    (await page.$$eval('.run .swatch', (els) => els.map((e) => getComputedStyle(e as PageElement).backgroundColor))).map(hex);
  const dark = await swatches();
  assert.deepEqual(dark, [...DARK_PALETTE], 'the legend uses the palette in order');
  await page.evaluate(() => document.body.classList.replace('vscode-dark', 'vscode-light'));
  await nextFrame(page);
  const light = await swatches();
  assert.deepEqual(light, [...LIGHT_PALETTE]);
  for (const [palette, backgrounds] of [
    [dark, ['#181818', '#1f1f1f', '#252526']],
    [light, ['#f8f8f8', '#ffffff']],
  ] as const) {
    for (const c of palette) {
      for (const bg of backgrounds) assert.ok(contrast(c, bg) >= 3, `${c} on ${bg}: contrast ${contrast(c, bg).toFixed(2)} < 3`);
      // Brown: an orange hue (CIELAB 45–85°) at low lightness (it sinks into dark themes).
      const [L, a, b] = lab(rgbOf(c));
      const hue = ((Math.atan2(b, a) * 180) / Math.PI + 360) % 360;
      assert.ok(!(hue > 45 && hue < 85 && L < 50), `${c} is brown (L ${L.toFixed(0)}, hue ${hue.toFixed(0)})`);
    }
    for (const [vision, m] of Object.entries(CVD)) {
      for (let i = 0; i < palette.length; i++) {
        for (let j = i + 1; j < palette.length; j++) {
          const d = deltaE(seenAs(palette[i], m), seenAs(palette[j], m));
          assert.ok(d >= 15, `${palette[i]} and ${palette[j]} under ${vision}: ΔE ${d.toFixed(1)} < 15`);
        }
      }
    }
  }
  await page.context().close();
});

test('runs are named by their config and what differs, not by a truncated timestamp', async () => {
  const page = await openView(browser, server.url, DARK_THEME);
  await show(page, [
    run('tiny-ppo-ppo-20260101-000000', 'ppo', ['ppo/reward_total'], { name: 'tiny-ppo', differs: ['ppo.kl_coef=0.05'] }),
    run('tiny-ppo-ppo-20260101-010000', 'ppo', ['ppo/reward_total'], { name: 'tiny-ppo', differs: ['ppo.kl_coef=0.2'] }),
  ]);
  const rows = await page.$$eval('.run', (els) =>
    els.map((e) => ({
      name: (e as PageElement & { querySelector(s: string): PageElement | null }).querySelector('.run-name')?.textContent,
      differs: (e as PageElement & { querySelector(s: string): PageElement | null }).querySelector('.run-differs')?.textContent,
    })),
  );
  assert.deepEqual(rows, [
    { name: 'tiny-ppo', differs: 'ppo.kl_coef=0.05' },
    { name: 'tiny-ppo', differs: 'ppo.kl_coef=0.2' },
  ]);
  // The chart's tooltip names the runs the same way.
  const c = await page.$eval('.panel canvas', (e) => {
    const r = (e as PageCanvas).getBoundingClientRect();
    return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
  });
  await page.mouse.move(c.x, c.y);
  await page.waitForSelector('.chart-tooltip:not([hidden])');
  const tip = (await page.textContent('.chart-tooltip')) ?? '';
  assert.ok(tip.includes('tiny-ppo (ppo.kl_coef=0.2)'), tip);
  await page.context().close();
});

test('a double-click resets the zoom and opens no samples; a single click still does', async () => {
  const page = await openView(browser, server.url, DARK_THEME);
  await show(page, [run('a', 'ppo', ['ppo/reward_total', 'ppo/kl_sum'])]);
  const box = await page.$eval('.panel canvas', (e) => {
    const el = e as PageCanvas;
    const r = el.getBoundingClientRect();
    return {
      x: r.left + (Number(el.dataset.plotLeft) + Number(el.dataset.plotRight)) / 2,
      y: r.top + (Number(el.dataset.plotTop) + Number(el.dataset.plotBottom)) / 2,
    };
  });
  await page.mouse.move(box.x, box.y);
  await page.mouse.wheel(0, -400); // zoom in
  await nextFrame(page);
  const zoomed = await page.$eval(
    '.panel canvas',
    (e) => Number((e as PageCanvas).dataset.stepMax) - Number((e as PageCanvas).dataset.stepMin),
  );
  const from = await postedCount(page);
  await page.mouse.dblclick(box.x, box.y);
  await page.waitForTimeout(700); // past the double-click window
  await nextFrame(page);
  const posted = await page.evaluate((i) => window.__posted.slice(i).filter((m) => m.type === 'selectStep').length, from);
  assert.equal(posted, 0, 'a double-click posted selectStep (it opens a samples file)');
  const reset = await page.$eval(
    '.panel canvas',
    (e) => Number((e as PageCanvas).dataset.stepMax) - Number((e as PageCanvas).dataset.stepMin),
  );
  assert.ok(reset > zoomed, `the zoom was not reset (${zoomed} → ${reset})`);
  const before = await postedCount(page);
  await page.mouse.click(box.x, box.y);
  const sel = await nextPosted(page, 'selectStep', before);
  assert.equal(sel.runId, 'a');
  await page.context().close();
});

test('a starting run shows its phase in the legend, then its warm-up count', async () => {
  const page = await openView(browser, server.url, DARK_THEME);
  const live: RunTraces = { runId: 'p', runDir: '/runs/p', stage: 'ppo', status: 'starting', series: {}, name: 'tiny-ppo' };
  await show(page, [live]);
  assert.match((await page.textContent('.run[data-run-id="p"] .run-detail')) ?? '', /starting the trainer…/);
  await sendToView(page, { type: 'status', run: { ...live, progress: { step: 0, total: 0, eta: null, phase: 'data' } } });
  await page.waitForSelector('.run[data-run-id="p"] .run-phase[data-phase="data"]');
  assert.equal(await page.textContent('.run[data-run-id="p"] .run-phase'), 'preparing data…');
  await sendToView(page, {
    type: 'status',
    run: { ...live, status: 'running', progress: { step: 3, total: 30, eta: 27, phase: 'reward_warmup' } },
  });
  await page.waitForFunction(() => /reward-model warm-up 3 \/ 30/.test(document.querySelector('.run[data-run-id="p"]')?.textContent ?? ''));
  await page.context().close();
});
