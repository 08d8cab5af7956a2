// The experiment form inside a real VS Code (code-server): opened on the tiny config with the
// "Open as Form" command, its real webview draws the schema's fields; a field edit goes through the
// form's host channel (validated there, exactly as the webview's own message) and becomes a
// minimal WorkspaceEdit; after a save only that line differs on disk; the language server's error
// diagnostic reaches the field by its key path, and the webview draws it there. Then the launch
// panel: Launch from the form (the launch command posted through the channel exactly as the
// webview would) runs the tiny config to `finished` with the real trainer, the runs view lists it
// and the strip shows it; a second launch from the form is stopped from the runs view and resumed
// from there to finished, its metrics continuing from the checkpoint step. (runsView.test.ts proves
// Stop → Resume on a run the Start command launched; the new part here is the form's launch.)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { ReplyMessage } from '../../../src/protocol/ipc';
import type { LaunchPlanView, PipelineMessage } from '../../../src/protocol';
import type { FormDiagnosticsMessage } from '../../../src/protocol/webviews/experimentForm';
import { activateApi, waitFor, workspaceFile } from './helpers';

const RUN_TIMEOUT_MS = 4 * 60_000;

interface Item {
  dir: string;
  state: string;
  live: boolean;
  checkpoint?: string;
}

async function listed(runDir: string): Promise<Item | undefined> {
  const items = await vscode.commands.executeCommand<Item[]>('factRlhf.runs.refresh');
  return items.find((i) => i.dir === runDir);
}

/** Each launch's metric steps in one events.jsonl (a launch begins with status `starting`). */
function launchesOf(runDir: string): number[][] {
  const launches: number[][] = [];
  let text = '';
  try {
    text = readFileSync(join(runDir, 'events.jsonl'), 'utf8');
  } catch {
    return launches; // not written yet
  }
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let e: { type: string; status?: string; step?: number };
    try {
      e = JSON.parse(line) as typeof e;
    } catch {
      continue; // a torn last line: the rest comes with the next read
    }
    if (e.type === 'status' && e.status === 'starting') launches.push([]);
    if (e.type === 'metric' && launches.length) launches[launches.length - 1].push(e.step as number);
  }
  return launches;
}

