// Restricted Mode in real VS Code (Workspace Trust on, the workspace untrusted): the launch commands
// stay, and say why they do nothing; nothing is launched and no run folder appears; the language
// features (which run no program and load no model) keep working.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import * as vscode from 'vscode';
import { activateApi, extension, waitFor, workspaceFile } from './helpers';

const LAUNCH_COMMANDS = [
  'factRlhf.startPpo',
  'factRlhf.startSft',
  'factRlhf.trainRewardModel',
  'factRlhf.evaluate',
  'factRlhf.evaluateCheckpoint',
];

/** The folders under the test workspace's runs/ (the configs' output_dir); none when it is absent. */
function runFolders(): string[] {
  const runs = workspaceFile('runs').fsPath;
  return existsSync(runs) ? readdirSync(runs) : [];
}

/** Long enough for a launch that was (wrongly) started to create its run folder. */
const SETTLE_MS = 1500;

describe('Restricted Mode (untrusted workspace)', () => {
  it('runs in an untrusted workspace with Workspace Trust on', async () => {
    await activateApi();
    assert.equal(vscode.workspace.isTrusted, false, 'the runner should open the test workspace untrusted (--restricted)');
    assert.equal(extension().isActive, true, 'the extension activates in Restricted Mode (untrustedWorkspaces: limited)');
  });

  it('Start PPO explains Restricted Mode and starts nothing', async () => {
    const api = await activateApi();
    const config = workspaceFile('tiny-ppo.rlhf.yaml');
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(config));
    const before = api.restrictedModeNotices().length;
    const started = await vscode.commands.executeCommand<unknown>('factRlhf.startPpo', config);
    assert.equal(started, undefined, 'Start PPO returned a run in an untrusted workspace');
    const notices = api.restrictedModeNotices().slice(before);
    assert.equal(notices.length, 1, `notices shown: ${JSON.stringify(notices)}`);
    assert.match(notices[0], /Restricted Mode/);
    assert.match(notices[0], /Trust this folder to launch training/);
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    assert.deepEqual(runFolders(), [], 'a run folder was created');
  });

  it('every launch command, and the run API, refuses with its reason', async () => {
    const api = await activateApi();
    const config = workspaceFile('tiny-ppo.rlhf.yaml');
    for (const command of LAUNCH_COMMANDS) {
      const before = api.restrictedModeNotices().length;
      const result = await vscode.commands.executeCommand<unknown>(command, config);
      assert.equal(result, undefined, `${command} returned ${JSON.stringify(result)}`);
      assert.equal(api.restrictedModeNotices().length, before + 1, `${command} showed no Restricted Mode explanation`);
    }
    // The run controller checks trust itself, whoever calls it.
    await assert.rejects(api.startRun('ppo', config), /untrusted workspace/);
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    assert.deepEqual(runFolders(), [], 'a run folder was created');
  });

  it('Set Up Trainer Environment explains why it will not run the set-up script', async () => {
    const api = await activateApi();
    const before = api.restrictedModeNotices().length;
    const result = await vscode.commands.executeCommand<unknown>('factRlhf.setUpTrainerEnvironment');
    assert.equal(result, undefined);
    const notices = api.restrictedModeNotices().slice(before);
    assert.equal(notices.length, 1, `notices shown: ${JSON.stringify(notices)}`);
    assert.match(notices[0], /trust the workspace/);
    assert.ok(!existsSync(workspaceFile('.venv').fsPath), 'a .venv was created');
  });

  it('keeps the commands registered (they are not hidden)', async () => {
    await activateApi();
    const registered = new Set(await vscode.commands.getCommands(true));
    for (const command of [...LAUNCH_COMMANDS, 'factRlhf.setUpTrainerEnvironment'])
      assert.ok(registered.has(command), `${command} is not registered`);
  });

  it('still checks configs: a wrong-typed key gets its diagnostic', async function () {
    this.timeout(60_000);
    const api = await activateApi();
    await api.languageClientReady();
    const uri = workspaceFile('wrong-type.rlhf.yaml');
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const seedLine = doc
      .getText()
      .split(/\r?\n/)
      .findIndex((l) => l.startsWith('seed:'));
    assert.ok(seedLine > 0, 'wrong-type.rlhf.yaml has a top-level seed: line');
    const diagnostics = await waitFor('a diagnostic from the fact-rlhf language server', 30_000, () => {
      const ours = vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'fact-rlhf');
      return ours.length ? ours : undefined;
    });
    const seed = diagnostics.find((d) => (typeof d.code === 'object' ? d.code.value : d.code) === 'wrong-type');
    assert.ok(seed, `no wrong-type diagnostic; got: ${diagnostics.map((d) => d.message).join(' | ')}`);
    assert.equal(seed.range.start.line, seedLine, 'diagnostic line');
  });
});
