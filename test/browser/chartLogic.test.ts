// The webview's chart logic and page shell, run in Node (no browser needed): series storage,
// smoothing, per-pixel downsampling with and without the level-of-detail index, ticks/formatting,
// and the CSP of renderWebviewHtml.
import test from 'node:test';
import assert from 'node:assert/strict';
import type { Columns } from '../../webview/shared/charts/downsample';
import { COLUMN_STRIDE, downsample, downsampleLod } from '../../webview/shared/charts/downsample';
import { MinMaxPyramid } from '../../webview/shared/charts/minMaxPyramid';
import { Series } from '../../webview/shared/charts/series';
import { ema, EmaCache } from '../../webview/shared/charts/smoothing';
import { formatDuration, formatStep, formatValue, niceTicks } from '../../webview/shared/charts/ticks';
import { makeNonce, renderWebviewHtml } from '../../src/editor/webviews/webviewHtml';

/** Small deterministic PRNG so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function columns(c: Columns): number[][] {
  const out: number[][] = [];
  for (let k = 0; k < c.count; k++) out.push(Array.from(c.data.subarray(k * COLUMN_STRIDE, (k + 1) * COLUMN_STRIDE)));
  return out;
}

test('Series appends, searches, and replaces the tail when a resumed run rewinds', () => {
  const s = new Series(2);
  assert.equal(s.append([0, 1, 2, 3], [1, null, 3, 4]), 0);
  assert.equal(s.length, 4);
  assert.ok(Number.isNaN(s.values[1]));
  assert.equal(s.lowerBound(2), 2);
  assert.equal(s.upperBound(2), 3);
  assert.equal(s.nearestIndex(2.4), 2);
  assert.equal(s.nearestIndex(2.6), 3);
  assert.equal(s.nearestIndex(-5), 0);
  // Resume from step 2: steps 2 and 3 are rewritten.
  assert.equal(s.append([2, 3, 4], [30, 40, 50]), 2);
  assert.deepEqual(Array.from(s.steps), [0, 1, 2, 3, 4]);
  assert.deepEqual(Array.from(s.values.subarray(2)), [30, 40, 50]);
});

test('Series takes typed columns over without copying, and copies (with resume semantics) when it must', () => {
  const steps = new Float64Array([0, 1, 2, 5]);
  const values = new Float64Array([1, Number.NaN, 3, 4]);
  const s = new Series(0);
  assert.equal(s.append(steps, values), 0);
  assert.equal(s.steps.buffer, steps.buffer, 'the snapshot column is the series storage');
  assert.equal(s.values.buffer, values.buffer);
  assert.ok(Number.isNaN(s.values[1]));
  // Appending after adoption grows into a new buffer; the adopted points are kept.
  assert.equal(s.append(new Float64Array([6, 7]), new Float64Array([6, 7])), 4);
  assert.deepEqual(Array.from(s.steps), [0, 1, 2, 5, 6, 7]);
  // A typed delta that rewinds (a resumed run) replaces the tail, as plain arrays do.
  assert.equal(s.append(new Float64Array([5, 6]), new Float64Array([50, 60])), 3);
  assert.deepEqual(Array.from(s.steps), [0, 1, 2, 5, 6]);
  assert.deepEqual(Array.from(s.values.subarray(3)), [50, 60]);
  // Steps not ascending inside one typed column: not adopted, read point by point.
  const t = new Series(0);
  const unsorted = new Float64Array([0, 2, 1, 3]);
  assert.equal(t.append(unsorted, new Float64Array([0, 20, 10, 30])), 0);
  assert.notEqual(t.steps.buffer, unsorted.buffer);
  assert.deepEqual(Array.from(t.steps), [0, 1, 3]);
  assert.deepEqual(Array.from(t.values), [0, 10, 30]);
});

test('EMA is debiased, skips NaN, and the incremental cache matches a full recompute', () => {
  assert.deepEqual(Array.from(ema([5, 5, 5], 0.9)), [5, 5, 5]);
  assert.deepEqual(Array.from(ema([1, 2, 3], 0)), [1, 2, 3]);
  const e = ema([0, 10], 0.5);
  assert.equal(e[0], 0);
  assert.ok(Math.abs(e[1] - (10 * 0.5) / 0.75) < 1e-12);
  assert.ok(Number.isNaN(ema([1, Number.NaN, 3], 0.5)[1]));

  const r = rng(7);
  const s = new Series();
  const cache = new EmaCache();
  const all: number[] = [];
  let changed = 0;
  for (let batch = 0; batch < 5; batch++) {
    const steps = Array.from({ length: 37 }, (_, i) => all.length + i);
    const vals = steps.map(() => r());
    all.push(...vals);
    changed = s.append(steps, vals);
    const got = cache.values(s, 0.8, changed);
    assert.deepEqual(Array.from(got), Array.from(ema(all, 0.8)));
  }
  assert.deepEqual(Array.from(cache.values(s, 0.3, Infinity)), Array.from(ema(all, 0.3)), 'a new weight recomputes');
});

test('downsample keeps per-column first/min/max/last, so a one-point spike survives', () => {
  const n = 10_000;
  const steps = Float64Array.from({ length: n }, (_, i) => i);
  const values = new Float64Array(n).fill(1);
  values[5000] = 100;
  const c = downsample(steps, values, 0, n, 0, 100 / n);
  assert.equal(c.count, 100);
  const cols = columns(c);
  assert.deepEqual(cols[50], [50, 100, 1, 100, 1]);
  assert.deepEqual(cols[49], [49, 1, 1, 1, 1]);
});

test('downsampleLod gives exactly the plain reduction, at every zoom, with gaps and NaNs', () => {
  const r = rng(42);
  const n = 50_000;
  const stepsArr: number[] = [];
  let step = 0;
  for (let i = 0; i < n; i++) {
    step += i % 9000 === 8999 ? 500 : 1 + Math.floor(r() * 3); // irregular spacing and a few gaps
    stepsArr.push(step);
  }
  const steps = Float64Array.from(stepsArr);
  const values = Float64Array.from({ length: n }, (_, i) => (i % 777 === 0 ? Number.NaN : Math.sin(i / 300) + r() * 0.2));
  const pyr = new MinMaxPyramid();
  pyr.update(values, 0);
  assert.ok(pyr.levels >= 4);
  for (const [fromFrac, toFrac, width] of [
    [0, 1, 800],
    [0.1, 0.9, 300],
    [0.42, 0.47, 100],
    [0.5, 0.51, 20],
  ] as const) {
    const from = Math.floor(fromFrac * n);
    const to = Math.max(from + 1, Math.floor(toFrac * n));
    const x0 = steps[from];
    const scale = width / (steps[to - 1] - x0);
    const plain = columns(downsample(steps, values, from, to, x0, scale));
    const lod = columns(downsampleLod(steps, values, pyr, from, to, x0, scale));
    assert.ok(plain.length >= Math.min(width, 100) * 0.9, 'every pixel column holds points');
    assert.deepEqual(lod, plain, `columns at ${fromFrac}-${toFrac} of the steps, ${width} px`);
  }
});

test('MinMaxPyramid updated incrementally equals one built from scratch (appends and a rewind)', () => {
  const r = rng(3);
  const s = new Series();
  const inc = new MinMaxPyramid();
  let next = 0;
  for (let batch = 0; batch < 40; batch++) {
    const len = 1 + Math.floor(r() * 400);
    const steps = Array.from({ length: len }, (_, i) => next + i);
    next += len;
    let changed = s.append(
      steps,
      steps.map(() => r() * 10 - 5),
    );
    if (batch === 25) {
      next -= 300; // resume from an earlier checkpoint
      changed = Math.min(changed, s.append([next], [99]));
      next++;
    }
    inc.update(s.values, changed);
  }
  const fresh = new MinMaxPyramid();
  fresh.update(s.values, 0);
  assert.equal(inc.levels, fresh.levels);
  for (let k = 0; k < fresh.levels; k++) {
    const len = fresh.lengths[k];
    assert.equal(inc.lengths[k], len);
    assert.deepEqual(Array.from(inc.mins[k].subarray(0, len)), Array.from(fresh.mins[k].subarray(0, len)), `mins level ${k}`);
    assert.deepEqual(Array.from(inc.maxs[k].subarray(0, len)), Array.from(fresh.maxs[k].subarray(0, len)), `maxs level ${k}`);
  }
  assert.equal(fresh.maxs[fresh.levels - 1][0], 99);
});

test('ticks land on 1/2/5 steps and labels stay short', () => {
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(-0.63, 0.81, 4), [-0.5, 0, 0.5]);
  assert.deepEqual(niceTicks(0, 1_000_000, 4), [0, 500_000, 1_000_000]);
  assert.equal(formatValue(0.6000000000000001), '0.6');
  assert.equal(formatValue(100), '100');
  assert.equal(formatValue(-0.02691), '-0.02691');
  assert.equal(formatValue(1.5e-5), '1.50e-5');
  assert.equal(formatStep(500_000), '500k');
  assert.equal(formatStep(2_500_000), '2.5M');
  assert.equal(formatDuration(119), '1m 59s');
  assert.equal(formatDuration(3720), '1h 02m');
  assert.equal(formatDuration(Number.NaN), '–');
});

test('renderWebviewHtml writes the strict CSP, nonces the script and escapes its inputs', () => {
  const nonce = makeNonce();
  assert.match(nonce, /^[A-Za-z0-9_-]{24}$/);
  assert.notEqual(nonce, makeNonce());
  const html = renderWebviewHtml({
    title: 'Traces <&>',
    scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/reward-traces.js?a=1&b="2"',
    styleUris: ['https://file+.vscode-resource.vscode-cdn.net/ext/media/reward-traces.css'],
    cspSource: 'https://*.vscode-cdn.net',
    nonce,
  });
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1];
  assert.equal(
    csp,
    `default-src 'none'; img-src https://*.vscode-cdn.net data:; style-src https://*.vscode-cdn.net 'nonce-${nonce}'; ` +
      `script-src 'nonce-${nonce}'; font-src https://*.vscode-cdn.net;`,
  );
  assert.ok(
    html.includes(
      `<script nonce="${nonce}" src="https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/reward-traces.js?a=1&amp;b=&quot;2&quot;"></script>`,
    ),
  );
  assert.ok(html.includes('<link rel="stylesheet" href="https://file+.vscode-resource.vscode-cdn.net/ext/media/reward-traces.css"'));
  assert.ok(html.includes('<title>Traces &lt;&amp;&gt;</title>'));
  assert.equal((html.match(/<script/g) ?? []).length, 1, 'exactly one script, the nonced bundle');
  // A web extension's cspSource lists its CDN too: several sources are fine, a new directive is not.
  assert.match(
    renderWebviewHtml({ title: 't', scriptUri: 's', cspSource: 'https://cdn.example/ext/ https://*.vscode-cdn.net', nonce }),
    /img-src https:\/\/cdn\.example\/ext\/ https:\/\/\*\.vscode-cdn\.net data:/,
  );
  assert.throws(() => renderWebviewHtml({ title: 't', scriptUri: 's', cspSource: "x; script-src 'unsafe-inline'", nonce }), /cspSource/);
  assert.throws(() => renderWebviewHtml({ title: 't', scriptUri: 's', cspSource: 'x', nonce: "a' 'unsafe-inline" }), /nonce/);
});
