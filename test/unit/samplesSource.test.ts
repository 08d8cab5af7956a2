// Sample sources on files in each trainer's exact format, written here by Python the way each writes
// them (LLaVA-RLHF: json.dump of a list; veRL: json.dumps lines, ensure_ascii=False; TRL: a parquet
// table, written with pyarrow as pandas' to_parquet does), and on hand-made files of ours with torn,
// corrupt and foreign lines. The real trainer's runs are read in test/protocol/samplesCli.test.ts.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { venvPython } from '../../src/runs/pythonResolver';
import { openSampleSource, SourceError, type SampleSource } from '../../src/runs/samples';
import type { QueryParams } from '../../src/protocol/webviews/sampleInspector';
import { MAX_PAGE } from '../../src/protocol/webviews/sampleInspector';

const root = join(__dirname, '..', '..');
let dir: string;

const ALL: Omit<QueryParams, 'offset' | 'limit'> = {
  step: null,
  sort: 'index',
  descending: false,
  filter: { captionType: null, hallucinatedOnly: false, text: '' },
};
const q = (s: SampleSource, p: Partial<QueryParams> = {}) => s.query({ ...ALL, offset: 0, limit: 100, ...p });

// Each peer's writer, as its trainer calls it (see the format modules for the sources).
const WRITERS = String.raw`
import json, os, sys
import pyarrow as pa, pyarrow.parquet as pq
d = sys.argv[1]
# LLaVA-RLHF record_step_stats: a list of {queries, responses, rewards: str(float)} per step.
os.makedirs(f"{d}/llava/rollouts")
for step in (2, 4):
    recs = [{"queries": f"USER: <image> what is shown {i}? ASSISTANT:", "responses": f"a cat \"responses\": {i} é", "rewards": str(0.5 * i - step)} for i in range(3)]
    with open(f"{d}/llava/rollouts/step_{step}.json", "w") as f:
        json.dump(recs, f, indent=4)
# veRL _dump_generations: one json.dumps(entry, ensure_ascii=False) per line, "\n".join + "\n".
os.makedirs(f"{d}/verl")
for step in (1, 3):
    n = 4
    base = {"input": [f"Q{i}: 2+{i}=?" for i in range(n)], "output": [f"答案 {2+i}" for i in range(n)], "gts": [str(2 + i) for i in range(n)],
            "score": [float(i % 2) for i in range(n)], "step": [step] * n, "acc": [bool(i % 2) * 1.0 for i in range(n)], "pred": [str(i) for i in range(n)]}
    lines = [json.dumps({k: v[i] for k, v in base.items()}, ensure_ascii=False) for i in range(n)]
    with open(f"{d}/verl/{step}.jsonl", "w") as f:
        f.write("\n".join(lines) + "\n")
# TRL GRPOTrainer log(): step, prompt, completion, one column per reward function, advantage.
os.makedirs(f"{d}/trl/completions")
for step in (5, 10):
    t = pa.table({"step": [step] * 3, "prompt": ["Solve: 1+1", "Solve: 2+2", "Name a colour"], "completion": ["2", "five", "red"],
                  "accuracy_reward": [1.0, 0.0, None], "format_reward": [0.5, 0.5, 0.5], "advantage": [0.7, -0.7, 0.0]})
    pq.write_table(t, f"{d}/trl/completions/completions_{step:05d}.parquet")
# A conversational dataset: prompt and completion are lists of messages.
msgs = pa.array([[{"role": "user", "content": "Describe the image"}]], type=pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())])))
comp = pa.array([[{"role": "assistant", "content": "A red square."}]], type=msgs.type)
os.makedirs(f"{d}/chat")
pq.write_table(pa.table({"step": [7], "prompt": msgs, "completion": comp, "reward_fn": [2.0], "advantage": [0.1]}), f"{d}/chat/completions_00007.parquet")
pq.write_table(pa.table({"a": [1], "b": ["x"]}), f"{d}/other.parquet")
`;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'fact-rlhf-samples-'));
  const py = spawnSync(venvPython(root), ['-c', WRITERS, dir], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(py.status, 0, py.stderr);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A record of ours (schema/sample-record.schema.json), as the trainer writes it. */
function ours(step: number, i: number, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    step,
    prompt_id: `p${i}`,
    image: `world/images/img-${i}.png`,
    prompt: `Describe image ${i}`,
    response: i % 2 ? `A red circle and a blue square ${i}` : `A green triangle ${i}`,
    facts: [`fact ${i}`],
    reward: { rm: i / 10, eos_penalty: 0, length: -1, symbolic: 0, kl: -0.01 * i, total: i / 10 - 1 - 0.01 * i },
    advantage: i - 2,
    hallucination: { spans: i % 2 ? [[2, 5, 'attribute']] : [], source: 'shapes-judge' },
    caption_type: 1 + (i % 3),
    ...extra,
  });
}

