// Browser tier: the trace panel a researcher expects, in headless Chromium behind the extension's
// real host end (TraceHub + HostChannel, VS Code-free). Two real run folders: one whose answers
// collapse towards empty (it trips the collapse rule), one healthy with another KL coefficient.
// Checks the alarm plumbing (host notice, legend badge, chart marker in the theme's error colour),
// the grouped metric picker, the wall-time axis, debiased EMA numbers against a hand computation
// (through the CSV export), the per-run toggle, the config difference, and CSV/PNG through the
// host's typed saveExport request.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import {
  rewardTracesContract,
  type RewardTracesContract,
  type SaveExportParams,
  type TraceAlarm,
} from '../../src/protocol/webviews/rewardTraces';
import { HostChannel } from '../../src/editor/webviews/channel';
import { TraceHub } from '../../src/viewModels/traceHub';
import { exportBytes } from '../../src/viewModels/exports';
import {
  buildBundle,
  DARK_THEME,
  launchChromium,
  nextPosted,
  openView,
  postedCount,
  sendRawToView,
  servePage,
  type PageCanvas,
  type PageDocument,
  type PageServer,
  type PageWindow,
} from './harness';

declare const window: PageWindow;
declare const document: PageDocument & {
  querySelectorAll(selector: string): ArrayLike<{ label: string; children: ArrayLike<{ value: string }> }>;
};

const REWARD = 'ppo/reward_total';
const LENGTH = 'ppo/response_length';
const N = 40;
const T0 = 1_760_000_000;
/** Two seconds per step, so the wall-time axis cannot be mistaken for the step axis. */
const timeOf = (step: number): number => T0 + 10 + 2 * step;

function manifest(id: string, klCoef: number): object {
  return {
    id,
    stage: 'ppo',
    config: { ppo: { kl_coef: klCoef, learning_rate: 1e-5 }, model: { name: 'tiny' } },
    config_hash: `sha256:${id}`,
    host: 'test-host',
    pids: [1],
    world_size: 1,
    started: T0,
    ended: T0 + 100,
    status: 'finished',
    protocol_version: 1,
  };
}

/** Reward and length of a step: the collapsing run's answers shrink to nothing from step 20. */
function row(step: number, collapsing: boolean): Record<string, number> {
  const wiggle = Math.sin(step * 1.3) * 0.2;
  return {
    // No trend: a reward rising while answers shrink would (rightly) also trip reward_hacking.
    [REWARD]: -5 + wiggle,
    [LENGTH]: collapsing && step >= 20 ? Math.max(0, 40 - 4 * (step - 19)) : 40 + Math.cos(step * 2.1),
    'ppo/kl_sum': 0.01 * step + 0.002 * Math.sin(step),
    'ppo/entropy': 3 + 0.02 * Math.sin(step * 0.7),
  };
}

