// Browser tier: the sample inspector (the real bundle under the strict CSP, in headless Chromium)
// over a REAL run folder: a tiny PPO run of the trainer on CPU, made once for this file. The host
// end is the extension's HostChannel answering from the host data layer; what the page shows is
// checked against the sample files themselves, read here independently of any reader.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { RunManager } from '../../src/runs/runManager';
import { openSampleSource } from '../../src/runs/samples';
import { venvPython } from '../../src/runs/pythonResolver';
import { MAX_PAGE, type Span } from '../../src/protocol/webviews/sampleInspector';
import type { ViewChannelStats } from '../../webview/shared/messaging/channel';
import { buildBundle, DARK_THEME, launchChromium, openView, ROOT, sendRawToView, servePage, type PageServer } from './harness';
import { inspectorHost, type InspectorHost } from './inspectorHost';

// Page-side globals used inside page.evaluate callbacks (these run in the page, not in Node).
interface PageNode {
  dataset: Record<string, string | undefined>;
  textContent: string | null;
  classList: { contains(c: string): boolean };
  naturalWidth: number;
  src: string;
  value: string;
  checked: boolean;
  firstChild: PageNode | null;
  querySelector(s: string): PageNode | null;
  querySelectorAll(s: string): ArrayLike<PageNode>;
  dispatchEvent(e: unknown): boolean;
  click(): void;
  focus(): void;
  scrollTop: number;
  scrollHeight: number;
}
declare const document: {
  querySelector(s: string): PageNode | null;
  querySelectorAll(s: string): ArrayLike<PageNode>;
  createRange(): { setStart(n: PageNode, o: number): void; setEnd(n: PageNode, o: number): void };
};
declare const window: {
  factRlhfMessageStats: ViewChannelStats;
  __cspViolations: string[];
  acquireVsCodeApi(): { postMessage(m: unknown): void };
  getSelection(): { removeAllRanges(): void; addRange(r: unknown): void } | null;
};
declare const Event: new (type: string, init?: { bubbles?: boolean }) => unknown;

/** A record as the trainer wrote it (schema/sample-record.schema.json). */
interface FileRecord {
  step: number;
  prompt_id: string;
  image: string | null;
  prompt: string;
  response: string;
  facts: string[];
  caption_type: number;
  reward: { total: number; rm: number };
  hallucination: { spans: Span[]; source: string } | null;
}

const work = mkdtempSync(join(tmpdir(), 'fact-rlhf-inspector-'));
const runDir = join(work, 'run');
/** Every record of the run, in file order (= the source's index order). */
const fileRecords: FileRecord[] = [];
let server: PageServer;
let browser: Browser;

before(async () => {
  buildBundle('sample-inspector');
  const handle = new RunManager().start({
    stage: 'ppo',
    configPath: join(ROOT, 'test', 'fixtures', 'tiny-fast.rlhf.yaml'),
    python: venvPython(ROOT),
    trainerRoot: join(ROOT, 'trainer'),
    schemaDir: join(ROOT, 'schema'),
    runDir,
  });
  const result = await handle.done;
  assert.equal(result.status, 'finished', result.error);
  const dir = join(runDir, 'samples');
  for (const name of readdirSync(dir).sort()) {
    for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) if (line) fileRecords.push(JSON.parse(line) as FileRecord);
  }
  server = await servePage('sample-inspector', { fileRoots: [runDir] });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

interface ShownCard {
  row: number;
  index: number;
  step: string;
  selected: boolean;
  img: { src: string; naturalWidth: number } | null;
  marks: { start: number; end: number; text: string; human: boolean }[];
  total: string;
  compare: string | null;
}

function shownCards(page: Page): Promise<ShownCard[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll('.card'))
      .map((c) => {
        const img = c.querySelector('img.record-image');
        return {
          row: Number(c.dataset.row),
          index: Number(c.dataset.index),
          step: c.querySelector('.meta')?.textContent ?? '',
          selected: c.classList.contains('selected'),
          img: img ? { src: img.src, naturalWidth: img.naturalWidth } : null,
          marks: Array.from(c.querySelectorAll('.card-main mark')).map((m) => ({
            start: Number(m.dataset.start),
            end: Number(m.dataset.end),
            text: m.textContent ?? '',
            human: m.classList.contains('span-human'),
          })),
          total: c.querySelector('.card-main .value-total')?.textContent ?? '',
          compare: c.querySelector('.compare-head')?.textContent ?? null,
        };
      })
      .sort((a, b) => a.row - b.row),
  );
}

