// The webview message mechanism without a browser: the reward-trace contract's validators, the host
// end (HostChannel: handshake, dispatch, requests, drops) and the view end (ViewChannel) joined by
// a plain in-memory port, so requests travel the same code path as in a webview.
import test from 'node:test';
import assert from 'node:assert/strict';
import { decodeForHost, decodeForView, defineContract } from '../../src/protocol/ipc';
import { integer, object, string, literal } from '../../src/protocol/guards';
import { rewardTracesContract } from '../../src/protocol/webviews/rewardTraces';
import type { HostToTraceWebview } from '../../src/protocol';
import { HostChannel } from '../../src/editor/webviews/channel';
import { ViewChannel, type MessagePort } from '../../webview/shared/messaging/channel';

const snapshot: HostToTraceWebview = {
  type: 'snapshot',
  runs: [
    {
      runId: 'r1',
      runDir: '/runs/r1',
      stage: 'ppo',
      status: 'running',
      progress: { step: 3, total: 10, eta: null },
      series: { 'ppo/reward_total': { steps: [0, 1, 2], values: [0.1, null, 0.3] } },
    },
  ],
};

/** Messages that must never reach a handler, with why. */
const MALFORMED_TO_VIEW: [string, unknown][] = [
  ['null', null],
  ['a number', 42],
  ['a string', 'snapshot'],
  ['an array', [{ type: 'snapshot', runs: [] }]],
  ['no type', { runs: [] }],
  ['a numeric type', { type: 7 }],
  ['an unknown type', { type: 'explode' }],
  ['an inherited name as type', { type: 'toString' }],
  ['__proto__ as type', JSON.parse('{"type":"__proto__"}')],
  ['a command sent the wrong way', { type: 'selectStep', runId: 'r1', step: 3 }],
  ['snapshot without runs', { type: 'snapshot' }],
  ['snapshot runs not an array', { type: 'snapshot', runs: {} }],
  ['a run without runId', { type: 'snapshot', runs: [{ ...snapshot.runs[0], runId: undefined }] }],
  ['a bad status', { type: 'status', run: { ...snapshot.runs[0], status: 'exploded' } }],
  ['a string in a series', { type: 'delta', runId: 'r1', series: { k: { steps: [1, '2'], values: [1, 2] } } }],
  ['null among steps', { type: 'delta', runId: 'r1', series: { k: { steps: [1, null], values: [1, 2] } } }],
  ['series values not an array', { type: 'delta', runId: 'r1', series: { k: { steps: [1], values: 1 } } }],
  ['a non-finite progress', { type: 'delta', runId: 'r1', series: {}, progress: { step: 1, total: 'ten', eta: null } }],
  ['a reply with no id', { type: 'reply', ok: true, result: 1 }],
  ['a failed reply without error text', { type: 'reply', id: 1, ok: false }],
];

const MALFORMED_TO_HOST: [string, unknown][] = [
  ['null', null],
  ['undefined', undefined],
  ['a string', 'ready'],
  ['an unknown type', { type: 'deleteEverything' }],
  ['an inherited name as type', { type: 'hasOwnProperty' }],
  ['a notification sent the wrong way', { type: 'snapshot', runs: [] }],
  ['selectStep without runId', { type: 'selectStep', step: 3 }],
  ['selectStep with a string step', { type: 'selectStep', runId: 'r1', step: '3' }],
  ['selectStep with a fractional step', { type: 'selectStep', runId: 'r1', step: 2.5 }],
  ['selectStep with a NaN step', { type: 'selectStep', runId: 'r1', step: Number.NaN }],
  ['rendered with a string count', { type: 'rendered', runs: '3', points: 10 }],
  ['a request with no id', { type: 'request', method: 'x', params: {} }],
];

test('reward-trace contract: well-formed messages pass both ways', () => {
  assert.deepEqual(decodeForView(rewardTracesContract, snapshot), { kind: 'notification', message: snapshot });
  for (const m of [
    { type: 'delta', runId: 'r1', series: { k: { steps: [4], values: [null] } } },
    { type: 'delta', runId: 'r1', series: {}, progress: { step: 4, total: 10, eta: 12.5 } },
    { type: 'status', run: { runId: 'r1', runDir: '/r', stage: 'ppo', status: 'failed', error: 'CUDA out of memory' } },
  ]) {
    assert.equal(decodeForView(rewardTracesContract, m).kind, 'notification', JSON.stringify(m));
  }
  for (const m of [{ type: 'ready' }, { type: 'selectStep', runId: 'r1', step: 3 }, { type: 'rendered', runs: 1, points: 3 }]) {
    assert.deepEqual(decodeForHost(rewardTracesContract, m), { kind: 'command', message: m });
  }
});

