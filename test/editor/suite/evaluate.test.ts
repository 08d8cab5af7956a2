// Evaluate with no checkpoint named evaluates the newest finished policy run under the config's
// output folder (not a random model), says which, and shows the results table in the editor.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { activateApi, waitFor, workspaceFile } from './helpers';

const RUN_TIMEOUT_MS = 4 * 60_000;

interface Manifest {
  stage?: string;
  status?: string;
  started?: number;
  config?: { eval?: { checkpoint?: string } };
}

function manifest(runDir: string): Manifest {
  try {
    return JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as Manifest;
  } catch {
    return {};
  }
}

/** The newest finished ppo run with a checkpoint under runs/, as the user would find it by hand. */
function newestFinishedPpo(): string | undefined {
  const runs = workspaceFile('runs').fsPath;
  let names: string[] = [];
  try {
    names = readdirSync(runs);
  } catch {
    return undefined;
  }
  const finished = names
    .map((n) => ({ dir: join(runs, n), m: manifest(join(runs, n)) }))
    .filter(({ dir, m }) => m.stage === 'ppo' && m.status === 'finished' && readdirSync(dir).includes('checkpoints'))
    .sort((a, b) => (b.m.started ?? 0) - (a.m.started ?? 0));
  return finished[0]?.dir;
}

describe('Evaluate', () => {
  it('with no checkpoint named evaluates the newest finished policy run and shows the results table', async function () {
    this.timeout(2 * RUN_TIMEOUT_MS + 60_000);
    const api = await activateApi();
    if (!newestFinishedPpo()) {
      // Run on its own (--grep): train the policy it is to evaluate first.
      const ppo = await api.startRun('ppo', workspaceFile('tiny-ppo.rlhf.yaml'));
      assert.equal(await api.waitForRun(ppo.runId, RUN_TIMEOUT_MS), 'finished');
    }
    const expected = newestFinishedPpo();
    assert.ok(expected, 'no finished ppo run under runs/');

    const config = workspaceFile('tiny-eval.rlhf.yaml');
    const started = await vscode.commands.executeCommand<{ runId: string; runDir: string } | undefined>('factRlhf.evaluate', config);
    assert.ok(started, 'factRlhf.evaluate returned no run (see the Fact-RLHF output channel)');
    // The status bar belongs to the new run at once, not to the PPO run that finished before it.
    const bar = api.statusBarText();
    assert.match(bar, /^\$\(sync~spin\) EVAL /, `status bar right after the launch: ${bar}`);
    const status = await api.waitForRun(started.runId, RUN_TIMEOUT_MS);
    const m = manifest(started.runDir);
    assert.equal(status, 'finished', `eval run ended ${status}`);
    assert.equal(m.stage, 'eval');
    assert.equal(m.config?.eval?.checkpoint, expected, 'the eval run did not evaluate the newest finished ppo run');
    const events = readFileSync(join(started.runDir, 'events.jsonl'), 'utf8');
    // The editor chose (and said why in the output channel); the trainer records what it was given.
    assert.ok(
      events.includes(JSON.stringify(`eval: evaluating ${expected} (--checkpoint)`).slice(1, -1)),
      'the run does not say which run it evaluated',
    );
    assert.ok(!events.includes('random initialisation'), 'a random model was evaluated');

    // The results table, in a read-only document of the extension's own scheme.
    const doc = await waitFor('the results document to open', 30_000, () =>
      vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'fact-rlhf-results' && d.getText().includes(started.runId)),
    );
    const text = doc.getText();
    assert.match(text, /\| MMHal score \(0–6\) \| Hallucination rate \| Questions \|/);
    assert.ok(text.includes(`Model: \`${expected}\``), text.slice(0, 400));
  });
});
