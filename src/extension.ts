// Wires the parts together; the parts live in editor/, viewModels/, runs/ and language-server/.
// Activation stays light: the run machinery (yaml, ajv) loads on the first run command or when a
// live run must be re-attached, and the language client starts right after activation returns.
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import type { ValidateResult } from './protocol';
import { RewardTraceViewProvider, REWARD_TRACES_VIEW_ID, type AlarmNotice, type TraceViewStats } from './editor/webviews/rewardTraces';
import { RunStatusBar } from './editor/statusBar';
import { registerCommands } from './editor/commands';
import type { RunController } from './editor/runController';
import { hasRememberedLiveRuns } from './editor/liveRuns';
import { lastInterpreterNotice, type InterpreterNotice } from './editor/interpreterCheck';
import { restrictedModeNotices } from './editor/trust';
import { SET_UP_TRAINER_ENVIRONMENT, setUpTrainerEnvironment } from './editor/trainerEnvironment';
import type { RunsView } from './editor/runsView';
import { SampleInspectorProvider, SAMPLE_INSPECTOR_VIEW_TYPE, type SampleInspectorStats } from './editor/sampleInspector';
import { registerExperimentForm, type ExperimentFormTestHooks } from './editor/experimentForm';
import type { ResponseScoring } from './editor/scoreResponse';

/** Returned from activate(): used by the editor tests and other extensions. */
export interface FactRlhfApi {
  startRun(stage: 'ppo', configUri: vscode.Uri): Promise<{ runId: string; runDir: string }>;
  waitForRun(runId: string, timeoutMs: number): Promise<'finished' | 'failed' | 'stopped'>;
  traceViewStats(): TraceViewStats;
  /** The health-alarm notifications shown so far (one per run and rule). */
  alarmNotices(): AlarmNotice[];
  languageClientReady(): Promise<void>;
  /** The language server's full validation of a config (the typed factRlhf/validate request). */
  validateConfig(uri: vscode.Uri): Promise<ValidateResult>;
  /** The last "the trainer cannot start" notice shown (interpreter check before a launch). */
  lastInterpreterNotice(): InterpreterNotice | undefined;
  /** The Restricted Mode explanations shown so far (a launch refused in an untrusted workspace). */
  restrictedModeNotices(): string[];
  /** The run status-bar item's text. */
  statusBarText(): string;
  /** Run folders the webviews may load from (their `localResourceRoots` beside the extension's own). */
  runFolders(): string[];
  /** The open sample inspectors and what each last drew. */
  sampleInspectorStats(): SampleInspectorStats;
  /** A request to the run's open sample inspector, as its webview would send it. */
  sampleInspectorRequest: SampleInspectorProvider['request'];
  /** Feeds a message to the reward-trace view's host end as if its webview had posted it. */
  postFromTraceView(message: unknown): void;
  /** The open experiment forms, as the editor tests drive them. */
  experimentForm: ExperimentFormTestHooks;
  /** Milliseconds spent inside activate(). */
  activationMs: number;
}

let client: LanguageClient | undefined;