describe('experiment form', () => {
  it('opens on the tiny config, edits ppo.kl_coef as one line, and shows an error at its field', async function () {
    this.timeout(120_000);
    const api = await activateApi();
    await api.languageClientReady();
    const uri = workspaceFile('tiny-ppo.rlhf.yaml');
    const original = readFileSync(uri.fsPath, 'utf8');
    const hooks = api.experimentForm;
    try {
      await vscode.commands.executeCommand('factRlhf.openAsForm', uri);
      const tab = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
      assert.ok(tab instanceof vscode.TabInputCustom && tab.viewType === 'factRlhf.experimentForm', 'the form is the active tab');
      // The real webview drew every field and then the language server's diagnostics.
      const init = await waitFor('the form webview to draw its fields', 30_000, () => hooks.rendered(uri).find((m) => m.what === 'init'));
      assert.ok(init.fields > 100, `${init.fields} fields drawn`);
      await waitFor('diagnostics for the first version', 30_000, () => hooks.sent(uri).find((m) => m.type === 'diagnostics'));

      // Not set in this file (it comes from the extends parent): the edit inserts one line under ppo.
      const values = hooks.sent(uri).find((m) => m.type === 'values');
      assert.equal(values?.type === 'values' && values.values['ppo.kl_coef'].origin.kind, 'parent');
      const edit = async (value: number): Promise<ReplyMessage | undefined> =>
        hooks.receive(uri, { type: 'request', method: 'edit', params: { field: 'ppo.kl_coef', op: 'set', value } });
      const reply = await edit(0.2);
      assert.deepEqual(reply && reply.ok && reply.result, { applied: true });
      const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
      assert.ok(doc?.isDirty, 'the edit made the document dirty (VS Code owns undo, dirty and save)');
      assert.ok(await doc.save());
      const saved = readFileSync(uri.fsPath, 'utf8');
      const before = original.split('\n');
      const after = saved.split('\n');
      assert.equal(after.length, before.length + 1, 'one line added');
      const at = after.indexOf('  kl_coef: 0.2');
      assert.ok(at > 0, saved);
      assert.deepEqual([...after.slice(0, at), ...after.slice(at + 1)], before, 'every other line byte for byte the same');

      // A malformed message from the "view" is dropped by the channel, not acted on.
      const bad = await hooks.receive(uri, { type: 'request', method: 'edit', params: { field: 'ppo.kl_coef', op: 'delete' } });
      assert.ok(bad && !bad.ok, 'the channel refused an edit with an unknown op');

      // An out-of-range value: the server's error arrives at the field, with its key path.
      await edit(-1);
      const version = doc.version;
      const diags = await waitFor('an error diagnostic at ppo.kl_coef', 30_000, () =>
        hooks
          .sent(uri)
          .filter((m): m is FormDiagnosticsMessage => m.type === 'diagnostics' && m.version === version)
          .find((m) => m.items.some((d) => d.field === 'ppo.kl_coef' && d.severity === 'error')),
      );
      const d = diags.items.find((x) => x.field === 'ppo.kl_coef')!;
      assert.deepEqual(d.path, ['ppo', 'kl_coef']);
      assert.equal(d.line, at + 1, 'the diagnostic sits on the edited line');
      await waitFor('the webview to draw it at the field', 30_000, () =>
        hooks.rendered(uri).find((m) => m.what === 'diagnostics' && m.version === version && m.atFields > 0),
      );
    } finally {
      // Leave the workspace's config as the other tests expect it.
      const doc = await vscode.workspace.openTextDocument(uri);
      const all = new vscode.WorkspaceEdit();
      all.replace(uri, new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length)), original);
      await vscode.workspace.applyEdit(all);
      await doc.save();
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  });

  it('launches the tiny config from the form to finished, listed in the runs view; a second launch stopped and resumed from the runs view', async function () {
    this.timeout(3 * RUN_TIMEOUT_MS + 60_000);
    const api = await activateApi();
    await api.languageClientReady();
    const uri = workspaceFile('tiny-ppo.rlhf.yaml');
    const hooks = api.experimentForm;
    try {
      await vscode.commands.executeCommand('factRlhf.openAsForm', uri);
      await waitFor('the form webview to draw its fields', 30_000, () => hooks.rendered(uri).find((m) => m.what === 'init'));
      await waitFor('diagnostics for the first version', 30_000, () => hooks.sent(uri).find((m) => m.type === 'diagnostics'));
      await waitFor('the pipeline strip', 30_000, () => hooks.sent(uri).find((m) => m.type === 'pipeline'));
      await waitFor('the GPU list', 30_000, () => hooks.sent(uri).find((m) => m.type === 'gpus'));

      // The plan the panel shows before launch: the real interpreter and this config.
      const params = { stage: 'ppo', backend: 'local', gpus: [] };
      const planned = await hooks.receive(uri, { type: 'request', method: 'planLaunch', params });
      const plan = planned && planned.ok ? (planned.result as LaunchPlanView) : undefined;
      assert.ok(plan?.ok, `a launch plan: ${JSON.stringify(planned)}`);
      assert.equal(plan.argv[plan.argv.indexOf('--config') + 1], uri.fsPath);

      // Launch, as the panel's button posts it.
      await hooks.receive(uri, { type: 'launch', ...params });
      const first = await waitFor('the form to start a run', 60_000, () => hooks.launched(uri)[0]);
      assert.equal(first.runDir, plan.runDir, 'the run folder is the one the panel showed');
      assert.equal(await api.waitForRun(first.runId, RUN_TIMEOUT_MS), 'finished');
      const item = await waitFor('the runs view to list it finished', 30_000, async () => {
        const i = await listed(first.runDir);
        return i?.state === 'finished' ? i : undefined;
      });
      assert.equal(item.live, false);
      // The strip follows: PPO finished, from this run.
      await waitFor('the strip to show PPO finished from this run', 30_000, () =>
        hooks
          .sent(uri)
          .filter((m): m is PipelineMessage => m.type === 'pipeline')
          .find((m) => m.state.stages.some((s) => s.stage === 'ppo' && s.status === 'finished' && s.runDir === first.runDir)),
      );

      // A second launch from the form: Stop it from the runs view once it trains, then Resume there.
      await hooks.receive(uri, { type: 'launch', ...params });
      const second = await waitFor('the second run', 60_000, () => hooks.launched(uri)[1]);
      assert.notEqual(second.runDir, first.runDir);
      await waitFor(
        'its first PPO iteration (metric step 0 is the reward warm-up)',
        RUN_TIMEOUT_MS,
        () => ((launchesOf(second.runDir)[0]?.length ?? 0) >= 2 ? true : undefined),
        100,
      );
      assert.equal(await vscode.commands.executeCommand<string | undefined>('factRlhf.runs.stop', second.runDir), 'stopped');
      const stopped = await waitFor('the run listed stopped with a checkpoint', 30_000, async () => {
        const i = await listed(second.runDir);
        return i?.state === 'stopped' && i.checkpoint ? i : undefined;
      });
      const checkpointStep = Number(stopped.checkpoint?.replace(/^step-/, ''));
      assert.ok(checkpointStep >= 1 && checkpointStep < 6, `stopped part-way: ${stopped.checkpoint}`);
      const resumed = await vscode.commands.executeCommand<{ runId: string; runDir: string } | undefined>(
        'factRlhf.runs.resume',
        second.runDir,
      );
      assert.ok(resumed, 'factRlhf.runs.resume returned nothing (see the Fact-RLHF log)');
      assert.equal(resumed.runDir, second.runDir);
      assert.equal(await api.waitForRun(resumed.runId, RUN_TIMEOUT_MS), 'finished');
      const launches = launchesOf(second.runDir);
      assert.equal(launches.length, 2, 'two launches in one events.jsonl');
      assert.equal(Math.max(...launches[0]), checkpointStep, 'the stop checkpointed its last iteration');
      assert.equal(launches[1][0], checkpointStep + 1, `the resumed metrics continue from the checkpoint step: ${launches[1].join(',')}`);
      assert.equal(Math.max(...launches[1]), 6);
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  });
});