function runFolder(name: string, steps: Record<number, string[]>): string {
  const run = join(dir, name);
  mkdirSync(join(run, 'samples'), { recursive: true });
  writeFileSync(join(run, 'run.json'), '{}');
  for (const [step, lines] of Object.entries(steps))
    writeFileSync(join(run, 'samples', `step-${String(step).padStart(6, '0')}.jsonl`), lines.join(''));
  return run;
}

test('ours: nothing is parsed at open; filters and sorts parse the scope; records map to the model with absolute images', async () => {
  const run = runFolder('plain', { 1: [0, 1, 2].map((i) => `${ours(1, i)}\n`), 2: [3, 4, 5, 6].map((i) => `${ours(2, i)}\n`) });
  const s = await openSampleSource(run);
  let info = s.info();
  assert.equal(info.format, 'fact-rlhf');
  assert.equal(info.runDir, run);
  assert.equal(info.total, 7);
  assert.deepEqual(info.steps, [1, 2]);
  assert.deepEqual(info.captionTypes, [], 'caption types need a parse: none at open');

  const first = await q(s, { step: 1, limit: 2 });
  assert.equal(first.matching, 3);
  assert.deepEqual(
    first.records.map((r) => r.index),
    [0, 1],
  );
  const r1 = first.records[1];
  assert.equal(r1.image, join(run, 'world/images/img-1.png'));
  assert.deepEqual(r1.reward, { rm: 0.1, eos_penalty: 0, length: -1, symbolic: 0, kl: -0.01, total: 0.1 - 1 - 0.01 });
  assert.deepEqual(r1.hallucination, { spans: [[2, 5, 'attribute']], source: 'shapes-judge' });
  assert.equal(r1.advantage, -1);
  assert.equal(r1.captionType, 2);
  assert.deepEqual(r1.extra, {});

  const byTotal = await q(s, { sort: 'total', descending: true });
  assert.deepEqual(
    byTotal.records.map((r) => r.index),
    [6, 5, 4, 3, 2, 1, 0],
  );
  info = s.info();
  assert.deepEqual(info.captionTypes, [1, 2, 3], 'the sort parsed every record');
  const halluc = await q(s, { filter: { captionType: null, hallucinatedOnly: true, text: '' } });
  assert.deepEqual(
    halluc.records.map((r) => r.index),
    [1, 3, 5],
  );
  const caption = await q(s, { step: 2, filter: { captionType: 1, hallucinatedOnly: false, text: '' } });
  assert.deepEqual(
    caption.records.map((r) => r.index),
    [3, 6],
  );
  const text = await q(s, { filter: { captionType: null, hallucinatedOnly: false, text: 'GREEN TRI' } });
  assert.deepEqual(
    text.records.map((r) => r.index),
    [0, 2, 4, 6],
  );
  const facts = await q(s, { filter: { captionType: null, hallucinatedOnly: false, text: 'fact 5' } });
  assert.deepEqual(
    facts.records.map((r) => r.index),
    [5],
  );
  const paged = await q(s, { sort: 'index', descending: true, offset: 2, limit: 2 });
  assert.deepEqual(paged, { matching: 7, offset: 2, records: paged.records });
  assert.deepEqual(
    paged.records.map((r) => r.index),
    [4, 3],
  );
  assert.equal((await q(s, { limit: 10_000 })).records.length, 7);
  assert.equal((await q(s, { step: 99 })).matching, 0);

  assert.equal(s.nearestStep(0), 1);
  assert.equal(s.nearestStep(2), 2);
  assert.equal(s.nearestStep(50), 2);
  assert.equal((await s.record(6))?.promptId, 'p6');
  assert.equal(await s.record(7), undefined);
  assert.deepEqual(
    (await s.recordsFor(2, ['p4', 'nope', 'p3'])).map((r) => r?.index ?? null),
    [4, null, 3],
  );
  s.close();
});

