// The runs view in real VS Code: a run started from the editor is listed live, stopped from the
// view (the trainer checkpoints), listed stopped with its checkpoint, resumed from the view to
// finished, and its metrics continue from the checkpoint step. The trainer really runs.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { activateApi, waitFor, workspaceFile } from './helpers';

const RUN_TIMEOUT_MS = 4 * 60_000;

interface Item {
  id: string;
  dir: string;
  state: string;
  live: boolean;
  description: string;
  contextValue: string;
  checkpoint?: string;
}

async function listed(runDir: string): Promise<Item | undefined> {
  const items = await vscode.commands.executeCommand<Item[]>('factRlhf.runs.refresh');
  return items.find((i) => i.dir === runDir);
}

function metricSteps(runDir: string): { steps: number[]; launches: number[][] } {
  const launches: number[][] = [];
  for (const line of readFileSync(join(runDir, 'events.jsonl'), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const e = JSON.parse(line) as { type: string; status?: string; step?: number };
    if (e.type === 'status' && e.status === 'starting') launches.push([]);
    if (e.type === 'metric' && launches.length) launches[launches.length - 1].push(e.step as number);
  }
  return { steps: launches.flat(), launches };
}

describe('Runs view', () => {
  it('lists a run live, stops it, resumes it from its checkpoint to finished, and lists it finished', async function () {
    this.timeout(2 * RUN_TIMEOUT_MS + 60_000);
    const api = await activateApi();
    await vscode.commands.executeCommand('factRlhf.runs.focus'); // the tree really renders (getChildren/getTreeItem)
    const started = await vscode.commands.executeCommand<{ runId: string; runDir: string } | undefined>(
      'factRlhf.startPpo',
      workspaceFile('runs-view.rlhf.yaml'),
    );
    assert.ok(started, 'factRlhf.startPpo returned no run');

    const live = await waitFor(
      'the run to be listed live',
      60_000,
      async () => {
        const item = await listed(started.runDir);
        return item?.live && item.state === 'running' ? item : undefined;
      },
      300,
    );
    assert.match(live.contextValue, /\blive\b/);
    assert.doesNotMatch(live.contextValue, /\bdeletable\b/, 'a live run offers no Delete');
    // Stop once it has trained a few iterations (its metrics are in events.jsonl).
    await waitFor('two iterations', 120_000, () => (metricSteps(started.runDir).steps.length >= 2 ? true : undefined), 200);

    const stopStatus = await vscode.commands.executeCommand<string | undefined>('factRlhf.runs.stop', started.runDir);
    assert.equal(stopStatus, 'stopped');
    const stopped = await waitFor(
      'the run to be listed stopped with a checkpoint',
      30_000,
      async () => {
        const item = await listed(started.runDir);
        return item && item.state === 'stopped' && item.checkpoint ? item : undefined;
      },
      300,
    );
    assert.match(stopped.contextValue, /\bresumable\b/);
    const checkpointStep = Number(stopped.checkpoint?.replace(/^step-/, ''));
    assert.ok(checkpointStep > 0 && checkpointStep < 24, `stopped part-way: ${stopped.checkpoint}`);

    const resumed = await vscode.commands.executeCommand<{ runId: string; runDir: string; checkpoint: string } | undefined>(
      'factRlhf.runs.resume',
      started.runDir,
    );
    assert.ok(resumed, 'factRlhf.runs.resume returned nothing (see the error notification / Fact-RLHF log)');
    assert.equal(resumed.runDir, started.runDir, 'resumed in the same run folder');
    const status = await api.waitForRun(resumed.runId, RUN_TIMEOUT_MS);
    assert.equal(status, 'finished');

    const { launches } = metricSteps(started.runDir);
    assert.equal(launches.length, 2, 'two launches in one events.jsonl');
    assert.equal(Math.max(...launches[0]), checkpointStep, 'the stop checkpointed its last iteration');
    assert.equal(launches[1][0], checkpointStep + 1, `the resumed launch continues from the checkpoint step: ${launches[1].join(',')}`);
    assert.equal(Math.max(...launches[1]), 24);

    const finished = await waitFor(
      'the run to be listed finished',
      30_000,
      async () => {
        const item = await listed(started.runDir);
        return item?.state === 'finished' && !item.live ? item : undefined;
      },
      300,
    );
    assert.match(finished.description, /^ppo · finished · step 24 · reward -?\d/);
    assert.match(finished.contextValue, /\bdeletable\b/);
    assert.equal(await vscode.commands.executeCommand('factRlhf.runs.showTraces', started.runDir), started.runId);
  });
});
