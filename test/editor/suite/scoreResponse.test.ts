// Score Response on a selection, in a real VS Code: a tiny reward model trained by the real trainer
// (Train Reward Model on the workspace's score-rm config), exported on demand, scored by
// onnxruntime-node in the extension's worker — with the facts and without them — and checked
// against the PyTorch reference (`python -m fact_rlhf score`) on the same records.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as vscode from 'vscode';
import type { ScoreResponseFailure, ScoreResponseResult } from '../../../src/viewModels/scoreSummary';
import { activateApi, extension, workspaceFile } from './helpers';

const RUN_TIMEOUT_MS = 4 * 60_000;
// The first score exports the run (the trainer, a few seconds) and starts the worker.
const SCORE_TIMEOUT_MS = 120_000;

interface Pair {
  id: string;
  image: string;
  conversations: { from: string; value: string }[];
  output_1: { value: string };
  output_2: { value: string };
}

interface SampleRecord {
  step: number;
  prompt_id: string;
  image: string;
  prompt: string;
  response: string;
  facts: string[];
}

function finishedRmRun(): string | undefined {
  const runs = workspaceFile('runs').fsPath;
  let names: string[] = [];
  try {
    names = readdirSync(runs);
  } catch {
    return undefined;
  }
  return names
    .map((n) => join(runs, n))
    .find((dir) => {
      try {
        const m = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as { stage?: string; status?: string };
        return m.stage === 'rm' && m.status === 'finished';
      } catch {
        return false;
      }
    });
}

/** Sample records from the run's own world: a prompt, one of its two answers, the image's facts. */
function worldRecords(runDir: string, count: number): SampleRecord[] {
  const world = join(runDir, 'world');
  const pairs = JSON.parse(readFileSync(join(world, 'preference.json'), 'utf8')) as Pair[];
  const facts = JSON.parse(readFileSync(join(world, 'facts.json'), 'utf8')) as Record<string, string[]>;
  return pairs.slice(0, count).map((p, k) => ({
    step: 0,
    prompt_id: `${p.id}/${(k % 2) + 1}`,
    image: `world/images/${p.image}`,
    prompt: p.conversations[0].value.replace('<image>\n', ''),
    response: (k % 2 ? p.output_2 : p.output_1).value,
    facts: facts[p.id] ?? facts[p.image] ?? [],
  }));
}

interface Reference {
  index: number;
  with_facts: number;
  without_facts: number;
}

/** The PyTorch reference's scores for a samples file (the same interpreter the extension uses). */
function reference(runDir: string, samplesFile: string): Reference[] {
  const python = vscode.workspace.getConfiguration('factRlhf').get<string>('pythonPath') || 'python3';
  const r = spawnSync(python, ['-m', 'fact_rlhf', 'score', '--rm', join(runDir, 'onnx'), '--samples', samplesFile, '--json'], {
    encoding: 'utf8',
    env: { ...process.env, PYTHONPATH: join(extension().extensionPath, 'trainer'), HF_HUB_OFFLINE: '1' },
  });
  assert.equal(r.status, 0, `python -m fact_rlhf score failed:\n${r.stderr}`);
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Reference);
}

type Answer = ScoreResponseResult | ScoreResponseFailure | undefined;

/** Runs the command (`answerBoxes` answers its input boxes); one that stops to ask unanswered fails the test instead of hanging it. */
async function scoreResponse(args?: object, answerBoxes?: (answered: () => boolean) => Promise<void>): Promise<Answer> {
  let timer: NodeJS.Timeout | undefined;
  const asked = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void vscode.commands.executeCommand('workbench.action.closeQuickOpen');
      reject(new Error(`Score Response did not answer in ${SCORE_TIMEOUT_MS} ms (did it ask for input?)`));
    }, SCORE_TIMEOUT_MS);
  });
  try {
    let answered = false;
    const answer = Promise.resolve(vscode.commands.executeCommand<Answer>('factRlhf.scoreResponse', args)).finally(() => (answered = true));
    await answerBoxes?.(() => answered).catch(async (err: unknown) => {
      await vscode.commands.executeCommand('workbench.action.closeQuickOpen'); // leave no box open for the next test
      throw err;
    });
    return await Promise.race([answer, asked]);
  } finally {
    clearTimeout(timer);
  }
}

