// Command-palette commands. Each resolves to a value tests can check; none is a silent no-op.
import * as vscode from 'vscode';
import type { Stage } from '../protocol';
import type { RunController } from './runController';
import type { RewardTraceViewProvider } from './webviews/rewardTraces';
import { InterpreterProblem, showInterpreterNotice } from './interpreterCheck';
import { launchAllowed } from './trust';
import { NEW_EXPERIMENT_COMMAND, newExperiment } from './newExperiment';
import { pickConfig } from './configPicker';

export interface StartedRun {
  runId: string;
  runDir: string;
}

/** Commands whose capability has not landed yet: they say so instead of doing nothing. */
const NOT_YET: Record<string, string> = {
  'factRlhf.openSamples': 'Open Samples',
  'factRlhf.scoreResponse': 'Score Response',
};

/** Commands that launch a trainer stage on a config. */
const STAGE_COMMANDS: Record<string, Stage> = {
  'factRlhf.startSft': 'sft',
  'factRlhf.trainRewardModel': 'rm',
  'factRlhf.startPpo': 'ppo',
  'factRlhf.evaluate': 'eval',
};

export function notAvailableMessage(title: string): string {
  return `Fact-RLHF: "${title}" is not available yet in this version. Use "Start PPO" on a *.rlhf.yaml config.`;
}

export function registerCommands(
  context: vscode.ExtensionContext,
  runs: () => Promise<RunController>,
  traces: RewardTraceViewProvider,
): void {
  const startStage = async (stage: Stage, arg?: vscode.Uri): Promise<StartedRun | undefined> => {
    if (!launchAllowed()) return undefined;
    const uri = arg instanceof vscode.Uri ? arg : await pickConfig(stage);
    if (!uri) return undefined;
    try {
      const handle = await (await runs()).start(stage, uri);
      void traces.reveal();
      return { runId: handle.runId, runDir: handle.runDir };
    } catch (err) {
      if (err instanceof InterpreterProblem) showInterpreterNotice(err.notice, uri);
      else void vscode.window.showErrorMessage(`Fact-RLHF: ${(err as Error).message}`);
      return undefined;
    }
  };

  context.subscriptions.push(
    ...Object.entries(STAGE_COMMANDS).map(([command, stage]) =>
      vscode.commands.registerCommand(command, (uri?: vscode.Uri) => startStage(stage, uri)),
    ),
    vscode.commands.registerCommand('factRlhf.stopRun', async () => {
      const controller = await runs();
      const result = await controller.stop();
      if (result) return result.status;
      const last = controller.lastRun;
      const message = `Fact-RLHF: nothing is running${last ? ` (the last run, ${last.runId}, ${last.status})` : ''}.`;
      void vscode.window.showInformationMessage(message);
      return message;
    }),
    vscode.commands.registerCommand('factRlhf.showRewardTraces', () => traces.reveal()),
    vscode.commands.registerCommand(NEW_EXPERIMENT_COMMAND, () => newExperiment(context.extensionUri)),
  );
  for (const [command, title] of Object.entries(NOT_YET)) {
    context.subscriptions.push(
      vscode.commands.registerCommand(command, () => {
        const message = notAvailableMessage(title);
        void vscode.window.showInformationMessage(message);
        return message;
      }),
    );
  }
}
