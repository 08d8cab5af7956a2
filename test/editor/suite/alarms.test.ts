// A finished run whose answers collapse towards empty, opened in real VS Code: the health rules
// judge it on the host, one notification says so with its "Show samples at step N" action, the
// trace view gets its badge, and the action opens that step's sample records.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { activateApi, waitFor, workspaceFile } from './helpers';

const N = 30;
const T0 = 1_760_000_000;

/** run.json + events.jsonl + samples/ of a finished PPO run: length 40, falling to 0 from step 12. */
function writeCollapsedRun(dir: string): void {
  mkdirSync(join(dir, 'samples'), { recursive: true });
  const manifest = {
    id: 'editor-collapsed-run',
    stage: 'ppo',
    config: { ppo: { kl_coef: 0.1 } },
    config_hash: 'sha256:editor',
    host: 'test-host',
    pids: [1],
    world_size: 1,
    started: T0,
    ended: T0 + N + 1,
    status: 'finished',
    protocol_version: 1,
  };
  writeFileSync(join(dir, 'run.json'), JSON.stringify(manifest));
  const events: object[] = [{ v: 1, t: T0, type: 'status', status: 'running' }];
  for (let step = 0; step < N; step++) {
    const length = step < 12 ? 40 : Math.max(0, 40 - 5 * (step - 11));
    events.push({
      v: 1,
      t: T0 + 1 + step,
      type: 'metric',
      step,
      values: { 'ppo/reward_total': -5 + 0.1 * Math.sin(step), 'ppo/response_length': length },
    });
    if (step % 5 === 0) {
      const path = `samples/step-${String(step).padStart(6, '0')}.jsonl`;
      writeFileSync(join(dir, path), `${JSON.stringify({ step, prompt_id: 'p0', response: step < 12 ? 'a red circle' : '' })}\n`);
      events.push({ v: 1, t: T0 + 1 + step, type: 'sample', step, path, count: 1 });
    }
  }
  events.push({ v: 1, t: T0 + N + 1, type: 'status', status: 'finished' });
  writeFileSync(join(dir, 'events.jsonl'), `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
}

describe('health alarms', () => {
  it('a finished run with a collapse gives one notification with "Show samples at step N", and the badge', async function () {
    this.timeout(60_000);
    const api = await activateApi();
    const dir = workspaceFile('runs-alarm/editor-collapsed-run');
    writeCollapsedRun(dir.fsPath);

    const runId = await vscode.commands.executeCommand<string | undefined>('factRlhf.openRunTraces', dir);
    assert.equal(runId, 'editor-collapsed-run');
    const notice = await waitFor('the alarm notification', 10_000, () =>
      api.alarmNotices().find((n) => n.runId === runId && n.rule === 'collapse'),
    );
    // Length 40 → below half (20) at step 16 (40 − 5·5 = 15).
    assert.equal(notice.step, 16);
    assert.deepEqual(notice.actions, ['Show samples at step 16']);
    assert.match(notice.message, /editor-collapsed-run: collapse from step 16\. Mean response length fell/);

    // Opened again: judged again, but not announced twice.
    await vscode.commands.executeCommand('factRlhf.openRunTraces', dir);
    assert.equal(api.alarmNotices().filter((n) => n.runId === runId).length, 1);

    await vscode.commands.executeCommand('factRlhf.showRewardTraces');
    const badge = await waitFor('the trace view badge', 30_000, () => api.traceViewStats().badge);
    assert.ok(badge.value >= 1);
    assert.match(badge.tooltip, /editor-collapsed-run: collapse at step 16/);

    // The action's code path: the sample inspector opens the run's samples at the step nearest 16 (15).
    const opened = await vscode.commands.executeCommand<string | undefined>('factRlhf.showSamplesAtStep', runId, notice.step);
    assert.equal(opened, join(dir.fsPath, 'samples', 'step-000015.jsonl'));
    await waitFor('the inspector at step 15', 30_000, () =>
      api.sampleInspectorStats().open.some((o) => o.runDir === dir.fsPath && o.rendered?.step === 15) ? true : undefined,
    );
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