test('ours: text search skips lines without the text unparsed, yet matches only fields (not keys) and escaped characters', async () => {
  const run = runFolder('grep', {
    1: [`${ours(1, 0, { response: 'She said "hi" / bye' })}\n`, `${ours(1, 1, { response: 'tab\there' })}\n`, `${ours(1, 2)}\n`],
  });
  const s = await openSampleSource(run);
  const find = async (text: string): Promise<(string | null)[]> =>
    (await q(s, { filter: { captionType: null, hallucinatedOnly: false, text } })).records.map((r) => r.promptId);
  assert.deepEqual(await find('prompt_id'), [], 'a key name is in every raw line, in no field');
  assert.deepEqual(await find('"HI"'), ['p0']);
  assert.deepEqual(await find('" / b'), ['p0']);
  assert.deepEqual(await find('tab\th'), ['p1']);
  assert.deepEqual(await find('triangle 2'), ['p2']);
  s.close();
});

test('ours: torn last line waits for refresh; corrupt lines are skipped and counted with file:line; new step files are picked up', async () => {
  const good = [0, 1].map((i) => `${ours(1, i)}\n`);
  const run = runFolder('torn', {
    1: [
      good[0],
      'garbage that is not json\n',
      '\n',
      '{"step": 1, oops}\n',
      `${JSON.stringify({ step: 1, prompt_id: 'x' })}\n`,
      good[1],
      ours(1, 2).slice(0, 40),
    ],
  });
  const file = join(run, 'samples', 'step-000001.jsonl');
  const s = await openSampleSource(run);
  let info = s.info();
  // At open: the plainly broken line is caught (no parse needed); the two that look like objects are not yet.
  assert.equal(info.corrupt, 1);
  assert.deepEqual(info.corruptAt, ['step-000001.jsonl:2: not a JSON object']);
  assert.equal(info.total, 4);

  const all = await q(s);
  assert.deepEqual(
    all.records.map((r) => r.promptId),
    ['p0', 'p1'],
  );
  assert.equal(all.matching, 2);
  info = s.info();
  assert.equal(info.corrupt, 3);
  assert.equal(info.total, 2);
  assert.match(info.corruptAt[1], /^step-000001\.jsonl:4: not valid JSON/);
  assert.match(info.corruptAt[2], /^step-000001\.jsonl:5: not a sample record \(no "response" text\)/);

  assert.equal(await s.refresh(), false, 'the torn line is still torn');
  appendFileSync(file, `${ours(1, 2).slice(40)}\n`);
  assert.equal(await s.refresh(), true);
  writeFileSync(join(run, 'samples', 'step-000003.jsonl'), `${ours(3, 3)}\n${ours(3, 4)}\n`);
  assert.equal(await s.refresh(), true);
  info = s.info();
  assert.deepEqual(info.steps, [1, 3]);
  assert.equal(info.total, 5);
  const now = await q(s);
  assert.deepEqual(
    now.records.map((r) => [r.promptId, r.step]),
    [
      ['p0', 1],
      ['p1', 1],
      ['p2', 1],
      ['p3', 3],
      ['p4', 3],
    ],
  );
  assert.equal(s.info().corrupt, 3, 'no line counted twice');
  s.close();
});

