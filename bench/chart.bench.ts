// Chart bar (DESIGN.md §7): pan/zoom over 1M points per series at >= 30 frames/s in headless Chromium.
// Two runs × two panels (reward, KL) × 1M steps each, smoothing on (raw + smoothed line per run), so
// every frame reduces 8 series of 1M points. Input is wheel zoom and horizontal-wheel pan dispatched
// in the page, one event per frame; frames/s counts frames actually drawn. Chromium runs with the
// frame-rate limit off, so the figure is the view's own throughput, not the display's 60 Hz.
// The 4M-point snapshot's first frame is measured twice, each in a fresh page: with Float64Array
// columns, as the host sends them (RunSeries → TraceHub → postMessage), and with number[] columns,
// as it sent them before, for comparison (bar: typed < 500 ms).
// Run: node --import tsx bench/chart.bench.ts [pointsPerSeries]
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildBundle, DARK_THEME, launchChromium, nextPosted, openView, postedCount, ROOT, servePage } from '../test/browser/harness';

const points = Number(process.argv[2] ?? 1_000_000);

// In-page code is plain JavaScript text: tsx rewrites TypeScript functions with helpers the page lacks.
const MAKE_SNAPSHOT = `(n, typed) => {
  const runs = [];
  const column = (k) => (typed ? new Float64Array(k) : new Array(k));
  for (let r = 0; r < 2; r++) {
    const steps = column(n);
    const reward = column(n);
    const kl = column(n);
    let seed = 0x9e3779b9 ^ (r + 1);
    const rand = () => {
      seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
      return (seed >>> 0) / 4294967296;
    };
    for (let i = 0; i < n; i++) {
      // A PPO-like reward: rising mean, per-step noise, rare spikes (which the min/max reduction must keep).
      const noise = (rand() + rand() + rand() - 1.5) * 0.25;
      steps[i] = i;
      reward[i] = -0.5 + (1 - Math.exp(-4 * i / n)) * (1.3 - 0.4 * r) + noise + (rand() < 1e-5 ? 2 : 0);
      kl[i] = 0.6 * (i / n) * (1 + 0.5 * r) + Math.abs(noise) * 0.2;
    }
    runs.push({ runId: 'bench-run-' + r, runDir: '/tmp/bench-' + r, stage: 'ppo', status: 'running',
      progress: { step: n, total: n * 2, eta: 3600 },
      series: { 'ppo/reward_total': { steps, values: reward }, 'ppo/kl_sum': { steps: steps.slice(), values: kl } } });
  }
  window.__benchSnapshot = { type: 'snapshot', runs };
}`;

const DRIVE = `async (phases) => {
  const chart = document.querySelector('.panel[data-metric="ppo/reward_total"] .chart');
  const r = chart.getBoundingClientRect();
  const cx = r.left + r.width * 0.6;
  const cy = r.top + r.height / 2;
  const stats = window.factRlhfTraceStats;
  const frame = () => new Promise((ok) => requestAnimationFrame(ok));
  const out = [];
  for (const [name, frames, dx, dy, setup] of phases) {
    if (setup) {
      chart.dispatchEvent(new WheelEvent('wheel', { deltaY: setup, clientX: cx, clientY: cy, bubbles: true, cancelable: true }));
    }
    await frame();
    const d0 = stats.draws;
    const ms0 = stats.totalMs;
    const t0 = performance.now();
    for (let f = 0; f < frames; f++) {
      // Negative dy alternates sign each frame: a zoom wobble that keeps most points in view.
      const y = dy < 0 && dx === 1 ? (f % 2 ? -dy : dy) : dy;
      chart.dispatchEvent(new WheelEvent('wheel', { deltaX: dx === 1 ? 0 : dx, deltaY: y, clientX: cx, clientY: cy, bubbles: true, cancelable: true }));
      await frame(); // the view's draw for this event runs first in the same frame
    }
    const seconds = (performance.now() - t0) / 1000;
    const draws = stats.draws - d0;
    out.push({ name, frames, fps: frames / seconds, draws, drawMsPerFrame: (stats.totalMs - ms0) / frames,
      span: Number(chart.querySelector('canvas').dataset.stepMax) - Number(chart.querySelector('canvas').dataset.stepMin) });
  }
  return out;
}`;

