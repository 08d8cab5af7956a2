// Start PPO from the command palette's command on the config in the active editor; the trainer
// really runs (the repo's .venv), and its metrics reach the reward-trace webview.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { activateApi, waitFor, workspaceFile } from './helpers';

const RUN_TIMEOUT_MS = 4 * 60_000;

/** The trainer's error text from the run's last `status` event, for the failure message. */
function lastStatusError(runDir: string): string {
  try {
    const lines = readFileSync(join(runDir, 'events.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('"status"'));
    const last = JSON.parse(lines[lines.length - 1] ?? '{}') as { error?: string };
    return last.error ?? 'no error text in events.jsonl';
  } catch (err) {
    return `events.jsonl unreadable: ${(err as Error).message}`;
  }
}

describe('PPO run', () => {
  it('starts from the active editor, finishes, and the trace view renders its points', async function () {
    this.timeout(RUN_TIMEOUT_MS + 90_000);
    const api = await activateApi();
    await vscode.commands.executeCommand('factRlhf.showRewardTraces');
    await waitFor('the reward-trace view to resolve', 30_000, () => (api.traceViewStats().resolved ? true : undefined));
    const pointsBefore = api.traceViewStats().lastRendered?.points ?? 0;

    const config = workspaceFile('tiny-ppo.rlhf.yaml');
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(config));
    // No argument: the command takes the config from the active editor.
    const started = await vscode.commands.executeCommand<{ runId: string; runDir: string } | undefined>('factRlhf.startPpo');
    assert.ok(started, 'factRlhf.startPpo returned no run (see the Fact-RLHF output channel)');
    assert.ok(started.runDir.startsWith(workspaceFile('runs').fsPath), `run folder ${started.runDir} is not under the config's output_dir`);

    const status = await api.waitForRun(started.runId, RUN_TIMEOUT_MS);
    assert.equal(status, 'finished', `run ${started.runId} ended ${status}: ${lastStatusError(started.runDir)}`);
    const manifest = JSON.parse(readFileSync(join(started.runDir, 'run.json'), 'utf8')) as { id?: string; stage?: string; status?: string };
    assert.equal(manifest.stage, 'ppo');
    assert.equal(manifest.status, 'finished');

    // The webview reports what it drew; deltas are batched, so give the last one a moment.
    const rendered = await waitFor('the webview to render the run', 30_000, () => {
      const r = api.traceViewStats().lastRendered;
      return r && r.points > pointsBefore ? r : undefined;
    });
    assert.ok(rendered.runs >= 1, `rendered runs: ${rendered.runs}`);
    const stats = api.traceViewStats();
    assert.ok(stats.snapshotsSent + stats.deltasSent > 0, 'host sent the view no data');
    // Everything the real webview posted in real VS Code passed the contract's validation.
    assert.equal(stats.messagesDropped, 0, 'the host dropped messages from the reward-trace webview');
    // Webviews may read the run folder itself, never its parent (which may hold anything: issue 16).
    const roots = api.runFolders();
    assert.ok(roots.includes(started.runDir), `run folders offered to webviews: ${roots.join(', ')}`);
    assert.ok(!roots.includes(dirname(started.runDir)), 'the parent of a run folder is not a webview resource root');
  });
});