function scored(answer: Answer): ScoreResponseResult {
  assert.ok(answer, 'the command answered nothing (refused or cancelled)');
  assert.ok(!('error' in answer), `the command failed: ${'error' in answer ? answer.error : ''}`);
  return answer;
}

const MESSAGE = /^Fact-RLHF: reward (-?\d+\.(\d+)) with facts, (-?\d+\.\d+) without \(Δ ([+-]\d+\.\d+)\)$/;

/** Both numbers and their difference are finite, differ, and are what the notification shows. */
function assertShown(r: ScoreResponseResult): void {
  assert.ok(Number.isFinite(r.withFacts) && Number.isFinite(r.withoutFacts), JSON.stringify(r));
  assert.ok(Math.abs(r.withFacts - r.withoutFacts) > 1e-6, `the facts did not move the reward: ${JSON.stringify(r)}`);
  assert.equal(r.difference, r.withFacts - r.withoutFacts);
  const m = MESSAGE.exec(r.message);
  assert.ok(m, `notification: ${r.message}`);
  const digits = m[2].length;
  assert.equal(m[1], r.withFacts.toFixed(digits));
  assert.equal(m[3], r.withoutFacts.toFixed(digits));
  assert.equal(Number(m[4]), Number(r.difference.toFixed(digits)));
}

