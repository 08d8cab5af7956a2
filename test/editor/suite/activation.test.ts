// The extension loads in a real VS Code, activates and registers every command it contributes.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { extension, activateApi } from './helpers';

const CONTRIBUTED = [
  'factRlhf.startSft',
  'factRlhf.trainRewardModel',
  'factRlhf.startPpo',
  'factRlhf.stopRun',
  'factRlhf.showRewardTraces',
  'factRlhf.openSamples',
  'factRlhf.scoreResponse',
  'factRlhf.evaluate',
  'factRlhf.newExperiment',
  'factRlhf.evaluateCheckpoint',
  'factRlhf.setUpTrainerEnvironment',
  'factRlhf.runs.refresh',
  'factRlhf.runs.showTraces',
  'factRlhf.runs.openSamples',
  'factRlhf.runs.stop',
  'factRlhf.runs.resume',
  'factRlhf.runs.compare',
  'factRlhf.runs.revealFolder',
  'factRlhf.runs.delete',
  'factRlhf.openAsForm',
  'factRlhf.openAsText',
];

describe('activation', () => {
  it('activates and returns the automation API', async () => {
    const api = await activateApi();
    assert.equal(extension().isActive, true);
    for (const fn of ['startRun', 'waitForRun', 'traceViewStats', 'languageClientReady'] as const) {
      assert.equal(typeof api[fn], 'function', `API member ${fn}`);
    }
    // Reported, not timed: the bar (< 100 ms) is a benchmark figure recorded in bench/RESULTS.md.
    assert.ok(Number.isFinite(api.activationMs) && api.activationMs >= 0);
    console.log(`activate() took ${api.activationMs.toFixed(1)} ms`);
  });

  it(`contributes and registers all ${CONTRIBUTED.length} commands`, async () => {
    await activateApi();
    const manifest = extension().packageJSON as { contributes?: { commands?: { command: string }[] } };
    const contributed = (manifest.contributes?.commands ?? []).map((c) => c.command).sort();
    assert.deepEqual(contributed, [...CONTRIBUTED].sort(), 'package.json contributes.commands');
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.deepEqual(
      CONTRIBUTED.filter((c) => !registered.has(c)),
      [],
      'commands contributed but not registered',
    );
  });
});
