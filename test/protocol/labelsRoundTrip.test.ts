// Human labels back into training (issue #11 item 5), end to end with the REAL trainer: a tiny PPO run
// on the built-in world writes samples; two pairs of its responses to the same prompts are labelled
// with the label store; `fact-rlhf labels export` (dist/cli.js) writes the preference file; an rm
// config that extends the tiny example points data.preference, data.facts and data.image_folder at
// the export, and the real `rm` stage trains on exactly those pairs to `finished`.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { RunManager, type StartOptions } from '../../src/runs/runManager';
import { venvPython } from '../../src/runs/pythonResolver';
import { LabelStore, recordKey } from '../../src/runs/labels/labelStore';
import type { InspectorRecord } from '../../src/protocol/webviews/sampleInspector';
import type { RunEvent } from '../../src/protocol';

const root = join(__dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'fact-rlhf-labels-rt-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

function options(extra: Partial<StartOptions> & Pick<StartOptions, 'stage' | 'configPath' | 'runDir'>): StartOptions {
  return { python: venvPython(root), trainerRoot: join(root, 'trainer'), schemaDir: join(root, 'schema'), pollMs: 50, ...extra };
}

function events(runDir: string): RunEvent[] {
  return readFileSync(join(runDir, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as RunEvent);
}

interface SampleLine {
  step: number;
  prompt_id: string;
  image: string;
  prompt: string;
  response: string;
  facts: string[];
  reward: Record<string, number>;
  advantage: number;
  hallucination: { spans: [number, number, string][]; source: string } | null;
  caption_type: number;
}

/** The run's samples/step-*.jsonl as the inspector's records (image absolute, as the host gives it). */
function readRecords(runDir: string): InspectorRecord[] {
  const folder = join(runDir, 'samples');
  const lines = readdirSync(folder)
    .filter((f) => /^step-\d+\.jsonl$/.test(f))
    .sort()
    .flatMap((f) => readFileSync(join(folder, f), 'utf8').split('\n').filter(Boolean));
  return lines.map((text, index) => {
    const s = JSON.parse(text) as SampleLine;
    return {
      index,
      step: s.step,
      promptId: s.prompt_id,
      prompt: s.prompt,
      response: s.response,
      facts: s.facts,
      image: join(runDir, s.image),
      reward: s.reward,
      extra: {},
      advantage: s.advantage,
      hallucination: s.hallucination,
      captionType: s.caption_type,
    };
  });
}

/** Pairs of two different responses to one prompt, one pair per prompt, in sample order. */
function samePromptPairs(records: InspectorRecord[]): [InspectorRecord, InspectorRecord][] {
  const byPrompt = new Map<string, InspectorRecord[]>();
  for (const r of records) byPrompt.set(r.promptId ?? '', [...(byPrompt.get(r.promptId ?? '') ?? []), r]);
  const pairs: [InspectorRecord, InspectorRecord][] = [];
  for (const group of byPrompt.values()) {
    const other = group.find((r) => recordKey(r) !== recordKey(group[0]));
    if (other) pairs.push([group[0], other]);
  }
  return pairs;
}

test.before(() => {
  const build = spawnSync(process.execPath, ['scripts/build.mjs', '--only=src/cli'], { cwd: root, encoding: 'utf8' });
  assert.equal(build.status, 0, `build failed: ${build.stderr}`);
});

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const res = spawnSync(process.execPath, [join(root, 'dist', 'cli.js'), ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

test('labels from a real PPO run train the real rm stage: 2 labelled pairs in, finished, 2 pairs trained on', async () => {
  const ppoDir = join(work, 'ppo');
  const ppo = await new RunManager().start(
    options({ stage: 'ppo', configPath: join(root, 'test', 'fixtures', 'tiny-fast.rlhf.yaml'), runDir: ppoDir }),
  ).done;
  assert.equal(ppo.status, 'finished', ppo.error);

  const records = readRecords(ppoDir);
  const pairs = samePromptPairs(records).slice(0, 2);
  assert.equal(pairs.length, 2, `the tiny run repeats at least two prompts across steps (${records.length} samples)`);
  const store = new LabelStore(ppoDir);
  store.setPreference(pairs[0][0], pairs[0][1], 1);
  store.setPreference(pairs[1][0], pairs[1][1], 2);
  const marked = pairs[0][1];
  store.setSpans(marked, [[0, Math.min(5, marked.response.length), 'object']]);
  const byKey = new Map(records.map((r) => [recordKey(r), r.index]));
  const state = store.state((k) => byKey.get(k));
  assert.deepEqual(
    state.pairs.map((p) => p.preferred),
    [1, 2],
  );

  const exported = cli('labels', 'export', ppoDir);
  assert.equal(exported.status, 0, exported.stderr);
  const preferencePath = join(ppoDir, 'labels', 'preferences.json');
  const factsPath = join(ppoDir, 'labels', 'facts.json');
  assert.match(exported.stdout, new RegExp(`wrote 2 preference pairs to ${preferencePath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.match(exported.stdout, /wrote 1 span labels to .*spans\.json/);
  assert.ok(exported.stdout.includes(`    image_folder: ${JSON.stringify(ppoDir)}\n`), exported.stdout);
  const written = JSON.parse(readFileSync(preferencePath, 'utf8')) as { output_1: { value: string }; preference: number }[];
  assert.deepEqual(
    written.map((p) => [p.output_1.value, p.preference]),
    [
      [pairs[0][0].response, 1],
      [pairs[1][0].response, 2],
    ],
  );

  // The next reward-model round: the tiny rm example on the PPO run's own base model, fed the export.
  const rmConfig = join(work, 'labels-rm.rlhf.yaml');
  writeFileSync(
    rmConfig,
    [
      `extends: ${JSON.stringify(join(root, 'examples', 'tiny-rm.rlhf.yaml'))}`,
      'name: labels-rm',
      'model:',
      `  policy: ${JSON.stringify(join(ppoDir, 'model'))}`,
      'data:',
      '  builtin: none',
      `  preference: ${JSON.stringify(preferencePath)}`,
      `  facts: ${JSON.stringify(factsPath)}`,
      `  image_folder: ${JSON.stringify(ppoDir)}`,
      'reward_model:',
      '  epochs: 2',
      '  held_out: 0',
      '  batch_size: 2',
      '  per_device_batch_size: 2',
      '  eval_every: 2',
      '',
    ].join('\n'),
  );
  // What `fact-rlhf rm` checks before it starts: the export's paths and the config pass.
  const validated = cli('validate', rmConfig);
  assert.equal(validated.status, 0, validated.stdout + validated.stderr);
  const rmDir = join(work, 'rm');
  const rm = await new RunManager().start(options({ stage: 'rm', configPath: rmConfig, runDir: rmDir })).done;
  assert.equal(rm.status, 'finished', rm.error);
  const log = events(rmDir);
  const dataLine = log.find((e) => e.type === 'log' && e.message.startsWith('data: '));
  assert.ok(dataLine && dataLine.type === 'log', 'the rm stage says what it read');
  assert.equal(
    dataLine.message,
    `data: 2 training pairs, 0 held out (${preferencePath}); facts for 2 of 2 pairs; model: ${join(ppoDir, 'model')}`,
  );
  assert.ok(!log.some((e) => e.type === 'log' && e.level === 'warning'), 'no pair went without its facts');
  const steps = log.filter((e) => e.type === 'metric' && e.values['rm/loss'] !== undefined);
  assert.equal(steps.length, 2, 'epochs 2 × 2 pairs / batch 2');
  const manifest = JSON.parse(readFileSync(join(rmDir, 'run.json'), 'utf8'));
  assert.equal(manifest.status, 'finished');
  assert.equal(manifest.config.data.preference, preferencePath);
});

test('labels export: its own --help; bad input exits 2, nothing labelled exits 1, naming the folder', () => {
  const help = cli('labels', 'export', '--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^usage: fact-rlhf labels export RUN_DIR \[--out FILE\]/);
  assert.match(help.stdout, /data\.image_folder to RUN_DIR/);
  assert.match(cli('help', 'labels').stdout, /^usage: fact-rlhf labels export/);
  assert.match(cli('--help').stdout, /labels export RUN_DIR \[--out FILE\]/);

  const none = cli('labels', 'export');
  assert.equal(none.status, 2);
  assert.match(none.stderr, /labels export needs a RUN_DIR/);
  assert.equal(cli('labels', 'import', work).status, 2);
  const missing = cli('labels', 'export', join(work, 'no-such-run'));
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /no-such-run is not a folder/);
  assert.match(cli('labels', 'export', work, '--out').stderr, /--out needs a FILE/);

  const empty = join(work, 'unlabelled');
  mkdirSync(empty);
  const unlabelled = cli('labels', 'export', empty);
  assert.equal(unlabelled.status, 1);
  assert.match(unlabelled.stderr, /unlabelled\/labels does not exist: no sample of this run has been labelled yet/);
  // Labels with a corrupt line and only spans: the spans are written, the missing pairs said, exit 1.
  mkdirSync(join(empty, 'labels'));
  writeFileSync(join(empty, 'labels', 'preferences.jsonl'), 'not json\n');
  const onlyCorrupt = cli('labels', 'export', empty);
  assert.equal(onlyCorrupt.status, 1);
  assert.match(onlyCorrupt.stderr, /warning: 1 corrupt label lines skipped:\n  .*preferences\.jsonl:1: not valid JSON/);
  assert.match(onlyCorrupt.stderr, /no preference pair is labelled/);
  assert.ok(!existsSync(join(empty, 'labels', 'preferences.json')));
});
