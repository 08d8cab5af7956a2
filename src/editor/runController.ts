// Connects the run manager to the editor: which interpreter, where runs go, Workspace Trust, the
// output channel, the status bar, the trace view, and re-attaching to live runs after a reload.
import * as vscode from 'vscode';
import { resolve } from 'node:path';
import type { Stage } from '../protocol';
import { TERMINAL_STATUSES } from '../protocol';
import { RunManager, type RunHandle, type RunResult } from '../runs/runManager';
import { resolvePython } from '../runs/pythonResolver';
import { firstErrorLine } from '../runs/interpreterProbe';
import { ensureInterpreter, runSetUp, SET_UP_ACTION, SETUP_HINT } from './interpreterCheck';
import { readManifest } from '../runs/runDirectory';
import { REWARD_KEY } from '../runs/runSummary';
import {
  chooseEvalTarget,
  defaultPolicyRun,
  EvalTargetError,
  evalOutputFolder,
  finishedPolicyRuns,
  type EvalChoice,
  type PolicyRun,
} from '../runs/evalTarget';
import { showEvalResults } from './evalResultsView';
import type { RewardTraceViewProvider } from './webviews/rewardTraces';
import type { RunStatusBar } from './statusBar';

import { LIVE_RUNS_KEY, type LiveRun } from './liveRuns';
import { pythonFromExtension } from './pythonExtension';