async function until(what: string, cond: () => boolean, timeout = 10_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Does `act`, then waits for the view's next `rendered` and returns it. Waits first until no
 * `rendered` has come for a moment, so one still on its way from the previous action is not taken
 * for this one's.
 */
async function renderedAfter(host: InspectorHost, act: () => Promise<unknown>): Promise<InspectorHost['rendered'][number]> {
  for (let seen = -1; seen !== host.rendered.length;) {
    seen = host.rendered.length;
    await new Promise((r) => setTimeout(r, 60));
  }
  const n = host.rendered.length;
  await act();
  await until('rendered', () => host.rendered.length > n);
  return host.rendered[host.rendered.length - 1];
}

/** Moves the scrubber to `step` (as a drag would) and waits for the view to draw it. */
async function scrubTo(host: InspectorHost, page: Page, steps: number[], step: number): Promise<void> {
  if (host.rendered.at(-1)?.step === step) return;
  await renderedAfter(host, () =>
    page.evaluate((v) => {
      const s = document.querySelector('.scrubber') as PageNode;
      s.value = String(v);
      s.dispatchEvent(new Event('input', { bubbles: true }));
    }, steps.indexOf(step)),
  );
  assert.equal(host.rendered.at(-1)?.step, step);
}

const indicesAtStep = (step: number): number[] => fileRecords.flatMap((r, i) => (r.step === step ? [i] : []));

test('the sample inspector on a real run folder', async (t) => {
  // The host's source, as the editor opens it: indexed at once, parsed in the background (the host
  // re-sends the summary when that pass completes the caption types).
  let sourceChanged = (): void => undefined;
  const source = await openSampleSource(runDir, { backgroundScan: true, onChange: () => sourceChanged() });
  const steps = source.info().steps;
  assert.ok(steps.length >= 4, `the run wrote samples for several steps (${steps.join(',')})`);
  // A copy of the run with every other step only: the "other run" of the side-by-side view.
  const otherDir = join(work, 'other');
  mkdirSync(join(otherDir, 'samples'), { recursive: true });
  const otherSteps = steps.filter((_, i) => i % 2 === 0);
  for (const step of otherSteps) {
    const name = `step-${String(step).padStart(6, '0')}.jsonl`;
    copyFileSync(join(runDir, 'samples', name), join(otherDir, 'samples', name));
  }
  const otherRecords = fileRecords.filter((r) => otherSteps.includes(r.step));
  const scored: { index: number; response: string }[] = [];
  const host = inspectorHost({
    source,
    fileUri: server.fileUri,
    compareWith: { title: 'every other step', source: await openSampleSource(otherDir) },
    // A stand-in for the reward scorer (onnxruntime on an exported RM, tested end to end in
    // test/protocol/scoring.test.ts; its host wiring is #12's): deterministic numbers from the text,
    // and an error for an empty response, so the view's debounce, display and error path can be checked.
    score: (index, response) => {
      scored.push({ index, response });
      if (response.trim() === '') throw new Error('empty response');
      return { withFacts: response.length / 10, withoutFacts: response.length / 20 };
    },
  });
  sourceChanged = () => host.sourceChanged();
  const pageErrors: string[] = [];
  const page = await openView(browser, server.url, DARK_THEME, { width: 900, height: 760 }, (m, p) => host.receive(m, p));
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await until('first rendered', () => host.rendered.length > 0);

  await t.test('first screen: the first step, every record of it drawn, pages within MAX_PAGE', async () => {
    const r = host.rendered[0];
    assert.equal(r.step, steps[0]);
    assert.equal(r.matching, indicesAtStep(steps[0]).length);
    const cards = await shownCards(page);
    assert.deepEqual(
      cards.map((c) => c.index),
      indicesAtStep(steps[0]),
    );
    assert.ok(host.queries.every((q) => q.limit > 0 && q.limit <= MAX_PAGE));
  });

  await t.test('images are shown (loaded under the CSP from the run folder)', async () => {
    await page.waitForFunction(() => Array.from(document.querySelectorAll('img.record-image')).every((i) => i.naturalWidth > 0));
    const cards = await shownCards(page);
    for (const c of cards) {
      const file = fileRecords[c.index];
      assert.ok(file.image, 'the trainer writes an image path');
      assert.ok(c.img, `record ${c.index} shows an image`);
      assert.ok(c.img.naturalWidth > 0);
      assert.equal(c.img.src, server.fileUri(join(runDir, file.image)));
    }
  });

  await t.test('hallucinated spans are marked at the right characters', async () => {
    const step = fileRecords.find((r) => r.hallucination && r.hallucination.spans.length > 0)?.step;
    assert.ok(step !== undefined, 'the judge marked some spans in this run');
    await scrubTo(host, page, steps, step);
    let checked = 0;
    for (const c of await shownCards(page)) {
      const file = fileRecords[c.index];
      const spans = file.hallucination?.spans ?? [];
      const covered = new Set<number>();
      for (const [a, b] of spans) for (let i = a; i < b; i++) covered.add(i);
      const marked = new Set<number>();
      for (const m of c.marks) {
        assert.equal(m.text, file.response.slice(m.start, m.end), `record ${c.index}: mark text is the response's characters`);
        assert.equal(m.human, false);
        for (let i = m.start; i < m.end; i++) marked.add(i);
        checked++;
      }
      assert.deepEqual(
        [...marked].sort((x, y) => x - y),
        [...covered].sort((x, y) => x - y),
        `record ${c.index}: marks cover exactly the spans`,
      );
    }
    assert.ok(checked > 0);
  });

  await t.test('the scrubber and ←/→ change the step; records are of that step', async () => {
    await scrubTo(host, page, steps, steps[2]);
    assert.deepEqual(
      (await shownCards(page)).map((c) => c.index),
      indicesAtStep(steps[2]),
    );
    await page.focus('.list');
    const right = await renderedAfter(host, () => page.keyboard.press('ArrowRight'));
    assert.equal(right.step, steps[3]);
    const cards = await shownCards(page);
    assert.deepEqual(
      cards.map((c) => c.index),
      indicesAtStep(steps[3]),
    );
    assert.ok(cards.every((c) => c.step.startsWith(`step ${steps[3]}`)));
    const left = await renderedAfter(host, () => page.keyboard.press('ArrowLeft'));
    assert.equal(left.step, steps[2]);
  });

  await t.test('sort by total, descending and ascending', async () => {
    const atStep = indicesAtStep(steps[2]);
    const byTotal = [...atStep].sort((a, b) => fileRecords[b].reward.total - fileRecords[a].reward.total || a - b);
    await renderedAfter(host, () => page.selectOption('select.sort', 'total'));
    await renderedAfter(host, () => page.selectOption('select.direction', 'desc'));
    assert.deepEqual(
      (await shownCards(page)).map((c) => c.index),
      byTotal,
    );
    await renderedAfter(host, () => page.selectOption('select.direction', 'asc'));
    const asc = (await shownCards(page)).map((c) => fileRecords[c.index].reward.total);
    assert.deepEqual(
      asc,
      [...asc].sort((a, b) => a - b),
    );
    await renderedAfter(host, () => page.selectOption('select.sort', 'index'));
  });

  await t.test('j/k move the selection', async () => {
    await page.focus('.list');
    await renderedAfter(host, () => page.keyboard.press('j'));
    let cards = await shownCards(page);
    assert.deepEqual(
      cards.filter((c) => c.selected).map((c) => c.row),
      [1],
    );
    await renderedAfter(host, () => page.keyboard.press('j'));
    await renderedAfter(host, () => page.keyboard.press('k'));
    cards = await shownCards(page);
    assert.deepEqual(
      cards.filter((c) => c.selected).map((c) => c.row),
      [1],
    );
  });

  await t.test('caption type and text search filter (search debounced: one query for a burst of typing)', async () => {
    await renderedAfter(host, () => page.check('input.all-steps'));
    const type = fileRecords[0].caption_type;
    const ofType = fileRecords.flatMap((f, i) => (f.caption_type === type ? [i] : []));
    const r = await renderedAfter(host, () => page.selectOption('select.caption', String(type)));
    assert.equal(r.matching, ofType.length);
    assert.ok((await shownCards(page)).every((c) => c.step.includes(`caption type ${type}`)));
    await renderedAfter(host, () => page.selectOption('select.caption', ''));

    const word = fileRecords[3].response.split(' ')[0].toLowerCase();
    const hits = fileRecords.filter((f) => [f.prompt, f.response, ...f.facts].some((x) => x.toLowerCase().includes(word))).length;
    const queries0 = host.queries.length;
    const found = await renderedAfter(host, () => page.type('input.search', word, { delay: 10 }));
    assert.equal(found.matching, hits, `records containing "${word}"`);
    assert.ok(host.queries.length - queries0 <= 2, `${host.queries.length - queries0} queries for one typed word`);
    await renderedAfter(host, () => page.fill('input.search', ''));
    await renderedAfter(host, () => page.uncheck('input.all-steps'));
  });

  await t.test('every control has an accessible name and is reachable with Tab', async () => {
    const unnamed = await page.evaluate(() =>
      Array.from(document.querySelectorAll('button, input, select, textarea, [tabindex]'))
        .filter((e) => {
          const el = e as unknown as PageNode & {
            getAttribute(n: string): string | null;
            closest(s: string): PageNode | null;
            tabIndex: number;
          };
          const named = el.getAttribute('aria-label') || (el.textContent ?? '').trim() || el.closest('label');
          return !named && el.tabIndex >= 0;
        })
        .map((e) => (e as unknown as { outerHTML: string }).outerHTML.slice(0, 80)),
    );
    assert.deepEqual(unnamed, []);
    await page.focus('.scrubber');
    const seen: string[] = [];
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab');
      seen.push(await page.evaluate(() => (document as unknown as { activeElement: { className: string } }).activeElement.className));
    }
    for (const c of ['all-steps', 'sort', 'direction', 'caption', 'hallucinated-only', 'search', 'mark-label', 'compare', 'export', 'list'])
      assert.ok(seen.includes(c), `Tab reaches .${c} (${seen.join(' → ')})`);
  });

  await t.test('"hallucinated only" keeps the records with spans', async () => {
    await renderedAfter(host, () => page.check('input.all-steps'));
    const r = await renderedAfter(host, () => page.check('input.hallucinated-only'));
    const expected = fileRecords.flatMap((f, i) => ((f.hallucination?.spans.length ?? 0) > 0 ? [i] : []));
    assert.equal(r.step, null);
    assert.equal(r.matching, expected.length);
    const cards = await shownCards(page);
    assert.deepEqual(
      cards.map((c) => c.index),
      expected.slice(0, cards.length),
    );
    assert.ok(cards.every((c) => c.marks.length > 0));
    await renderedAfter(host, () => page.uncheck('input.hallucinated-only'));
  });

  await t.test('the list is virtual: only rows near the viewport are asked for and in the DOM', async () => {
    const total = fileRecords.length;
    assert.equal(host.rendered.at(-1)?.matching, total);
    const cards = await shownCards(page);
    assert.ok(cards.length < total, `${cards.length} of ${total} rows in the DOM`);
    const scrolled = await renderedAfter(host, () =>
      page.evaluate(() => {
        const list = document.querySelector('.list') as PageNode;
        list.scrollTop = list.scrollHeight;
      }),
    );
    assert.equal(scrolled.first + scrolled.shown, total);
    const last = await shownCards(page);
    assert.equal(last.at(-1)?.index, total - 1);
    assert.ok(last.length < total);
    assert.ok(host.queries.every((q) => q.limit <= MAX_PAGE));
    // Scrolling back up adds rows above the ones kept: the DOM (and so Tab) stays in row order.
    await renderedAfter(host, () =>
      page.evaluate(() => {
        (document.querySelector('.list') as PageNode).scrollTop -= 900;
      }),
    );
    const domRows = await page.$$eval('.card', (els) => els.map((e) => Number((e as unknown as PageNode).dataset.row)));
    assert.deepEqual(
      domRows,
      [...domRows].sort((a, b) => a - b),
    );
    assert.ok(domRows[0] < last[0].row, 'rows were added above');
    await renderedAfter(host, () => page.uncheck('input.all-steps'));
  });

  await t.test('malformed messages: the host channel drops the view’s, the view drops the host’s', async () => {
    const dropped0 = host.channel.stats.dropped;
    const rendered0 = host.rendered.length;
    const queries0 = host.queries.length;
    const malformed: unknown[] = [
      { type: 'rendered', step: 'two', first: 0, shown: 1, matching: 1 },
      { type: 'rendered', step: 1 },
      {
        type: 'request',
        id: 900,
        method: 'query',
        params: { step: 1, sort: 'random', descending: false, filter: {}, offset: 0, limit: 10 },
      },
      { type: 'request', id: 901, method: 'readFile', params: { path: '/etc/passwd' } },
      { type: 'request', id: 902, method: 'labelSpans', params: { index: 0, spans: [[0, 'x', 'object']] } },
    ];
    await page.evaluate((list) => {
      const api = window.acquireVsCodeApi();
      for (const m of list) api.postMessage(m);
    }, malformed);
    await until('drops', () => host.channel.stats.dropped >= dropped0 + 5);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(host.queries.length, queries0, 'no malformed query reached the source');
    assert.deepEqual(host.labels.spans, {}, 'no malformed labelSpans reached the store');
    assert.equal(host.rendered.length, rendered0);
    assert.ok(host.log.some((l) => /dropped a malformed message/.test(l)));
    const viewDropped0 = await page.evaluate(() => window.factRlhfMessageStats.dropped);
    for (const m of [
      { type: 'summary' },
      { type: 'reveal', step: 'x' },
      { type: 'labels', labels: { spans: 3, pairs: [] } },
      { type: 'nope' },
    ])
      await sendRawToView(page, m);
    await page.waitForFunction((n) => window.factRlhfMessageStats.dropped >= n, viewDropped0 + 4);
  });

  await t.test('follow a prompt across steps, and open another of its records', async () => {
    const counts = new Map<string, number[]>();
    fileRecords.forEach((f, i) => counts.set(f.prompt_id, [...(counts.get(f.prompt_id) ?? []), i]));
    const repeated = [...counts.values()].find((ix) => ix.length > 1);
    assert.ok(repeated, 'some prompt comes back at a later step');
    const [first, second] = repeated;
    await scrubTo(host, page, steps, fileRecords[first].step);
    const row = (await shownCards(page)).find((c) => c.index === first)?.row;
    assert.ok(row !== undefined);
    await page.click(`.card[data-row="${row}"] .record-id`);
    await page.focus('.list');
    await page.keyboard.press('o');
    await page.waitForSelector('.timeline');
    const rows = await page.$$eval('.timeline-row', (els) => els.map((e) => Number((e as unknown as PageNode).dataset.index)));
    assert.deepEqual(rows, repeated);
    assert.equal(await page.locator('.timeline-chart polyline').count(), 2, 'total and rm lines');

    // Prefer the later response over the anchor: a pair of the two indices, shown on the card.
    await page.click(`.timeline-row[data-index="${second}"] .prefer-this`);
    await until('preference saved', () => host.labels.pairs.length === 1);
    assert.deepEqual(host.labels.pairs, [{ a: first, b: second, preferred: 2 }]);
    await page.waitForSelector(`.timeline-row[data-index="${second}"] .pair-state`);

    // (The preference's own redraw may post a `rendered` of the old step first: wait for the new one.)
    await page.click(`.timeline-row[data-index="${second}"] .go`);
    await until('the step of the record', () => host.rendered.at(-1)?.step === fileRecords[second].step);
    await page.waitForFunction((i) => document.querySelector('.card.selected')?.dataset.index === String(i), second);
    assert.match((await page.textContent(`.card[data-index="${second}"] .badge.pref`)) ?? '', new RegExp(`preferred over #${first}`));
    await page.keyboard.press('Escape');
    assert.equal(await page.isVisible('.timeline'), false);

    // Export: the real label store writes the pair for the rm stage; the view says where.
    await page.click('button.export');
    await until('export', () => host.exported.length === 1);
    assert.equal(host.exported[0].pairs, 1);
    assert.ok(host.exported[0].path?.startsWith(join(runDir, 'labels')), host.exported[0].path ?? 'null');
    await page.waitForFunction(() => /Exported 1 preference pair to /.test(document.querySelector('.status')?.textContent ?? ''));
  });

  await t.test('reveal jumps to a step; a summary that grew keeps the position and selection', async () => {
    const r = await renderedAfter(host, () => {
      host.channel.notify({ type: 'reveal', step: steps[1] });
      return Promise.resolve();
    });
    assert.equal(r.step, steps[1]);
    await page.focus('.list');
    await renderedAfter(host, () => page.keyboard.press('j'));
    const before = await shownCards(page);
    const queries0 = host.queries.length;
    const grown = await renderedAfter(host, () => {
      host.channel.notify({ type: 'summary', summary: { ...host.summary(), total: fileRecords.length + 1, live: true } });
      return Promise.resolve();
    });
    assert.ok(host.queries.length > queries0, 'the view asked again');
    assert.equal(grown.step, steps[1]);
    assert.deepEqual(await shownCards(page), before, 'same records, same selection');
    assert.match((await page.textContent('.source')) ?? '', /live/);
  });

  await t.test('mark selected text as hallucinated, then clear it by clicking the mark', async () => {
    const card = (await shownCards(page))[0];
    const response = fileRecords[card.index].response;
    const judge = fileRecords[card.index].hallucination?.spans ?? [];
    await page.fill('input.mark-label', 'attribute');
    // Select the response's first three characters, as a drag would.
    await page.evaluate((row) => {
      const text = document.querySelector(`.card[data-row="${row}"] .card-main .response`) as PageNode;
      const range = document.createRange();
      let node = text.firstChild as PageNode;
      while (node.firstChild) node = node.firstChild;
      range.setStart(node, 0);
      range.setEnd(node, 3);
      const sel = window.getSelection();
      sel?.removeAllRanges();
      sel?.addRange(range);
    }, card.row);
    await page.click(`.card[data-row="${card.row}"] button.mark`);
    await until('labelSpans', () => host.labels.spans[String(card.index)] !== undefined);
    const saved = host.labels.spans[String(card.index)];
    assert.deepEqual(
      saved.find((s) => s[2] === 'attribute'),
      [0, 3, 'attribute'],
    );
    assert.equal(saved.length, judge.length + 1, 'the judge’s spans are kept, the new one added');
    await page.waitForSelector(`.card[data-row="${card.row}"] mark.span-human`);
    const marks = (await shownCards(page)).find((c) => c.index === card.index)?.marks ?? [];
    assert.ok(marks.every((m) => m.human));
    assert.equal(marks[0].text, response.slice(0, marks[0].end));
    assert.match((await page.textContent(`.card[data-row="${card.row}"] .verdict`)) ?? '', /^human: /);

    await page.click(`.card[data-row="${card.row}"] mark.span-human[data-start="0"]`);
    await until('cleared', () => !host.labels.spans[String(card.index)].some((s) => s[0] === 0 && s[2] === 'attribute'));

    // "Use the judge's spans": the human label goes, the judge's marks and verdict come back.
    await page.click(`.card[data-row="${card.row}"] button.restore-judge`);
    await until('restored', () => host.labels.spans[String(card.index)] === undefined);
    await page.waitForFunction((row) => !document.querySelector(`.card[data-row="${row}"] .verdict.human`), card.row);
    const after = (await shownCards(page)).find((c) => c.index === card.index)?.marks ?? [];
    assert.equal(after.length, judge.length);
    assert.ok(after.every((m) => !m.human));
  });

  await t.test('compare with another run: its record for the same prompt beside each, with its step', async () => {
    await page.click('button.compare');
    await page.waitForSelector('.card .compare-head');
    await page.waitForFunction(() =>
      Array.from(document.querySelectorAll('.compare-head')).every((h) => /step \d+/.test(h.textContent ?? '')),
    );
    const sides = await page.$$eval('.card', (els) =>
      els.map((e) => {
        const card = e as unknown as PageNode;
        return {
          index: Number(card.dataset.index),
          head: card.querySelector('.compare-head')?.textContent ?? '',
          other: card.querySelector('.compare-side')?.dataset.index ?? null,
        };
      }),
    );
    assert.ok(sides.length > 0);
    for (const s of sides) {
      const mine = fileRecords[s.index];
      // The other run's nearest step (ties: the earlier), and that prompt's first record there.
      const near = otherSteps.reduce((best, x) => (Math.abs(x - mine.step) < Math.abs(best - mine.step) ? x : best));
      assert.equal(s.head, `every other step · step ${near}`);
      const at = otherRecords.findIndex((r) => r.step === near && r.prompt_id === mine.prompt_id);
      assert.equal(s.other, at < 0 ? null : String(at), `record ${s.index}: the other run's record of prompt ${mine.prompt_id}`);
    }
  });

  await t.test('edit & score: debounced what-if score with and without facts, errors inline', async () => {
    const card = (await shownCards(page))[0];
    await page.click(`.card[data-row="${card.row}"] button.edit-score`);
    const area = `.card[data-row="${card.row}"] textarea.response-edit`;
    await page.waitForSelector(area);
    assert.equal(await page.inputValue(area), fileRecords[card.index].response);
    const n0 = scored.length;
    await page.fill(area, '');
    await page.type(area, 'a red circle', { delay: 20 });
    await page.waitForFunction(
      (sel) => /with facts 1\.2 · without facts 0\.6 · difference \+0\.6/.test(document.querySelector(sel)?.textContent ?? ''),
      `.card[data-row="${card.row}"] .score-out`,
    );
    assert.deepEqual(scored.slice(n0), [{ index: card.index, response: 'a red circle' }], 'one request after typing stopped');
    await page.fill(area, '   ');
    await page.waitForFunction(
      (sel) => /Could not score: empty response/.test(document.querySelector(sel)?.textContent ?? ''),
      `.card[data-row="${card.row}"] .score-out`,
    );
    await page.click(`.card[data-row="${card.row}"] button.edit-score`);
    await page.waitForSelector(`.card[data-row="${card.row}"] .card-main .response`);
  });

  // For a look by eye (CI keeps test-results/).
  mkdirSync(join(ROOT, 'test-results'), { recursive: true });
  await page.screenshot({ path: join(ROOT, 'test-results', 'sample-inspector.png') });

  assert.deepEqual(pageErrors, [], 'no page errors');
  assert.deepEqual(await page.evaluate(() => window.__cspViolations), [], 'no CSP violations');
  await page.context().close();
});