export function activate(context: vscode.ExtensionContext): FactRlhfApi {
  const started = performance.now();
  const settings = vscode.workspace.getConfiguration('factRlhf');
  const statusBar = new RunStatusBar();
  let controller: RunController | undefined;
  let loading: Promise<RunController> | undefined;
  // One "Fact-RLHF" log channel for runs and webviews, created when something first writes to it.
  let output: vscode.LogOutputChannel | undefined;
  const log = (): vscode.LogOutputChannel => (output ??= vscode.window.createOutputChannel('Fact-RLHF', { log: true }));
  context.subscriptions.push({ dispose: () => output?.dispose() });
  const traces = new RewardTraceViewProvider(
    context.extensionUri,
    settings.get<number>('traces.maxUpdatesPerSecond', 4),
    () => controller?.runFolders() ?? [],
    (line) => log().warn(line),
  );
  const runs = (): Promise<RunController> =>
    (loading ??= import('./editor/runController').then((m) => {
      const c = new m.RunController(context, traces, statusBar, log());
      controller = c;
      context.subscriptions.push(c);
      void runsView.then((v) => v.attachController(c)); // assigned in activate(), before any command can start a run
      return c;
    }));

  context.subscriptions.push(
    statusBar,
    traces,
    vscode.window.registerWebviewViewProvider(REWARD_TRACES_VIEW_ID, traces, { webviewOptions: { retainContextWhenHidden: true } }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('factRlhf.traces.maxUpdatesPerSecond')) {
        traces.hub.setMaxUpdatesPerSecond(vscode.workspace.getConfiguration('factRlhf').get<number>('traces.maxUpdatesPerSecond', 4));
      }
    }),
  );
  registerCommands(context, runs, traces);
  context.subscriptions.push(vscode.commands.registerCommand(SET_UP_TRAINER_ENVIRONMENT, () => setUpTrainerEnvironment(context, log)));
  // The runs view loads right after activation (it reads run folders); it follows the controller once that exists.
  const runsView: Promise<RunsView> = import('./editor/runsView').then((m) => {
    const v = m.registerRunsView(
      context,
      runs,
      () => controller,
      traces,
      (dir, step) => inspector.openAt(dir, step),
    );
    if (controller) v.attachController(controller);
    return v;
  });
  // The sample inspector: a chart click, an alarm's action, Open Samples and the runs view open it.
  const inspector = new SampleInspectorProvider(
    context.extensionUri,
    (line) => log().warn(line),
    async () => {
      const view = await runsView;
      await view.reloadSources();
      return view.model
        .runs()
        .filter((r) => r.info.latestSamples)
        .sort((a, b) => b.info.updated - a.info.updated)
        .map((r) => ({ label: r.info.id, description: r.description, dir: r.info.dir }));
    },
    async (inputs, resource) => (await responseScoring()).whatIf(inputs, resource),
  );
  traces.samplesOpener = (runDir, step) => inspector.openAt(runDir, step);
  context.subscriptions.push(
    inspector,
    vscode.window.registerCustomEditorProvider(SAMPLE_INSPECTOR_VIEW_TYPE, inspector, {
      webviewOptions: { retainContextWhenHidden: true },
    }),
    traces.onSelectStep(({ runId, step }) => void traces.openSamplesAt(runId, step)),
    // Not in the palette: an alarm's notification action runs the same code.
    vscode.commands.registerCommand('factRlhf.showSamplesAtStep', (runId: string, step: number) => traces.openSamplesAt(runId, step)),
    vscode.commands.registerCommand('factRlhf.openRunTraces', async (arg?: vscode.Uri) => {
      const uri =
        arg instanceof vscode.Uri
          ? arg
          : (await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Open Run Traces' }))?.[0];
      if (!uri) return undefined;
      try {
        const runId = await traces.hub.open(uri.fsPath);
        void traces.reveal();
        return runId;
      } catch (err) {
        void vscode.window.showErrorMessage(`Fact-RLHF: cannot open ${uri.fsPath}: ${(err as Error).message}`);
        return undefined;
      }
    }),
  );
  // Score Response loads the scorer (and, on first use, its worker and model) only when run.
  let scoring: Promise<ResponseScoring> | undefined;
  const responseScoring = (): Promise<ResponseScoring> =>
    (scoring ??= import('./editor/scoreResponse').then((m) => {
      const s = new m.ResponseScoring(context, log, async () => {
        const view = await runsView;
        await view.reloadSources();
        return view.model.runs().map((r) => r.info);
      });
      context.subscriptions.push(s);
      return s;
    }));
  context.subscriptions.push(
    vscode.commands.registerCommand('factRlhf.scoreResponse', async (arg?: unknown) => (await responseScoring()).run(arg)),
  );
  if (hasRememberedLiveRuns(context)) void runs().then((c) => c.reattach());

  const clientStarted = new Promise<void>((resolve, reject) => {
    setImmediate(() => {
      import('./editor/languageClient')
        .then((m) => {
          client = m.createLanguageClient(context);
          return client.start();
        })
        .then(resolve, reject);
    });
  });
  clientStarted.catch((err: unknown) => void vscode.window.showErrorMessage(`Fact-RLHF language server did not start: ${String(err)}`));
  // The experiment form asks the language server through its typed custom requests.
  const form = registerExperimentForm(
    context,
    async () => {
      await clientStarted;
      const m = await import('./editor/languageClient');
      const c = client;
      if (!c) return undefined;
      return { validate: (uri, withFixes) => m.validateConfig(c, uri, withFixes), derived: (uri) => m.configDerived(c, uri) };
    },
    (line) => log().warn(line),
    runs,
  );

  return {
    startRun: async (stage, configUri) => {
      const handle = await (await runs()).start(stage, configUri);
      return { runId: handle.runId, runDir: handle.runDir };
    },
    waitForRun: async (runId, timeoutMs) => {
      const handle = (await runs()).manager.get(runId);
      if (!handle) throw new Error(`unknown run ${runId}`);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`run ${runId} still ${handle.status} after ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        return (await Promise.race([handle.done, timeout])).status;
      } finally {
        clearTimeout(timer);
      }
    },
    traceViewStats: () => traces.stats(),
    sampleInspectorStats: () => inspector.stats(),
    sampleInspectorRequest: (runDir, method, params) => inspector.request(runDir, method, params),
    postFromTraceView: (message) => traces.receiveFromView(message),
    runFolders: () => (controller?.runFolders() ?? []).map((u) => u.fsPath),
    alarmNotices: () => [...traces.alarmNotices],
    statusBarText: () => statusBar.text,
    languageClientReady: () => clientStarted,
    validateConfig: async (uri) => {
      await clientStarted;
      const { validateConfig } = await import('./editor/languageClient');
      if (!client) throw new Error('the language client is not running');
      return validateConfig(client, uri);
    },
    lastInterpreterNotice,
    experimentForm: form.testHooks,
    restrictedModeNotices,
    activationMs: performance.now() - started,
  };
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