test('ours: a sort over many records pages through one kept order; MAX_PAGE caps a page; timeline follows a prompt', async () => {
  const steps: Record<number, string[]> = {};
  for (let step = 0; step < 30; step++) steps[step] = Array.from({ length: 40 }, (_, i) => `${ours(step, i)}\n`);
  const s = await openSampleSource(join(runFolder('many', steps), 'samples'));
  assert.equal(s.info().total, 1200);
  assert.equal(s.info().runDir, join(dir, 'many'));
  const page = await q(s, { sort: 'rm', descending: false, limit: MAX_PAGE + 100 });
  assert.equal(page.records.length, MAX_PAGE);
  assert.equal(page.matching, 1200);
  const rms = page.records.map((r) => r.reward.rm!);
  assert.deepEqual(
    rms,
    [...rms].sort((a, b) => a - b),
  );
  const t = await s.timeline('p7');
  assert.equal(t.length, 30);
  assert.deepEqual(
    t.map((p) => p.step),
    Array.from({ length: 30 }, (_, i) => i),
  );
  assert.equal(t[0].spans, 1);
  s.close();
});

test('ours: a background pass fills caption types and corrupt counts, then says so', async () => {
  const run = runFolder('bg', { 1: [`${ours(1, 0)}\n`, '{"broken": \n', `${ours(1, 1)}\n`] });
  let changed = 0;
  const s = await openSampleSource(run, { backgroundScan: true, onChange: () => changed++ });
  await new Promise<void>((res) => {
    const poll = (): void => (changed ? res() : void setTimeout(poll, 5));
    poll();
  });
  assert.deepEqual(s.info().captionTypes, [1, 2]);
  assert.equal(s.info().corrupt, 1);
  s.close();
});

test('ours: spans the Python judge wrote in code points are UTF-16 offsets in the model', async () => {
  const response = '🐱 sits on a red mat';
  // Python: response.index("red") == 12 (the cat is one code point); in UTF-16 it is 13.
  const run = runFolder('astral', {
    1: [`${ours(1, 0, { response, hallucination: { spans: [[12, 15, 'attribute']], source: 'shapes-judge' } })}\n`],
  });
  const s = await openSampleSource(run);
  const [r] = (await q(s)).records;
  const [[start, end]] = r.hallucination!.spans;
  assert.equal(response.slice(start, end), 'red');
  s.close();
});

test('LLaVA-RLHF rollouts: rewards (text) → rm, queries → prompt, a hash of the query as prompt id', async () => {
  for (const path of [join(dir, 'llava'), join(dir, 'llava', 'rollouts'), join(dir, 'llava', 'rollouts', 'step_4.json')]) {
    const s = await openSampleSource(path);
    assert.equal(s.info().format, 'llava-rollouts', path);
    s.close();
  }
  const s = await openSampleSource(join(dir, 'llava'));
  const info = s.info();
  assert.deepEqual(info.steps, [2, 4]);
  assert.equal(info.total, 6, 'counted from the "responses" keys, the one inside a response text not counted');
  assert.equal(info.runDir, null);
  const { records } = await q(s, { step: 4 });
  assert.equal(records.length, 3);
  const r = records[2];
  assert.equal(r.step, 4);
  assert.equal(r.prompt, 'USER: <image> what is shown 2? ASSISTANT:');
  assert.equal(r.response, 'a cat "responses": 2 é');
  assert.deepEqual(r.reward, { rm: 1 - 4 });
  assert.match(r.promptId!, /^text:[0-9a-f]{16}$/);
  assert.equal(r.image, null);
  assert.equal(r.facts, null);
  assert.equal(r.hallucination, null);
  assert.equal(r.advantage, null);
  assert.equal(r.captionType, null);
  const t = await s.timeline(r.promptId!);
  assert.deepEqual(
    t.map((p) => [p.step, p.reward.rm]),
    [
      [2, 1 - 2],
      [4, 1 - 4],
    ],
  );
  s.close();
});

test('LLaVA-RLHF: a step file still being written is left for refresh', async () => {
  const d = join(dir, 'llava-live', 'rollouts');
  mkdirSync(d, { recursive: true });
  const full = JSON.stringify([{ queries: 'q', responses: 'r', rewards: '1.5' }], null, 4);
  writeFileSync(join(d, 'step_1.json'), full.slice(0, 20));
  const s = await openSampleSource(join(dir, 'llava-live'));
  assert.equal(s.info().total, 0);
  assert.equal(s.info().corrupt, 0);
  writeFileSync(join(d, 'step_1.json'), full);
  assert.equal(await s.refresh(), true);
  assert.deepEqual((await q(s)).records[0].reward, { rm: 1.5 });
  s.close();
});