test('reward-trace contract: every malformed host → view message is invalid, with a reason', () => {
  for (const [what, m] of MALFORMED_TO_VIEW) {
    const d = decodeForView(rewardTracesContract, m);
    assert.equal(d.kind, 'invalid', `${what} should be invalid`);
    assert.ok(d.kind === 'invalid' && d.reason.length > 0);
  }
  const d = decodeForView(rewardTracesContract, MALFORMED_TO_VIEW[14][1]);
  assert.ok(d.kind === 'invalid' && d.reason.includes('series["k"].steps[1]'), `reason names the path: ${JSON.stringify(d)}`);
});

test('reward-trace contract: every malformed view → host message is invalid', () => {
  for (const [what, m] of MALFORMED_TO_HOST) assert.equal(decodeForHost(rewardTracesContract, m).kind, 'invalid', what);
});

test('a contract may not declare the reserved message types', () => {
  assert.throws(
    () =>
      defineContract<Record<string, never>, { reply: { type: 'reply' } }>({
        name: 'x',
        notifications: {},
        commands: { reply: object({ type: literal('reply') }) },
      }),
    /reserved/,
  );
});

// A contract with requests, as the coming webviews will have ("validate this", "list GPUs").
const formContract = defineContract<
  { doc: { type: 'doc'; text: string } },
  { edit: { type: 'edit'; text: string } },
  { measure: { params: { text: string }; result: { length: number } }; fail: { params: { why: string }; result: { never: string } } }
>({
  name: 'form',
  notifications: { doc: object({ type: literal('doc'), text: string }) },
  commands: { edit: object({ type: literal('edit'), text: string }) },
  requests: {
    measure: { params: object({ text: string }), result: object({ length: integer }) },
    fail: { params: object({ why: string }), result: object({ never: string }) },
  },
});

/** Host and view joined by an in-memory port pair; messages go through a JSON round trip like postMessage's clone. */
function link(opts: { beforeReady?: 'queue' | 'drop'; measure?: (text: string) => unknown } = {}) {
  const hostLog: string[] = [];
  const viewLog: string[] = [];
  const edits: string[] = [];
  const docs: string[] = [];
  const fromHost: unknown[] = [];
  let readies = 0;
  let toView: ((data: unknown) => void) | undefined;
  const clone = (m: unknown): unknown => (m === undefined ? undefined : JSON.parse(JSON.stringify(m)));
  const port: MessagePort = {
    post: (m) => queueMicrotask(() => host.receive(clone(m))),
    listen: (handler) => {
      toView = handler;
      return () => (toView = undefined);
    },
  };
  const host: HostChannel<typeof formContract> = new HostChannel({
    contract: formContract,
    post: (m) => {
      fromHost.push(clone(m));
      queueMicrotask(() => toView?.(clone(m)));
    },
    beforeReady: opts.beforeReady,
    onReady: () => readies++,
    commands: { edit: (m) => edits.push(m.text) },
    requests: {
      measure: ({ text }) => (opts.measure ? opts.measure(text) : { length: text.length }) as { length: number },
      fail: async ({ why }) => {
        throw new Error(why);
      },
    },
    log: (l) => hostLog.push(l),
  });
  const view = new ViewChannel({
    contract: formContract,
    port,
    notifications: { doc: (m) => docs.push(m.text) },
    requestTimeoutMs: 200,
    log: (l) => viewLog.push(l),
  });
  return {
    host,
    view,
    hostLog,
    viewLog,
    edits,
    docs,
    fromHost,
    readies: () => readies,
    toView: (m: unknown) => toView?.(m),
    /** Posts as the page could, bypassing the typed API (a buggy or hostile page). */
    rawToHost: (m: unknown) => host.receive(clone(m)),
  };
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 5));