function writeRun(parent: string, id: string, klCoef: number, collapsing: boolean): string {
  const dir = join(parent, id);
  mkdirSync(join(dir, 'samples'), { recursive: true });
  writeFileSync(join(dir, 'run.json'), JSON.stringify(manifest(id, klCoef)));
  const events: object[] = [{ v: 1, t: T0, type: 'status', status: 'running' }];
  for (let step = 0; step < N; step++) {
    events.push({ v: 1, t: timeOf(step), type: 'metric', step, values: row(step, collapsing) });
    if (step % 10 === 0) {
      const path = `samples/step-${String(step).padStart(6, '0')}.jsonl`;
      writeFileSync(join(dir, path), '{}\n');
      events.push({ v: 1, t: timeOf(step), type: 'sample', step, path, count: 1 });
    }
  }
  events.push({ v: 1, t: timeOf(N), type: 'status', status: 'finished' });
  writeFileSync(join(dir, 'events.jsonl'), `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
  return dir;
}

/** TensorBoard's smoothing: EMA debiased by 1 − β^n (n: points seen), computed the plain way. */
function debiasedEma(values: number[], beta: number): number[] {
  const out: number[] = [];
  let acc = 0;
  values.forEach((v, i) => {
    acc = beta * acc + (1 - beta) * v;
    out.push(acc / (1 - beta ** (i + 1)));
  });
  return out;
}

let browser: Browser;
let server: PageServer;
let dir: string;

before(async () => {
  buildBundle('reward-traces');
  dir = mkdtempSync(join(tmpdir(), 'trace-panel-'));
  server = await servePage('reward-traces');
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** One canvas pixel, as [r, g, b]. */
async function pixel(page: Page, metric: string, x: number, y: number): Promise<number[]> {
  return page.evaluate(
    ([m, px, py]) => {
      const c = document.querySelector<PageCanvas>(`.panel[data-metric="${m}"] canvas`);
      const d = c?.getContext('2d')?.getImageData(Math.round(px), Math.round(py), 1, 1).data;
      return d ? [d[0], d[1], d[2]] : [];
    },
    [metric, x, y] as const,
  );
}

async function plot(page: Page, metric: string): Promise<Record<string, string | undefined>> {
  return page.evaluate((m) => ({ ...(document.querySelector<PageCanvas>(`.panel[data-metric="${m}"] canvas`)?.dataset ?? {}) }), metric);
}

test('the trace panel: alarms, picker, wall time, EMA, toggle, config difference, CSV and PNG', async (t) => {
  const collapsed = writeRun(dir, 'ppo-collapsed', 0.1, true);
  writeRun(dir, 'ppo-healthy', 0.2, false);

  const hostLog: string[] = [];
  const notices: { runId: string; alarm: TraceAlarm }[] = [];
  const exports: SaveExportParams[] = [];
  let pageRef: Page | undefined;
  const channel: HostChannel<RewardTracesContract> = new HostChannel({
    contract: rewardTracesContract,
    post: (m) => pageRef && sendRawToView(pageRef, m),
    beforeReady: 'drop',
    onReady: () => hub.sendSnapshot(),
    commands: {},
    requests: {
      // What the editor does after its save dialog: check the payload and write the bytes.
      saveExport: (p) => {
        exports.push(p);
        const path = join(dir, `export-${exports.length}.${p.format}`);
        writeFileSync(path, exportBytes(p));
        return { saved: true, path };
      },
    },
    log: (line) => hostLog.push(line),
  });
  const hub = new TraceHub((m) => channel.notify(m), 30);
  hub.onAlarm = (runId, alarm) => notices.push({ runId, alarm });
  await hub.open(collapsed);
  await hub.open(join(dir, 'ppo-healthy'));

  const page = await openView(browser, server.url, DARK_THEME, { width: 640, height: 1400 }, (m, p) => {
    pageRef = p;
    channel.receive(m);
  });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await nextPosted(page, 'rendered', 0);

  await t.test('the collapsing run raises one alarm: a host notice, a legend badge, a marker where it began', async () => {
    assert.deepEqual(
      notices.map((n) => `${n.runId}:${n.alarm.rule}`),
      ['ppo-collapsed:collapse'],
      'one notice, for the collapsing run only',
    );
    // Length below half its baseline (the first 3 points' mean, 40.002) from step 24 (40 − 4·5 = 20).
    const step = notices[0].alarm.step;
    assert.equal(step, 24);
    assert.equal(hub.alarms.badge()?.value, 1);
    assert.match(hub.alarms.badge()?.tooltip ?? '', /ppo-collapsed: collapse at step 24/);
    // "Show samples at step N" opens the sample file nearest that step (the chart click's path).
    assert.equal(hub.sampleFileNear('ppo-collapsed', step)?.path, join(collapsed, 'samples', 'step-000020.jsonl'));

    const badge = page.locator('.run[data-run-id="ppo-collapsed"] .alarm-badge');
    assert.equal(await badge.textContent(), '⚠ 1');
    assert.match((await badge.getAttribute('title')) ?? '', /collapse from step 24/);
    assert.equal(await page.locator('.run[data-run-id="ppo-healthy"] .alarm-badge').count(), 0);
    // The alarm's line in the legend asks the host for the samples at its step, like a chart click.
    const from = await postedCount(page);
    await page.locator('.run[data-run-id="ppo-collapsed"] .run-alarm-open').click();
    assert.deepEqual(await nextPosted(page, 'selectStep', from), { type: 'selectStep', runId: 'ppo-collapsed', step: 24 });

    const ds = await plot(page, REWARD);
    const [xText, label] = (ds.markers ?? '').split(' ');
    assert.equal(label, '⚠', `marker label of ${ds.markers}`);
    assert.match(ds.markers ?? '', /collapse @ 24$/);
    const left = Number(ds.plotLeft);
    const right = Number(ds.plotRight);
    const expectedX = left + ((24 - Number(ds.stepMin)) / (Number(ds.stepMax) - Number(ds.stepMin))) * (right - left);
    assert.ok(Math.abs(Number(xText) - expectedX) < 1, `marker at x ${xText}, expected ${expectedX.toFixed(1)}`);
    // Drawn in the theme's error colour (#f85149), down the plot.
    const y = (Number(ds.plotTop) + Number(ds.plotBottom)) * 0.5 + 20;
    const rgb = await pixel(page, REWARD, Math.floor(Number(xText)), y);
    assert.ok(Math.abs(rgb[0] - 0xf8) < 40 && Math.abs(rgb[1] - 0x51) < 40 && Math.abs(rgb[2] - 0x49) < 40, `marker pixel ${rgb}`);
  });

  await t.test('an alarms notification reaches the view as it is raised', async () => {
    const from = await postedCount(page);
    channel.notify({
      type: 'alarms',
      runId: 'ppo-healthy',
      alarms: [{ rule: 'kl', severity: 'warning', step: 7, detectedAt: 9, message: 'KL out of band.' }],
    });
    await nextPosted(page, 'rendered', from);
    assert.equal(await page.locator('.run[data-run-id="ppo-healthy"] .alarm-badge').textContent(), '⚠ 1');
    assert.match((await plot(page, REWARD)).markers ?? '', /kl @ 7/);
    const from2 = await postedCount(page);
    channel.notify({ type: 'alarms', runId: 'ppo-healthy', alarms: [] });
    await nextPosted(page, 'rendered', from2);
    assert.equal(await page.locator('.run[data-run-id="ppo-healthy"] .alarm-badge').count(), 0);
  });

  await t.test('the metric picker lists the other metrics by group and adds a panel, kept in state', async () => {
    const groups = await page.evaluate(() =>
      Array.from(document.querySelectorAll('.picker optgroup')).map((g) => ({
        label: g.label,
        keys: Array.from(g.children).map((o) => o.value),
      })),
    );
    assert.deepEqual(groups, [{ label: 'ppo', keys: ['ppo/entropy', LENGTH] }]);
    await page.selectOption('.picker', LENGTH);
    await page.waitForSelector(`.panel[data-metric="${LENGTH}"] canvas`);
    const state = (await page.evaluate(() => window.__state)) as { metrics: string[] };
    assert.ok(state.metrics.includes(LENGTH), JSON.stringify(state));
    assert.match((await plot(page, LENGTH)).markers ?? '', /collapse @ 24/);
  });

  await t.test('the config keys that differ are shown in the legend while both runs are shown', async () => {
    const diff = page.locator('.run[data-run-id="ppo-collapsed"] .run-config-diff');
    assert.equal(await diff.textContent(), 'ppo.kl_coef=0.1');
    assert.equal(await page.locator('.run[data-run-id="ppo-healthy"] .run-config-diff').textContent(), 'ppo.kl_coef=0.2');
    assert.match((await diff.getAttribute('title')) ?? '', /differ between the shown runs:\nppo\.kl_coef=0\.1/);
  });

  await t.test('CSV of the visible series: debiased EMA equals the hand computation', async () => {
    await page.locator(`.panel[data-metric="${LENGTH}"] .panel-remove`).click();
    const before = exports.length;
    await page.click('.export-csv');
    await page.waitForFunction(() => (document.querySelector('.export-status')?.textContent ?? '').startsWith('Saved'));
    assert.equal(exports.length, before + 1);
    const csv = exports[exports.length - 1];
    assert.equal(csv.format, 'csv');
    const lines = csv.data.trim().split('\n');
    assert.equal(lines[0], 'run,metric,step,wall_time,value,smoothed');
    const rows = lines.slice(1).map((l) => l.split(','));
    const metrics = [...new Set(rows.map((r) => r[1]))];
    assert.deepEqual(metrics, [REWARD, 'ppo/kl_sum'], 'the shown panels, in order');
    const reward = rows.filter((r) => r[0] === 'ppo-collapsed' && r[1] === REWARD);
    assert.equal(reward.length, N);
    const raw = Array.from({ length: N }, (_, s) => row(s, true)[REWARD]);
    const expected = debiasedEma(raw, 0.6);
    reward.forEach((r, i) => {
      assert.equal(Number(r[2]), i);
      assert.equal(Number(r[3]), timeOf(i));
      assert.equal(Number(r[4]), raw[i]);
      assert.ok(Math.abs(Number(r[5]) - expected[i]) < 1e-12, `step ${i}: smoothed ${r[5]} vs ${expected[i]}`);
    });
    // The first smoothed point is the first value itself: debiased, not pulled towards zero.
    assert.ok(Math.abs(Number(reward[0][5]) - raw[0]) < 1e-12);
    assert.equal(rows.length, 2 * 2 * N, 'two runs × two metrics × every step');
  });

  await t.test('the per-run toggle hides a run from charts, CSV and the config comparison', async () => {
    const toggle = page.locator('.run[data-run-id="ppo-healthy"] .run-toggle');
    await toggle.click();
    assert.equal(await page.locator('.run[data-run-id="ppo-healthy"] .run-toggle').getAttribute('aria-pressed'), 'false');
    assert.equal(await page.locator('.run-config-diff').count(), 0, 'one run shown: nothing to compare');
    await page.click('.export-csv');
    await waitUntil(
      () =>
        exports.length > 0 &&
        !exports[exports.length - 1].data.includes('ppo-healthy') &&
        exports[exports.length - 1].data.includes('ppo-collapsed'),
    );
    const state = (await page.evaluate(() => window.__state)) as { hiddenRuns: string[] };
    assert.deepEqual(state.hiddenRuns, ['ppo-healthy']);
    await page.locator('.run[data-run-id="ppo-healthy"] .run-toggle').click();
  });

  await t.test('x axis by wall time: seconds since the run began, clicks still select steps', async () => {
    await page.selectOption('.x-axis', 'wall');
    await page.waitForFunction(
      (max) => document.querySelector<PageCanvas>('.panel[data-metric="ppo/reward_total"] canvas')?.dataset.stepMax === String(max),
      timeOf(N - 1) - timeOf(0),
    );
    const ds = await plot(page, REWARD);
    assert.equal(Number(ds.stepMin), 0);
    assert.equal(Number(ds.stepMax), 2 * (N - 1));
    // The marker follows: step 24 was reached 48 s in.
    const [xText] = (ds.markers ?? '').split(' ');
    const left = Number(ds.plotLeft);
    const right = Number(ds.plotRight);
    assert.ok(Math.abs(Number(xText) - (left + (48 / (2 * (N - 1))) * (right - left))) < 1, `marker ${ds.markers}`);
    assert.equal(((await page.evaluate(() => window.__state)) as { xAxis: string }).xAxis, 'wall');

    await page.focus(`.panel[data-metric="${REWARD}"] .chart`);
    await page.keyboard.press('End');
    await page.keyboard.press('ArrowLeft');
    const from = await postedCount(page);
    await page.keyboard.press('Enter');
    const sel = await nextPosted(page, 'selectStep', from);
    assert.equal(sel.step, N - 2, 'the step of the point at that wall time, not its seconds');

    // CSV on the wall axis carries the same steps and absolute wall times.
    await page.click('.export-csv');
    await waitUntil(() =>
      exports[exports.length - 1].data.split('\n').some((l) => l.startsWith(`ppo-collapsed,${REWARD},${N - 1},${timeOf(N - 1)},`)),
    );
  });

  await t.test('PNG of a panel goes through the host as a real PNG image', async () => {
    const before = exports.length;
    await page.locator(`.panel[data-metric="${REWARD}"] .panel-png`).click();
    await waitUntil(() => exports.length > before);
    const png = exports[exports.length - 1];
    assert.equal(png.format, 'png');
    assert.equal(png.suggestedName, 'ppo-reward_total.png');
    const bytes = exportBytes(png);
    assert.ok(bytes.length > 1000, `${bytes.length} bytes`);
    // The IHDR width is the canvas width in device pixels.
    assert.ok(bytes.readUInt32BE(16) > 300);
  });

  assert.equal(channel.stats.dropped, 0, `host dropped: ${hostLog.join('; ')}`);
  assert.deepEqual(pageErrors, []);
  hub.dispose();
});

async function waitUntil(ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}