describe('Score Response', () => {
  let rmRun: string;
  const settings = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('factRlhf');

  before(async function () {
    this.timeout(RUN_TIMEOUT_MS + 60_000);
    const api = await activateApi();
    const found = finishedRmRun();
    if (found) rmRun = found;
    else {
      const started = await vscode.commands.executeCommand<{ runId: string; runDir: string } | undefined>(
        'factRlhf.trainRewardModel',
        workspaceFile('score-rm.rlhf.yaml'),
      );
      assert.ok(started, 'factRlhf.trainRewardModel returned no run');
      assert.equal(await api.waitForRun(started.runId, RUN_TIMEOUT_MS), 'finished');
      rmRun = started.runDir;
    }
  });

  after(async () => {
    await settings().update('rewardModel', undefined, vscode.ConfigurationTarget.Workspace);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('scores the selection with the facts and without them (inputs passed, model from factRlhf.rewardModel)', async function () {
    this.timeout(SCORE_TIMEOUT_MS + 60_000);
    // Relative to the workspace folder, as a user would write it.
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
    await settings().update('rewardModel', relative(folder, rmRun), vscode.ConfigurationTarget.Workspace);
    const [rec] = worldRecords(rmRun, 3).slice(2);
    const doc = await vscode.workspace.openTextDocument({ content: `Notes on a rollout.\n${rec.response}\nEnd.\n`, language: 'plaintext' });
    const editor = await vscode.window.showTextDocument(doc);
    editor.selection = new vscode.Selection(1, 0, 1, rec.response.length);

    const r = scored(await scoreResponse({ prompt: rec.prompt, facts: rec.facts, image: join(rmRun, rec.image) }));
    assertShown(r);
    assert.equal(r.source, 'input');
    assert.equal(r.response, rec.response);
    assert.equal(r.model, rmRun);
    assert.equal(r.exportDir, join(rmRun, 'onnx'), 'the rm run was exported on demand');
    assert.deepEqual(r.facts, rec.facts);
    console.log(`Score Response (typed inputs): ${r.message}`);
  });

  it('inside a samples/*.jsonl record line takes prompt, facts and image from the record, asks nothing, and matches PyTorch', async function () {
    this.timeout(SCORE_TIMEOUT_MS + 60_000);
    // No setting: the workspace's one finished rm run is the model.
    await settings().update('rewardModel', undefined, vscode.ConfigurationTarget.Workspace);
    const records = worldRecords(rmRun, 2);
    const samplesFile = join(rmRun, 'samples', 'step-0.jsonl');
    mkdirSync(join(rmRun, 'samples'), { recursive: true });
    const lines = records.map((r) => JSON.stringify(r));
    writeFileSync(samplesFile, `${lines.join('\n')}\n`);
    const expected = reference(rmRun, samplesFile);
    assert.equal(expected.length, 2);

    const editor = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(samplesFile));
    // The response's JSON source on line 2, as a user would select it (escapes and all).
    const source = JSON.stringify(records[1].response).slice(1, -1);
    const at = lines[1].indexOf(`"response":"${source}"`) + '"response":"'.length;
    assert.ok(at > 0, lines[1]);
    editor.selection = new vscode.Selection(1, at, 1, at + source.length);

    const r = scored(await scoreResponse());
    assertShown(r);
    assert.equal(r.source, 'sample');
    assert.deepEqual(r.sample, { file: samplesFile, line: 2, promptId: records[1].prompt_id, step: 0 });
    assert.equal(r.prompt, records[1].prompt);
    assert.deepEqual(r.facts, records[1].facts);
    assert.equal(r.image, join(rmRun, records[1].image));
    assert.equal(r.response, records[1].response);
    assert.equal(r.model, rmRun, 'the finished rm run was taken as the model');
    const worst = Math.max(Math.abs(r.withFacts - expected[1].with_facts), Math.abs(r.withoutFacts - expected[1].without_facts));
    assert.ok(worst <= 1e-4, `Score Response vs PyTorch: ${JSON.stringify(r)} vs ${JSON.stringify(expected[1])}`);

    // The cursor alone on a record line scores that record's response.
    editor.selection = new vscode.Selection(0, 5, 0, 5);
    const first = scored(await scoreResponse());
    assert.equal(first.response, records[0].response);
    assert.equal(first.sample?.line, 1);
    assert.ok(
      Math.abs(first.withFacts - expected[0].with_facts) <= 1e-4 && Math.abs(first.withoutFacts - expected[0].without_facts) <= 1e-4,
    );
    console.log(`Score Response (sample line): ${r.message}; PyTorch max abs diff ${worst.toExponential(2)}`);
  });

  it('outside a sample record asks for the prompt and facts in input boxes, offering the last ones used', async function () {
    this.timeout(SCORE_TIMEOUT_MS + 60_000);
    // The first test's inputs are remembered; the boxes offer them and Enter takes them.
    const [rec] = worldRecords(rmRun, 3).slice(2);
    const doc = await vscode.workspace.openTextDocument({ content: rec.response, language: 'plaintext' });
    const editor = await vscode.window.showTextDocument(doc);
    editor.selection = new vscode.Selection(0, 0, 0, rec.response.length);
    const r = scored(
      await scoreResponse({ image: join(rmRun, rec.image) }, async (answered) => {
        // The two boxes open in turn (there is no event for it: wait, then accept what each offers).
        for (let box = 1; box <= 2; box++) {
          await new Promise((resolve) => setTimeout(resolve, 1500));
          assert.equal(answered(), false, `the command answered before input box ${box} was accepted`);
          await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
        }
      }),
    );
    assert.equal(r.source, 'input');
    assert.equal(r.prompt, rec.prompt, 'the remembered prompt');
    assert.deepEqual(r.facts, rec.facts, 'the remembered facts');
    assertShown(r);
  });

  it('an unreadable image or a folder that is no model is the scorer’s own error, naming the file', async function () {
    this.timeout(SCORE_TIMEOUT_MS + 30_000);
    const doc = await vscode.workspace.openTextDocument({ content: 'A red circle is on the left.', language: 'plaintext' });
    const editor = await vscode.window.showTextDocument(doc);
    editor.selection = new vscode.Selection(0, 0, 0, doc.lineAt(0).text.length);
    const missing = join(rmRun, 'world', 'images', 'no-such-image.png');
    const answer = await scoreResponse({ prompt: 'Where is the circle?', facts: ['A red circle.'], image: missing, model: rmRun });
    assert.ok(answer && 'error' in answer, `expected an error, got ${JSON.stringify(answer)}`);
    assert.ok(answer.error.includes(missing) && /cannot read the image/.test(answer.error), answer.error);

    // A folder that is no reward model: the scorer says which file it looked for.
    const notAModel = join(rmRun, 'world');
    const foreign = await scoreResponse({ prompt: 'Q?', facts: [], image: join(rmRun, worldRecords(rmRun, 1)[0].image), model: notAModel });
    assert.ok(foreign && 'error' in foreign, `expected an error, got ${JSON.stringify(foreign)}`);
    assert.ok(foreign.error.includes(join(notAModel, 'rm.json')) && /is not a reward-model export/.test(foreign.error), foreign.error);
  });
});