test('handshake: notifications before ready are queued and delivered in order on ready (default policy)', async () => {
  const l = link();
  l.host.notify({ type: 'doc', text: 'a' });
  l.host.notify({ type: 'doc', text: 'b' });
  await settle();
  assert.deepEqual(l.docs, [], 'nothing is posted before ready');
  assert.equal(l.host.isReady, false);
  l.view.ready();
  await settle();
  assert.equal(l.readies(), 1);
  assert.deepEqual(l.docs, ['a', 'b']);
  l.host.notify({ type: 'doc', text: 'c' });
  await settle();
  assert.deepEqual(l.docs, ['a', 'b', 'c']);
  l.host.reset();
  l.host.notify({ type: 'doc', text: 'd' });
  await settle();
  assert.deepEqual(l.docs, ['a', 'b', 'c'], 'after reset the host waits for a new ready');
});

test('handshake: the drop policy discards what was sent before ready', async () => {
  const l = link({ beforeReady: 'drop' });
  l.host.notify({ type: 'doc', text: 'lost' });
  l.view.ready();
  await settle();
  assert.deepEqual(l.docs, []);
  l.host.notify({ type: 'doc', text: 'kept' });
  await settle();
  assert.deepEqual(l.docs, ['kept']);
});

test('commands are dispatched typed; malformed ones are dropped, logged and never handled', async () => {
  const l = link();
  l.view.ready();
  l.view.send({ type: 'edit', text: 'lr: 1e-5' });
  await settle();
  assert.deepEqual(l.edits, ['lr: 1e-5']);
  for (const bad of [null, 3, { type: 'edit' }, { type: 'edit', text: 5 }, { type: 'constructor' }, { type: 'doc', text: 'x' }])
    l.host.receive(bad);
  assert.deepEqual(l.edits, ['lr: 1e-5'], 'no malformed command reached the handler');
  assert.equal(l.host.stats.dropped, 6);
  assert.equal(l.hostLog.length, 6);
  assert.match(l.hostLog[2], /form webview: dropped a malformed message \(edit: text must be a string, got undefined\)/);
});

test('requests: typed reply by id; a throwing handler and an unknown method answer with an error', async () => {
  const l = link();
  l.view.ready();
  const [a, b] = await Promise.all([l.view.request('measure', { text: 'four' }), l.view.request('measure', { text: 'sixteen chars!!!' })]);
  assert.deepEqual([a, b], [{ length: 4 }, { length: 16 }], 'each reply settles its own request');
  await assert.rejects(l.view.request('fail', { why: 'no GPU found' }), /no GPU found/);
  assert.ok(l.hostLog.some((x) => /request fail failed: no GPU found/.test(x)));
  const from = l.fromHost.length;
  l.rawToHost({ type: 'request', id: 99, method: 'rmRf', params: {} });
  l.rawToHost({ type: 'request', id: 100, method: 'measure', params: { text: 4 } });
  l.rawToHost({ type: 'request', id: 1.5, method: 'measure', params: { text: 'x' } });
  await settle();
  assert.deepEqual(
    l.fromHost.slice(from),
    [
      { type: 'reply', id: 99, ok: false, error: 'unknown request method "rmRf"' },
      { type: 'reply', id: 100, ok: false, error: 'request measure: params.text must be a string, got 4' },
    ],
    'a request whose id cannot be read gets no reply',
  );
  assert.equal(l.host.stats.dropped, 3);
});

test('requests: a reply with a result of the wrong shape rejects and counts as dropped; a late reply is dropped', async () => {
  const l = link({ measure: () => ({ length: 'long' }) });
  l.view.ready();
  await assert.rejects(l.view.request('measure', { text: 'x' }), /malformed reply to measure: result.length must be an integer/);
  assert.equal(l.view.stats.dropped, 1);
  l.toView({ type: 'reply', id: 12345, ok: true, result: { length: 1 } });
  assert.equal(l.view.stats.dropped, 2);
  assert.match(l.viewLog[1], /reply 12345 answers no pending request/);
});

test('requests: no reply within the timeout rejects', async () => {
  const l = link({ measure: () => new Promise(() => undefined) });
  l.view.ready();
  const t0 = Date.now();
  await assert.rejects(l.view.request('measure', { text: 'x' }, 50), /got no reply within 50 ms/);
  assert.ok(Date.now() - t0 >= 45);
});

test('view: malformed notifications are dropped and counted, handlers see only valid ones', () => {
  const l = link();
  for (const bad of [null, 'doc', { type: 'doc' }, { type: 'doc', text: null }, { type: 'edit', text: 'x' }, { type: 'valueOf' }])
    l.toView(bad);
  l.toView({ type: 'doc', text: 'ok' });
  assert.deepEqual(l.docs, ['ok']);
  assert.equal(l.view.stats.dropped, 6);
  assert.equal(l.view.stats.received, 7);
});
