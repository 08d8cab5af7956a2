// The inspector's host logic without VS Code: a real sample source over a run folder, the real label
// store, the contract's request handlers — pages with images mapped and human spans over the judge's,
// labels keyed by record (not by index), the compared run at its nearest step, what-if and its refusals.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openSampleSource } from '../../src/runs/samples';
import { LabelStore } from '../../src/runs/labels/labelStore';
import { SampleInspectorSession } from '../../src/viewModels/sampleInspectorSession';
import type { LabelsState, QueryParams } from '../../src/protocol/webviews/sampleInspector';

const work = mkdtempSync(join(tmpdir(), 'inspector-session-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

function writeRun(name: string, steps: number[]): string {
  const dir = join(work, name);
  mkdirSync(join(dir, 'samples'), { recursive: true });
  mkdirSync(join(dir, 'images'), { recursive: true });
  writeFileSync(join(dir, 'images', 'a.png'), 'png');
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ id: name, stage: 'ppo', status: 'finished' }));
  for (const step of steps) {
    const lines = [0, 1].map((p) =>
      JSON.stringify({
        step,
        prompt_id: `p${p}`,
        image: 'images/a.png',
        prompt: `question ${p}`,
        response: `answer ${p} at ${step}`,
        facts: ['a fact'],
        reward: { rm: p, eos_penalty: 0, length: 0, symbolic: 0, kl: 0, total: p + step / 100 },
        advantage: null,
        hallucination: { spans: [[0, 6, 'object']], source: 'shapes-judge' },
        caption_type: 1,
      }),
    );
    writeFileSync(join(dir, 'samples', `step-${String(step).padStart(6, '0')}.jsonl`), `${lines.join('\n')}\n`);
  }
  return dir;
}

const page = (step: number | null): QueryParams => ({
  step,
  sort: 'index',
  descending: false,
  filter: { captionType: null, hallucinatedOnly: false, text: '' },
  offset: 0,
  limit: 10,
});

test('pages map images, human spans replace the judge’s, labels follow records, export, compare and what-if', async () => {
  const dir = writeRun('run-a', [0, 10]);
  const other = writeRun('run-b', [4, 12]);
  const source = await openSampleSource(join(dir, 'samples'));
  const compared = await openSampleSource(join(other, 'samples'));
  const notified: unknown[] = [];
  const session = new SampleInspectorSession({
    source,
    initialStep: 9,
    live: () => false,
    imageUri: (path) => (path.startsWith(dir) ? `webview:${path.slice(dir.length)}` : null),
    compare: () => ({ source: compared, title: 'run-b' }),
    score: (record, response) => Promise.resolve({ withFacts: response.length, withoutFacts: record.response.length }),
    labels: new LabelStore(dir),
    onLabelsChanged: (l) => notified.push(l),
  });
  const summary = session.summary();
  assert.equal(summary.initialStep, 10, 'a chart click at step 9 opens the nearest step');
  assert.deepEqual(summary.steps, [0, 10]);
  assert.equal(summary.canScore, true);

  const s0 = await session.handlers.query(page(0));
  assert.equal(s0.matching, 2);
  assert.equal(s0.records[0].image, 'webview:/images/a.png');
  assert.equal(s0.records[0].hallucination?.source, 'shapes-judge');

  // A human clears the judge's span on p0@0: the view is told once; the record keeps the judge's spans.
  const labelled = await session.handlers.labelSpans({ index: s0.records[0].index, spans: [] });
  assert.deepEqual(labelled.labels.spans[String(s0.records[0].index)], []);
  assert.equal(notified.length, 1, 'the view is told');
  const again = await session.handlers.query(page(0));
  assert.equal(again.records[0].hallucination?.source, 'shapes-judge', 'the judge’s verdict stays beside the human’s');
  assert.equal(notified.length, 1, 'an unchanged state is not sent again');
  // null: back to the judge's (the store forgets the human's label), then the human's again.
  const restored = await session.handlers.labelSpans({ index: s0.records[0].index, spans: null });
  assert.equal(restored.labels.spans[String(s0.records[0].index)], undefined);
  await session.handlers.labelSpans({ index: s0.records[0].index, spans: [] });
  // Spans outside the response are refused by the store, with the reason.
  await assert.rejects(session.handlers.labelSpans({ index: s0.records[0].index, spans: [[0, 999, 'x']] }), /999|response/);

  // A pair: p1 at steps 0 and 10 (same prompt and image).
  const s10 = await session.handlers.query(page(10));
  const p1at0 = s0.records.find((r) => r.promptId === 'p1')!;
  const p1at10 = s10.records.find((r) => r.promptId === 'p1')!;
  const { labels } = await session.handlers.labelPreference({ a: p1at0.index, b: p1at10.index, preferred: 2 });
  assert.deepEqual(labels.pairs, [{ a: p1at0.index, b: p1at10.index, preferred: 2 }]);
  await assert.rejects(session.handlers.labelPreference({ a: s0.records[0].index, b: p1at0.index, preferred: 1 }), /prompt/);
  const exported = await session.handlers.exportPreferences({});
  assert.equal(exported.pairs, 1);
  assert.ok(exported.path?.endsWith(join('labels', 'preferences.json')));

  // Labels are kept by record, not by index: a new session on the same run tells its view of them
  // when a page brings the labelled records (before that page's reply).
  const told: LabelsState[] = [];
  const reopened = new SampleInspectorSession({
    source,
    initialStep: null,
    live: () => false,
    imageUri: () => null,
    labels: new LabelStore(dir),
    onLabelsChanged: (l) => told.push(l),
  });
  await reopened.handlers.query(page(null));
  assert.equal(reopened.labelsState().pairs.length, 1);
  assert.equal(told.length, 1);
  assert.equal(told[0].pairs.length, 1);
  assert.deepEqual(told[0].spans[String(s0.records[0].index)], []);
  assert.equal(reopened.summary().canScore, false, 'no scorer: no what-if');
  await assert.rejects(reopened.handlers.score({ index: 0, response: 'x' }), /reward model/);

  // Compare: run-b's records for the same prompts at its step nearest 10 (12); its images are outside the roots.
  const cmp = await session.handlers.compare({ step: 10, promptIds: ['p0', 'p1', 'missing'] });
  assert.equal(cmp.step, 12);
  assert.equal(cmp.title, 'run-b');
  assert.deepEqual(
    cmp.records.map((r) => r?.response ?? null),
    ['answer 0 at 12', 'answer 1 at 12', null],
  );
  assert.equal(cmp.records[0]?.image, null, 'an image the page may not load is not offered');

  // What-if goes to the scorer with the stored record and the edited text.
  assert.deepEqual(await session.handlers.score({ index: p1at10.index, response: 'edited' }), {
    withFacts: 6,
    withoutFacts: p1at10.response.length,
  });
  // Pages are capped by the contract's MAX_PAGE whatever the view asks.
  const big = await session.handlers.query({ ...page(null), limit: 1e9 });
  assert.equal(big.records.length, 4);
  source.close();
  compared.close();
});
