// Browser tier: malformed messages in both directions between the reward-trace webview (the real
// bundle in headless Chromium) and the extension's real host end (HostChannel with the trace hub,
// run in Node behind the page). Each one must be dropped — counted and logged, no crash, no change
// of state — and the channel must keep working afterwards.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import type { RunEvent } from '../../src/protocol';
import { rewardTracesContract, type RewardTracesContract } from '../../src/protocol/webviews/rewardTraces';
import { HostChannel } from '../../src/editor/webviews/channel';
import { TraceHub } from '../../src/viewModels/traceHub';
import type { ViewChannelStats } from '../../webview/shared/messaging/channel';
import {
  buildBundle,
  DARK_THEME,
  launchChromium,
  nextPosted,
  openView,
  postedCount,
  sendRawToView,
  servePage,
  type PageDocument,
  type PageServer,
  type PageWindow,
} from './harness';

declare const window: PageWindow & {
  factRlhfMessageStats: ViewChannelStats;
  acquireVsCodeApi(): { postMessage(m: unknown): void };
};
declare const document: PageDocument;
declare function requestAnimationFrame(callback: () => void): number;

const REWARD = 'ppo/reward_total';
const metric = (step: number, reward: number): RunEvent => ({
  v: 1,
  t: step,
  type: 'metric',
  step,
  values: { [REWARD]: reward, 'ppo/kl_sum': step / 100 },
});

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

/** What the page shows, to compare before and after a volley of malformed messages. */
function viewState(page: Page): Promise<string> {
  return page.evaluate(() => {
    const runs = document.querySelector('.runs')?.textContent ?? '';
    const panels = document.querySelector('.panels');
    const canvases = panels
      ? (panels as unknown as { querySelectorAll(s: string): { length: number } }).querySelectorAll('canvas').length
      : 0;
    return JSON.stringify({ runs, canvases, state: window.__state });
  });
}