test('veRL rollouts: score → total, numeric extra fields → extra, gts and text fields left out', async () => {
  const s = await openSampleSource(join(dir, 'verl'));
  const info = s.info();
  assert.equal(info.format, 'verl-rollouts');
  assert.deepEqual(info.steps, [1, 3]);
  assert.equal(info.total, 8);
  const { records } = await q(s, { step: 3, sort: 'total', descending: true });
  const r = records[0];
  assert.equal(r.step, 3);
  assert.equal(r.prompt, 'Q1: 2+1=?');
  assert.equal(r.response, '答案 3');
  assert.deepEqual(r.reward, { total: 1 });
  assert.deepEqual(r.extra, { acc: 1 });
  assert.equal(r.facts, null);
  assert.match(r.promptId!, /^text:/);
  const one = await openSampleSource(join(dir, 'verl', '3.jsonl'));
  assert.equal(one.info().format, 'verl-rollouts');
  assert.equal(one.info().total, 4);
  assert.equal((await one.recordsFor(3, [r.promptId!]))[0]?.response, '答案 3');
  one.close();
  s.close();
});

test('TRL completions: reward-function columns → extra (no total invented), advantage, conversational prompts as text', async () => {
  const s = await openSampleSource(join(dir, 'trl'));
  const info = s.info();
  assert.equal(info.format, 'trl-completions');
  assert.deepEqual(info.steps, [5, 10]);
  assert.equal(info.total, 6);
  const { records } = await q(s, { step: 10 });
  assert.deepEqual(
    records.map((r) => [r.step, r.prompt, r.response, r.reward, r.extra, r.advantage]),
    [
      [10, 'Solve: 1+1', '2', {}, { accuracy_reward: 1, format_reward: 0.5 }, 0.7],
      [10, 'Solve: 2+2', 'five', {}, { accuracy_reward: 0, format_reward: 0.5 }, -0.7],
      [10, 'Name a colour', 'red', {}, { format_reward: 0.5 }, 0],
    ],
  );
  assert.equal(records[0].promptId, (await q(s, { step: 5 })).records[0].promptId, 'the same prompt has the same id at every step');
  s.close();

  const chat = await openSampleSource(join(dir, 'chat', 'completions_00007.parquet'));
  const [c] = (await q(chat)).records;
  assert.equal(c.prompt, 'user: Describe the image');
  assert.equal(c.response, 'assistant: A red square.');
  assert.deepEqual(c.extra, { reward_fn: 2 });
  assert.equal(c.step, 7);
  chat.close();
});

test('foreign files and folders are refused with the path and what was expected', async () => {
  const bad = async (path: string, pattern: RegExp): Promise<void> => {
    await assert.rejects(openSampleSource(path), (err: Error) => {
      assert.ok(err instanceof SourceError, String(err));
      assert.match(err.message, pattern);
      assert.ok(err.message.includes(path), err.message);
      return true;
    });
  };
  writeFileSync(join(dir, 'notes.txt'), 'hello');
  await bad(join(dir, 'notes.txt'), /not a sample file: expected a run folder/);
  writeFileSync(join(dir, 'metrics.jsonl'), '{"loss": 1, "step": 3}\n');
  await bad(join(dir, 'metrics.jsonl'), /:1: not a sample record \(keys loss, step\); expected a fact-rlhf sample/);
  await bad(join(dir, 'other.parquet'), /not a TRL completions table: columns a, b/);
  writeFileSync(join(dir, 'list.json'), '[{"a": 1}]');
  await bad(join(dir, 'list.json'), /not a LLaVA-RLHF rollout dump \(first entry has keys a\)/);
  mkdirSync(join(dir, 'empty'));
  await bad(join(dir, 'empty'), /no sample files here/);
  await bad(join(dir, 'missing'), /no such file or folder/);
});