export class RunController implements vscode.Disposable {
  // The grace period before SIGKILL: a real 7B iteration takes minutes, so it is the user's to set.
  readonly manager = new RunManager({
    stopGraceMs: 1000 * vscode.workspace.getConfiguration('factRlhf').get<number>('stopGracePeriodSeconds', 30),
  });
  private active: RunHandle | undefined;
  private readonly changedEmitter = new vscode.EventEmitter<void>();
  /** A run started, was re-attached or ended (the runs view refreshes). */
  readonly onDidChangeRuns = this.changedEmitter.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly traces: RewardTraceViewProvider,
    private readonly statusBar: RunStatusBar,
    /** The extension's "Fact-RLHF" log channel (shared with the webviews; the extension disposes it). */
    private readonly output: vscode.LogOutputChannel,
  ) {}

  get activeRun(): RunHandle | undefined {
    return this.active;
  }

  /** The folder this config's runs go to: the `factRlhf.outputDir` setting, else the config's output_dir. */
  outputFolder(configUri: vscode.Uri): string {
    const setting = vscode.workspace.getConfiguration('factRlhf', configUri).get<string>('outputDir')?.trim();
    if (!setting) return evalOutputFolder(configUri.fsPath);
    const folder = vscode.workspace.getWorkspaceFolder(configUri);
    return folder ? vscode.Uri.joinPath(folder.uri, setting).fsPath : setting;
  }

  /** What Evaluate would evaluate for this config, or why nothing may be. */
  evalChoice(configUri: vscode.Uri, opts: { checkpoint?: string; allowRandom?: boolean } = {}): EvalChoice | { refused: string } {
    try {
      return chooseEvalTarget(configUri.fsPath, { ...opts, outputDir: this.outputFolder(configUri) });
    } catch (err) {
      if (err instanceof EvalTargetError) return { refused: err.message };
      throw err;
    }
  }

  defaultEvaluable(runs: readonly PolicyRun[]): PolicyRun | undefined {
    return defaultPolicyRun(runs);
  }

  /** Finished policy runs with a checkpoint under this config's output folder, newest first. */
  evaluableRuns(configUri: vscode.Uri): PolicyRun[] {
    return finishedPolicyRuns(this.outputFolder(configUri));
  }

  /** The interpreter a launch on this config uses: the setting, then the Python extension's, then a venv, then python3. */
  private async interpreter(configUri: vscode.Uri): Promise<ReturnType<typeof resolvePython>> {
    const settings = vscode.workspace.getConfiguration('factRlhf', configUri);
    const folder = vscode.workspace.getWorkspaceFolder(configUri);
    return resolvePython({
      configured: settings.get<string>('pythonPath'),
      fromPythonExtension: await pythonFromExtension(configUri),
      venvRoots: [...(folder ? [folder.uri.fsPath] : []), this.context.extensionUri.fsPath],
    });
  }

  /** What the launch panel's plan needs: the interpreter and the trainer's folders (nothing is started). */
  async launchEnvironment(configUri: vscode.Uri): Promise<{ python: string; trainerRoot: string; schemaDir: string }> {
    const root = this.context.extensionUri;
    return {
      python: (await this.interpreter(configUri)).path,
      trainerRoot: vscode.Uri.joinPath(root, 'trainer').fsPath,
      schemaDir: vscode.Uri.joinPath(root, 'schema').fsPath,
    };
  }

  /**
   * Starts a stage on a config; `runDir` + `resume` continue an existing run (the runs view's Resume);
   * `torchrunProcesses` and `env` come from the launch panel's plan (torchrun, CUDA_VISIBLE_DEVICES).
   */
  async start(
    stage: Stage,
    configUri: vscode.Uri,
    opts: { evalChoice?: EvalChoice; runDir?: string; resume?: boolean; torchrunProcesses?: number; env?: NodeJS.ProcessEnv } = {},
  ): Promise<RunHandle> {
    const { evalChoice } = opts;
    if (!vscode.workspace.isTrusted) {
      throw new Error('Training is disabled in an untrusted workspace. Trust the workspace to launch runs.');
    }
    if (configUri.scheme !== 'file') throw new Error(`Runs need a config on disk, not ${configUri.scheme}:`);
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === configUri.toString());
    if (doc?.isDirty) await doc.save();

    const settings = vscode.workspace.getConfiguration('factRlhf', configUri);
    const folder = vscode.workspace.getWorkspaceFolder(configUri);
    const python = await this.interpreter(configUri);
    // Before any run folder exists: a launch that cannot start leaves nothing behind.
    await ensureInterpreter(python, this.output);
    const outputSetting = settings.get<string>('outputDir')?.trim();
    const outputDir = outputSetting ? (folder ? vscode.Uri.joinPath(folder.uri, outputSetting).fsPath : outputSetting) : undefined;

    const root = this.context.extensionUri;
    const handle = this.manager.start({
      stage,
      configPath: configUri.fsPath,
      python: python.path,
      trainerRoot: vscode.Uri.joinPath(root, 'trainer').fsPath,
      schemaDir: vscode.Uri.joinPath(root, 'schema').fsPath,
      outputDir,
      env: { ...opts.env, FACT_RLHF_SETUP_HINT: SETUP_HINT },
      torchrunProcesses: opts.torchrunProcesses,
      evalCheckpoint: evalChoice?.checkpoint,
      allowRandom: evalChoice?.allowRandom,
      runDir: opts.runDir,
      resume: opts.resume,
    });
    // A new run owns the status bar from its first second, before the trainer reports anything.
    this.statusBar.showStarting(handle.runId, stage);
    this.output.info(`${stage} run ${handle.runId} started: python ${python.path} (${python.source}), folder ${handle.runDir}`);
    if (evalChoice) this.output.info(`[${handle.runId}] ${evalChoice.note}`);
    this.watch(handle, stage);
    await this.rememberLive();
    return handle;
  }

  /** The last run this window watched, live or ended (for "nothing is running" messages). */
  get lastRun(): RunHandle | undefined {
    return this.active;
  }

  /** Stops the active run; undefined when nothing is running (an ended run is not stopped again). */
  async stop(): Promise<RunResult | undefined> {
    const run = this.active;
    if (!run || TERMINAL_STATUSES.includes(run.status)) return undefined;
    this.output.info(`stopping ${run.runId} (checkpoint, then exit)`);
    const stopping = run.stop();
    if (run.stopRefusal) {
      // The recorded process could not be confirmed as this run's trainer: signalling it could hit another program.
      this.output.warn(`[${run.runId}] not signalled: ${run.stopRefusal}`);
      void vscode.window.showWarningMessage(`Fact-RLHF did not stop ${run.runId}: ${run.stopRefusal}`);
    }
    return stopping;
  }

  /** Stops the run in `runDir`: ours, or one found live on disk (re-attached first, so its end is seen). */
  async stopRun(runDir: string): Promise<RunResult | undefined> {
    const dir = resolve(runDir);
    let handle = this.manager.list().find((r) => r.runDir === dir);
    if (!handle) {
      const manifest = readManifest(dir);
      if (!manifest) return undefined;
      handle = this.manager.attach(dir);
      this.watch(handle, manifest.stage);
    }
    this.output.info(`stopping ${handle.runId} (checkpoint, then exit)`);
    const result = handle.stop();
    if (handle.stopRefusal) throw new Error(handle.stopRefusal);
    return result;
  }

  /** Continues a run from its latest checkpoint (the trainer's --resume), with its own config. */
  async resumeRun(runDir: string): Promise<RunHandle> {
    const dir = resolve(runDir);
    const manifest = readManifest(dir);
    if (!manifest) throw new Error(`${dir} is not a run folder (no run.json)`);
    if (!manifest.config_path)
      throw new Error(`run ${manifest.id} does not record its config file; resume it from a terminal with --run-dir`);
    if (manifest.stage === 'eval') throw new Error('an eval run has no checkpoint to continue from; run the evaluation again');
    const live = this.manager.list().find((r) => r.runDir === dir && (r.status === 'starting' || r.status === 'running'));
    if (live) throw new Error(`run ${manifest.id} is still running`);
    // The resumed launch replays the folder's whole history: drop what the view holds of it first.
    this.traces.hub.untrack(manifest.id);
    return this.start(manifest.stage, vscode.Uri.file(manifest.config_path), { runDir: dir, resume: true });
  }

  /** Run folders of the runs this window watches that are still live. */
  liveRunDirs(): string[] {
    return this.manager
      .list()
      .filter((r) => r.status === 'starting' || r.status === 'running')
      .map((r) => r.runDir);
  }

  /** Re-attaches to runs that were live before a window reload. */
  async reattach(): Promise<void> {
    const remembered = this.context.workspaceState.get<Array<string | LiveRun>>(LIVE_RUNS_KEY, []);
    for (const entry of remembered) {
      const { dir, nonce } = typeof entry === 'string' ? { dir: entry, nonce: undefined } : entry;
      try {
        const manifest = readManifest(dir);
        if (!manifest) continue;
        // The launch nonce identifies the trainer where there is no /proc start time (macOS, Windows).
        const handle = this.manager.attach(dir, undefined, { nonce });
        this.output.info(`re-attached to ${handle.runId}`);
        this.watch(handle, manifest.stage);
      } catch (err) {
        this.output.warn(`could not re-attach to ${dir}: ${(err as Error).message}`);
      }
    }
    await this.rememberLive();
  }

  runFolders(): vscode.Uri[] {
    // The run folders themselves: their parent may hold anything (a home folder, other projects).
    return this.manager.list().map((r) => vscode.Uri.file(r.runDir));
  }

  showOutput(): void {
    this.output.show(true);
  }

  dispose(): void {
    // Runs keep going when the window closes; they are re-attached on the next activation.
    this.changedEmitter.dispose();
  }

  private watch(handle: RunHandle, stage: Stage): void {
    this.active = handle;
    void vscode.commands.executeCommand('setContext', 'factRlhf.runActive', true);
    this.traces.hub.track(handle.runId, handle.runDir, stage);
    this.changedEmitter.fire();
    handle.on('events', (events) => {
      this.traces.hub.apply(handle.runId, events);
      for (const e of events) {
        if (e.type === 'progress' && this.active === handle) {
          const reward = lastValue(this.traces, handle.runId);
          this.statusBar.showProgress(handle.runId, stage, e.step, e.total, e.eta ?? null, reward, e.phase);
        } else if (e.type === 'log') {
          const line = `[${handle.runId}] ${e.message}`;
          if (e.level === 'error') this.output.error(line);
          else if (e.level === 'warning') this.output.warn(line);
          else this.output.info(line);
        }
      }
    });
    handle.on('reset', () => {
      this.output.warn(`[${handle.runId}] events.jsonl was replaced or rewritten: reading it again from the start`);
      this.traces.hub.restart(handle.runId);
    });
    handle.on('output', (line) => this.output.trace(`[${handle.runId}] ${line}`));
    handle.on('corrupt', (lines) =>
      this.output.warn(
        `[${handle.runId}] skipped ${lines.length} corrupt line(s) in events.jsonl, e.g. line ${lines[0].line}: ${lines[0].error}`,
      ),
    );
    handle.on('exit', (result) => {
      this.traces.hub.setStatus(handle.runId, result.status, result.error);
      this.statusBar.showStatus(handle.runId, result.status);
      if (this.active === handle) void vscode.commands.executeCommand('setContext', 'factRlhf.runActive', false);
      void this.rememberLive();
      this.changedEmitter.fire();
      if (result.status === 'failed') {
        this.output.error(`[${handle.runId}] failed: ${result.error ?? 'unknown error'}`);
        // A package the pre-launch check does not probe (e.g. pillow) can still be missing.
        const actions = /missing Python package/.test(result.error ?? '') ? ['Show Log', SET_UP_ACTION] : ['Show Log'];
        void vscode.window.showErrorMessage(`Fact-RLHF run ${handle.runId} failed: ${firstLine(result.error)}`, ...actions).then((pick) => {
          if (pick === SET_UP_ACTION) void runSetUp();
          else if (pick) this.showOutput();
        });
      } else {
        this.output.info(`[${handle.runId}] ${result.status}`);
        void vscode.window.showInformationMessage(`Fact-RLHF run ${handle.runId} ${result.status}.`);
        if (stage === 'eval' && result.status === 'finished') {
          void showEvalResults(this.context, handle.runDir).then(
            (shown) => {
              if (!shown) this.output.warn(`[${handle.runId}] finished without results.json`);
            },
            (err: unknown) => this.output.warn(`[${handle.runId}] could not show the results: ${String(err)}`),
          );
        }
      }
    });
  }

  private async rememberLive(): Promise<void> {
    const live: LiveRun[] = this.manager
      .list()
      .filter((r) => r.status === 'starting' || r.status === 'running')
      .map((r) => ({ dir: r.runDir, nonce: r.nonce }));
    await this.context.workspaceState.update(LIVE_RUNS_KEY, live);
  }
}

function lastValue(traces: RewardTraceViewProvider, runId: string): number | null | undefined {
  return traces.hub.lastValue(runId, REWARD_KEY);
}

/** The trainer's first error, not the last line of whatever traceback came after it. */
function firstLine(text: string | undefined): string {
  return (firstErrorLine(text) ?? 'unknown error').slice(0, 300);
}