test('the reward-trace webview and its host drop malformed messages and keep working', async (t) => {
  const hostLog: string[] = [];
  const selected: { runId: string; step: number }[] = [];
  const rendered: { runs: number; points: number }[] = [];
  let pageRef: Page | undefined;
  const channel: HostChannel<RewardTracesContract> = new HostChannel({
    contract: rewardTracesContract,
    post: (m) => pageRef && sendRawToView(pageRef, m),
    beforeReady: 'drop',
    onReady: () => hub.sendSnapshot(),
    commands: {
      selectStep: (m) => selected.push({ runId: m.runId, step: m.step }),
      rendered: (m) => rendered.push({ runs: m.runs, points: m.points }),
    },
    // This test saves nothing: the export request is answered as a cancelled dialog.
    requests: { saveExport: () => ({ saved: false }) },
    log: (line) => hostLog.push(line),
  });
  const hub = new TraceHub((m) => channel.notify(m), 30);
  hub.track('run-a', '/tmp/run-a', 'ppo');
  hub.apply('run-a', [metric(0, -1), metric(1, -0.5), metric(2, 0)]);

  const pageErrors: string[] = [];
  const page = await openView(browser, server.url, DARK_THEME, undefined, (m, p) => {
    pageRef = p;
    channel.receive(m);
  });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'warning' || m.type() === 'error') pageErrors.push(`console ${m.type()}: ${m.text()}`);
  });

  await t.test('the real host answers ready with the hub snapshot, which the view draws', async () => {
    await page.waitForFunction(() => window.__posted.some((m) => m.type === 'rendered'));
    assert.equal(channel.isReady, true);
    assert.equal(hub.snapshotsSent, 1);
    await page.waitForSelector('.run[data-run-id="run-a"]');
    assert.deepEqual(rendered.at(-1), { runs: 1, points: 6 });
  });

  await t.test('host → view: each malformed message is dropped, counted, and changes nothing', async () => {
    const before = await viewState(page);
    const dropped0 = await page.evaluate(() => window.factRlhfMessageStats.dropped);
    const posted0 = await postedCount(page);
    const malformed: unknown[] = [
      null,
      42,
      'snapshot',
      [],
      { runs: [] },
      { type: 'explode' },
      { type: 'toString' },
      { type: 'snapshot' },
      { type: 'snapshot', runs: 'all of them' },
      { type: 'snapshot', runs: [{ runId: 'run-b', stage: 'ppo', status: 'running', series: {} }] },
      { type: 'delta', runId: 'run-a', series: { [REWARD]: { steps: [3, 'four'], values: [1, 2] } } },
      { type: 'delta', runId: 'run-a', series: { [REWARD]: { steps: [3], values: 'up' } } },
      { type: 'status', run: { runId: 'run-a', runDir: '/x', stage: 'ppo', status: 'on fire' } },
      { type: 'selectStep', runId: 'run-a', step: 1 },
      { type: 'reply', id: 1, ok: true, result: null },
    ];
    for (const m of malformed) await sendRawToView(page, m);
    await page.waitForFunction((n) => window.factRlhfMessageStats.dropped >= n, dropped0 + malformed.length);
    // Two frames: a message acted on would have re-rendered by now.
    await page.evaluate(() => new Promise<void>((ok) => requestAnimationFrame(() => requestAnimationFrame(() => ok()))));
    assert.equal(await page.evaluate(() => window.factRlhfMessageStats.dropped), dropped0 + malformed.length);
    assert.equal(await viewState(page), before, 'the view state did not change');
    assert.equal(await postedCount(page), posted0, 'nothing was rendered or posted in reaction');
    assert.equal(await page.isVisible('.run[data-run-id="run-b"]'), false);
    assert.deepEqual(
      pageErrors.filter((e) => !/dropped a malformed message/.test(e)),
      [],
      'no page errors',
    );
    assert.ok(
      pageErrors.filter((e) => /reward-traces webview: dropped a malformed message/.test(e)).length >= malformed.length,
      'each drop is logged',
    );
    assert.match((await page.evaluate(() => window.factRlhfMessageStats.lastDropped)) ?? '', /reply 1 answers no pending request/);
  });

  await t.test('the view still applies well-formed host messages afterwards', async () => {
    const from = await postedCount(page);
    hub.apply('run-a', [metric(3, 0.5)]);
    const r = await nextPosted(page, 'rendered', from);
    assert.equal(r.points, 8);
  });

  await t.test('view → host: each malformed message is dropped and logged by the host, never handled', async () => {
    const dropped0 = channel.stats.dropped;
    const snapshots0 = hub.snapshotsSent;
    const rendered0 = rendered.length;
    const malformed: unknown[] = [
      null,
      'ready',
      { type: 'openFile', path: '/etc/passwd' },
      { type: 'constructor' },
      { type: 'selectStep', runId: 'run-a' },
      { type: 'selectStep', runId: 'run-a', step: 'seven' },
      { type: 'selectStep', runId: 'run-a', step: 1.5 },
      { type: 'selectStep', runId: 7, step: 1 },
      { type: 'rendered', runs: 1 },
      { type: 'snapshot', runs: [] },
      { type: 'request', method: 'listGpus', params: {} },
    ];
    await page.evaluate((list) => {
      const api = window.acquireVsCodeApi();
      for (const m of list) api.postMessage(m);
    }, malformed);
    const deadline = Date.now() + 5000;
    while (channel.stats.dropped < dropped0 + malformed.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(channel.stats.dropped, dropped0 + malformed.length);
    assert.deepEqual(selected, [], 'no malformed selectStep reached the handler');
    assert.equal(rendered.length, rendered0);
    assert.equal(hub.snapshotsSent, snapshots0);
    const drops = hostLog.filter((l) => l.startsWith('reward-traces webview: dropped a malformed message'));
    assert.equal(drops.length, channel.stats.dropped);
    assert.ok(
      drops.some((l) => l.includes('selectStep: step must be an integer, got 1.5')),
      drops.join('\n'),
    );
  });

  await t.test('a well-formed selectStep from the page still reaches the host', async () => {
    await page.evaluate(() => window.acquireVsCodeApi().postMessage({ type: 'selectStep', runId: 'run-a', step: 2 }));
    const deadline = Date.now() + 5000;
    while (selected.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(selected, [{ runId: 'run-a', step: 2 }]);
  });

  hub.dispose();
  await page.context().close();
});
