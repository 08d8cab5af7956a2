// The sample inspector in real VS Code: a click on a reward-trace chart point (posted to the trace
// view's host end exactly as its webview posts it) opens the run's samples in the inspector at the
// nearest step; a second click moves the same inspector instead of opening another; the runs view's
// Open Samples goes to the same place. Labelling two preference pairs in it exports a preference file
// that the real rm stage trains on.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { activateApi, waitFor, workspaceFile } from './helpers';

const T0 = 1_760_000_000;
// A 2×2 PNG: the inspector shows the record's image from the run folder.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGM8ISfHwMDAxMDAwMDAAAANBAEIfXHKZgAAAABJRU5ErkJggg==',
  'base64',
);

/** A finished PPO run with schema-valid sample records at steps 0, 10, 20, 30 (4 prompts each). */
export function writeSampleRun(dir: string, id: string): void {
  mkdirSync(join(dir, 'samples'), { recursive: true });
  mkdirSync(join(dir, 'images'), { recursive: true });
  writeFileSync(join(dir, 'images', 'scene-0.png'), PNG);
  const manifest = {
    id,
    stage: 'ppo',
    config: { ppo: { kl_coef: 0.1 } },
    config_hash: 'sha256:editor-samples',
    host: 'test-host',
    pids: [1],
    world_size: 1,
    started: T0,
    ended: T0 + 40,
    status: 'finished',
    protocol_version: 1,
  };
  writeFileSync(join(dir, 'run.json'), JSON.stringify(manifest));
  const events: object[] = [{ v: 1, t: T0, type: 'status', status: 'running' }];
  for (let step = 0; step <= 30; step++) {
    events.push({ v: 1, t: T0 + step, type: 'metric', step, values: { 'ppo/reward_total': step / 10 } });
    if (step % 10 !== 0) continue;
    const lines = [0, 1, 2, 3].map((p) => {
      const response = p % 2 ? `There is a blue square at step ${step}.` : `A red circle and a green triangle, step ${step}.`;
      return JSON.stringify({
        step,
        prompt_id: `prompt-${p}`,
        image: 'images/scene-0.png',
        prompt: `<image>\nWhat is in picture ${p}?`,
        response,
        facts: ['a red circle', 'a green triangle'],
        reward: { rm: 0.5 + p, eos_penalty: 0, length: 0.1, symbolic: 0, kl: -0.01 * step, total: 0.6 + p - 0.01 * step },
        advantage: 0.1 * p,
        hallucination: p % 2 ? { spans: [[11, 22, 'object']], source: 'shapes-judge' } : { spans: [], source: 'shapes-judge' },
        caption_type: 1 + (p % 3),
      });
    });
    const path = `samples/step-${String(step).padStart(6, '0')}.jsonl`;
    writeFileSync(join(dir, path), `${lines.join('\n')}\n`);
    events.push({ v: 1, t: T0 + step, type: 'sample', step, path, count: lines.length });
  }
  events.push({ v: 1, t: T0 + 31, type: 'status', status: 'finished' });
  writeFileSync(join(dir, 'events.jsonl'), `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
}

describe('sample inspector', () => {
  it('a chart click opens the inspector at the nearest step, and the next click moves it', async function () {
    this.timeout(90_000);
    const api = await activateApi();
    const dir = workspaceFile('runs-samples/editor-sample-run');
    writeSampleRun(dir.fsPath, 'editor-sample-run');
    const runId = await vscode.commands.executeCommand<string | undefined>('factRlhf.openRunTraces', dir);
    assert.equal(runId, 'editor-sample-run');

    // The click as the trace webview posts it: step 12 → the records of step 10.
    api.postFromTraceView({ type: 'selectStep', runId, step: 12 });
    const first = await waitFor('the inspector to draw step 10', 30_000, () => {
      const open = api.sampleInspectorStats().open.find((o) => o.runDir === dir.fsPath);
      return open?.rendered?.step === 10 && open.rendered.shown > 0 ? open : undefined;
    });
    assert.equal(first.rendered?.matching, 4, 'the 4 records of step 10');
    assert.equal(first.dropped, 0, 'no message from the inspector was malformed');
    const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
    assert.ok(tab?.input instanceof vscode.TabInputCustom, 'the active tab is a custom editor');
    assert.equal((tab.input as vscode.TabInputCustom).viewType, 'factRlhf.sampleInspector');

    // A second click: the same inspector jumps (no second tab).
    api.postFromTraceView({ type: 'selectStep', runId, step: 29 });
    await waitFor('the inspector to draw step 30', 30_000, () => {
      const open = api.sampleInspectorStats().open.filter((o) => o.runDir === dir.fsPath);
      return open.length === 1 && open[0].rendered?.step === 30 ? true : undefined;
    });
    const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputCustom);
    assert.equal(tabs.length, 1, 'one inspector tab');

    // A malformed message is dropped by the trace view's host end, and opens nothing.
    api.postFromTraceView({ type: 'selectStep', runId, step: 'ten' });
    assert.equal(api.sampleInspectorStats().open.length, 1);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('labelling two pairs exports a preference file the rm stage trains on', async function () {
    this.timeout(240_000);
    const api = await activateApi();
    const dir = workspaceFile('runs-samples/editor-label-run');
    writeSampleRun(dir.fsPath, 'editor-label-run');
    await vscode.commands.executeCommand('factRlhf.openSamples', dir);
    await waitFor('the inspector on the label run', 30_000, () =>
      api.sampleInspectorStats().open.some((o) => o.runDir === dir.fsPath && o.rendered) ? true : undefined,
    );
    // The records the view would hold: prompt-0 at steps 0 and 10, prompt-1 at steps 20 and 30.
    const page = async (step: number) =>
      (
        await api.sampleInspectorRequest(dir.fsPath, 'query', {
          step,
          sort: 'index',
          descending: false,
          filter: { captionType: null, hallucinatedOnly: false, text: '' },
          offset: 0,
          limit: 10,
        })
      ).records;
    const [s0, s10, s20, s30] = [await page(0), await page(10), await page(20), await page(30)];
    const of = (records: typeof s0, promptId: string) => {
      const r = records.find((x) => x.promptId === promptId);
      assert.ok(r, `a record of ${promptId}`);
      return r;
    };
    await api.sampleInspectorRequest(dir.fsPath, 'labelPreference', {
      a: of(s0, 'prompt-0').index,
      b: of(s10, 'prompt-0').index,
      preferred: 2,
    });
    const { labels } = await api.sampleInspectorRequest(dir.fsPath, 'labelPreference', {
      a: of(s20, 'prompt-1').index,
      b: of(s30, 'prompt-1').index,
      preferred: 1,
    });
    assert.equal(labels.pairs.length, 2);
    // A pair across two prompts is refused with the reason.
    await assert.rejects(
      api.sampleInspectorRequest(dir.fsPath, 'labelPreference', { a: of(s0, 'prompt-0').index, b: of(s0, 'prompt-1').index, preferred: 1 }),
      /prompt/,
    );
    const exported = await api.sampleInspectorRequest(dir.fsPath, 'exportPreferences', {});
    assert.equal(exported.pairs, 2);
    assert.ok(exported.path && existsSync(exported.path), 'preferences.json written');
    const pairs = JSON.parse(readFileSync(exported.path, 'utf8')) as { output_1: { value: string }; preference: number }[];
    assert.equal(pairs.length, 2);

    // The next reward-model round: the tiny rm example, fed the export.
    const config = workspaceFile('labels-rm.rlhf.yaml');
    writeFileSync(
      config.fsPath,
      [
        'version: 1',
        'extends: ../../../examples/tiny-rm.rlhf.yaml',
        'name: editor-labels-rm',
        'output_dir: runs',
        'data:',
        '  builtin: none',
        `  preference: ${JSON.stringify(exported.path)}`,
        `  facts: ${JSON.stringify(join(dir.fsPath, 'labels', 'facts.json'))}`,
        `  image_folder: ${JSON.stringify(dir.fsPath)}`,
        'reward_model:',
        '  epochs: 1',
        '  batch_size: 2',
        '  per_device_batch_size: 2',
        '  held_out: 0',
        '  eval_every: 2',
        '',
      ].join('\n'),
    );
    const started = await vscode.commands.executeCommand<{ runId: string; runDir: string } | undefined>(
      'factRlhf.trainRewardModel',
      config,
    );
    assert.ok(started, 'the rm stage started');
    assert.equal(await api.waitForRun(started.runId, 200_000), 'finished');
    const log = readFileSync(join(started.runDir, 'events.jsonl'), 'utf8');
    assert.match(log, /data: 2 training pairs/, 'the rm stage trained on the 2 labelled pairs');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