test('a live run: opened before its first sample, it shows each step as the trainer writes it', async () => {
  const liveDir = join(work, 'live');
  mkdirSync(join(liveDir, 'samples'), { recursive: true });
  copyFileSync(join(runDir, 'run.json'), join(liveDir, 'run.json'));
  const source = await openSampleSource(liveDir);
  const host = inspectorHost({ source, fileUri: server.fileUri });
  const page = await openView(browser, server.url, DARK_THEME, { width: 900, height: 760 }, (m, p) => host.receive(m, p));
  await until('first rendered', () => host.rendered.length > 0);
  assert.deepEqual(host.rendered[0], { type: 'rendered', step: null, first: 0, shown: 0, matching: 0 });
  assert.equal(await page.textContent('.empty'), 'No samples yet.');

  const names = readdirSync(join(runDir, 'samples')).sort();
  const write = async (name: string): Promise<void> => {
    copyFileSync(join(runDir, 'samples', name), join(liveDir, 'samples', name));
    assert.equal(await source.refresh(), true);
    host.sourceChanged();
  };
  const firstStep = fileRecords[0].step;
  await renderedAfter(host, () => write(names[0]));
  await until('the first step', () => host.rendered.at(-1)?.step === firstStep);
  assert.deepEqual(
    (await shownCards(page)).map((c) => c.index),
    indicesAtStep(firstStep),
  );
  await page.focus('.list');
  await renderedAfter(host, () => page.keyboard.press('j'));

  // The next step arrives: the view stays where the user is, and the scrubber can reach it.
  await renderedAfter(host, () => write(names[1]));
  const cards = await shownCards(page);
  assert.deepEqual(
    cards.map((c) => c.index),
    indicesAtStep(firstStep),
  );
  assert.deepEqual(
    cards.filter((c) => c.selected).map((c) => c.row),
    [1],
  );
  assert.equal(await page.getAttribute('.scrubber', 'max'), '1');
  await page.context().close();
  source.close();
});