interface PhaseResult {
  name: string;
  frames: number;
  fps: number;
  draws: number;
  drawMsPerFrame: number;
  span: number;
}

/** Posts the prepared snapshot to the page and times it to the view's first `rendered`. */
const POST_AND_WAIT = `(async () => {
  const t0 = performance.now();
  window.postMessage(window.__benchSnapshot, '*');
  delete window.__benchSnapshot;
  await new Promise((ok) => { const id = setInterval(() => { if (window.__posted.some((m) => m.type === 'rendered')) { clearInterval(id); ok(); } }, 1); });
  return performance.now() - t0;
})()`;

async function main(): Promise<void> {
  buildBundle('reward-traces');
  const server = await servePage('reward-traces');
  const browser = await launchChromium(['--disable-frame-rate-limit', '--disable-gpu-vsync']);
  try {
    // number[] first, in its own page, closed before the measured page opens.
    const plainPage = await openView(browser, server.url, DARK_THEME, { width: 1000, height: 720 });
    await plainPage.evaluate(`(${MAKE_SNAPSHOT})(${points}, false)`);
    const plainFirstFrameMs = (await plainPage.evaluate(POST_AND_WAIT)) as number;
    await plainPage.context().close();

    const page = await openView(browser, server.url, DARK_THEME, { width: 1000, height: 720 });
    const from = await postedCount(page);
    await page.evaluate(`(${MAKE_SNAPSHOT})(${points}, true)`);
    const firstFrameMs = (await page.evaluate(POST_AND_WAIT)) as number;
    const rendered = await nextPosted(page, 'rendered', from, 120_000);
    // What 4M points look like when drawn through the per-pixel reduction (for a visual check).
    mkdirSync(join(ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test-results', 'chart-bench.png') });
    // [name, frames, deltaX per frame (1 = wobble), deltaY per frame, one wheel deltaY before the phase]
    const phases: [string, number, number, number, number][] = [
      ['zoom in (all steps → ~1/400 of them)', 120, 0, -50, 0],
      ['pan, zoomed in', 120, 40, 0, 0],
      ['zoom out (back to all steps)', 120, 0, 50, 0],
      ['zoom wobble at ~all steps (~1M pts in view)', 120, 1, -40, 0],
      ['pan at 1/2 zoom (500k pts in view)', 120, 6, 0, -462],
    ];
    const results = (await page.evaluate(`(${DRIVE})(${JSON.stringify(phases)})`)) as PhaseResult[];
    const ua = await page.evaluate('navigator.userAgent');
    console.log(`chart bench: ${points.toLocaleString('en-US')} points/series, 2 runs × 2 panels, smoothing on (${ua})`);
    console.log(
      `  snapshot of ${rendered.points.toLocaleString('en-US')} points → first frame drawn: ${firstFrameMs.toFixed(0)} ms with Float64Array columns (bar < 500 ms), ${plainFirstFrameMs.toFixed(0)} ms with number[] (structured clone + ingest + smoothing + index + draw)`,
    );
    for (const r of results) {
      console.log(
        `  ${r.name.padEnd(46)} ${r.fps.toFixed(1).padStart(6)} frames/s   draw ${r.drawMsPerFrame.toFixed(2)} ms/frame   view span ${Math.round(r.span).toLocaleString('en-US')} steps`,
      );
    }
    const worst = Math.min(...results.map((r) => r.fps));
    console.log(`  worst phase: ${worst.toFixed(1)} frames/s (bar: >= 30)`);
    await page.context().close();
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
