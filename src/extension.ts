// Wires the parts together; the parts live in views/, runs/ and language-server/.
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { RewardTraceViewProvider, REWARD_TRACES_VIEW_ID, type TraceViewStats } from './views/rewardTraceView';
import { RunStatusBar } from './views/statusBar';
import { RunController } from './views/runController';
import { registerCommands } from './views/commands';
import { createLanguageClient } from './views/languageClient';

/** Returned from activate(): used by the editor tests and other extensions. */
export interface FactRlhfApi {
  startRun(stage: 'ppo', configUri: vscode.Uri): Promise<{ runId: string; runDir: string }>;
  waitForRun(runId: string, timeoutMs: number): Promise<'finished' | 'failed' | 'stopped'>;
  traceViewStats(): TraceViewStats;
  languageClientReady(): Promise<void>;
}

let client: LanguageClient | undefined;

export function activate(context: vscode.ExtensionContext): FactRlhfApi {
  const settings = vscode.workspace.getConfiguration('factRlhf');
  const statusBar = new RunStatusBar();
  // The view asks for run folders only when it resolves, after `controller` exists.
  const traces: RewardTraceViewProvider = new RewardTraceViewProvider(
    context.extensionUri,
    settings.get<number>('traces.maxUpdatesPerSecond', 4),
    (): vscode.Uri[] => controller.runFolders(),
  );
  const controller: RunController = new RunController(context, traces, statusBar);
  context.subscriptions.push(
    statusBar,
    traces,
    controller,
    vscode.window.registerWebviewViewProvider(REWARD_TRACES_VIEW_ID, traces, { webviewOptions: { retainContextWhenHidden: true } }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('factRlhf.traces.maxUpdatesPerSecond')) {
        traces.hub.setMaxUpdatesPerSecond(vscode.workspace.getConfiguration('factRlhf').get<number>('traces.maxUpdatesPerSecond', 4));
      }
    }),
  );
  registerCommands(context, controller, traces);
  // Until the sample inspector lands, a click on a chart point opens that step's sample records.
  context.subscriptions.push(
    traces.onSelectStep(async ({ runId, step }) => {
      const file = traces.hub.sampleFileNear(runId, step);
      if (!file) {
        void vscode.window.showInformationMessage(`Fact-RLHF: run ${runId} has no sample records yet.`);
        return;
      }
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file.path));
      await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Active });
    }),
  );

  client = createLanguageClient(context);
  const clientStarted = client.start();
  void controller.reattach();

  return {
    startRun: async (stage, configUri) => {
      const handle = await controller.start(stage, configUri);
      return { runId: handle.runId, runDir: handle.runDir };
    },
    waitForRun: async (runId, timeoutMs) => {
      const handle = controller.manager.get(runId);
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
    languageClientReady: () => clientStarted,
  };
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
