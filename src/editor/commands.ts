// Command-palette commands. Each resolves to a value tests can check; none is a silent no-op.
import * as vscode from 'vscode';
import type { Stage } from '../protocol';
import type { RunController } from './runController';
import type { RewardTraceViewProvider } from './webviews/rewardTraces';
import { InterpreterProblem, showInterpreterNotice } from './interpreterCheck';
import { launchAllowed } from './trust';
import {
  NEW_EXPERIMENT_COMMAND,
  NEW_EXPERIMENT_FROM_PRESET_COMMAND,
  newExperiment,
  newExperimentFromPreset,
  type NewExperimentArgs,
} from './newExperiment';
import { pickConfig } from './configPicker';
import type { EvalChoice } from '../runs/evalTarget';

export interface StartedRun {
  runId: string;
  runDir: string;
}

/** Commands that launch a training stage on a config (Evaluate, below, first decides what it evaluates). */
const STAGE_COMMANDS: Record<string, Stage> = {
  'factRlhf.startSft': 'sft',
  'factRlhf.trainRewardModel': 'rm',
  'factRlhf.startPpo': 'ppo',
};

/** What Evaluate may be told beyond the config (tests and the picker pass these). */
export interface EvaluateOptions {
  checkpoint?: string;
  allowRandom?: boolean;
}

const CHOOSE = 'Choose Checkpoint…';
const RANDOM = 'Evaluate Random Model';

export function registerCommands(
  context: vscode.ExtensionContext,
  runs: () => Promise<RunController>,
  traces: RewardTraceViewProvider,
): void {
  const startStage = async (stage: Stage, arg?: vscode.Uri, evalOptions?: EvaluateOptions): Promise<StartedRun | undefined> => {
    if (!launchAllowed()) return undefined;
    const uri = arg instanceof vscode.Uri ? arg : await pickConfig(stage);
    if (!uri) return undefined;
    try {
      const controller = await runs();
      let choice: EvalChoice | undefined;
      if (stage === 'eval') {
        const decided = controller.evalChoice(uri, evalOptions);
        if ('refused' in decided) {
          // Nothing trained to evaluate: say so and offer the ways on, instead of scoring a random model.
          const pick = await vscode.window.showErrorMessage(`Fact-RLHF: Evaluate: ${decided.refused}`, CHOOSE, RANDOM);
          if (pick === CHOOSE) return await pickAndEvaluate(uri);
          if (pick === RANDOM) return await startStage('eval', uri, { ...evalOptions, allowRandom: true });
          return undefined;
        }
        choice = decided;
      }
      const handle = await controller.start(stage, uri, { evalChoice: choice });
      void traces.reveal();
      return { runId: handle.runId, runDir: handle.runDir };
    } catch (err) {
      if (err instanceof InterpreterProblem) showInterpreterNotice(err.notice, uri);
      else void vscode.window.showErrorMessage(`Fact-RLHF: ${(err as Error).message}`);
      return undefined;
    }
  };

  /** A QuickPick over the finished runs with checkpoints, newest first, the default marked. */
  const pickAndEvaluate = async (arg?: vscode.Uri): Promise<StartedRun | undefined> => {
    // Before the picker: in Restricted Mode "no finished run, train one first" would mislead.
    if (!launchAllowed()) return undefined;
    const uri = arg instanceof vscode.Uri ? arg : await pickConfig('eval');
    if (!uri) return undefined;
    const controller = await runs();
    const found = controller.evaluableRuns(uri);
    if (found.length === 0) {
      void vscode.window.showWarningMessage(
        `Fact-RLHF: no finished ppo, rl_init or sft run with a checkpoint under ${controller.outputFolder(uri)}. Train one first.`,
      );
      return undefined;
    }
    const fallback = controller.defaultEvaluable(found);
    const pick = await vscode.window.showQuickPick(
      found.map((r) => ({
        label: `${r.configName} · ${r.stage} · ${r.checkpoint}`,
        description: `${new Date(r.started * 1000).toLocaleString()}${r === fallback ? ' · default' : ''}`,
        detail: r.runDir,
        run: r,
      })),
      { placeHolder: 'Checkpoint to evaluate (finished runs, newest first)', matchOnDetail: true },
    );
    return pick ? startStage('eval', uri, { checkpoint: pick.run.runDir }) : undefined;
  };

  context.subscriptions.push(
    ...Object.entries(STAGE_COMMANDS).map(([command, stage]) =>
      vscode.commands.registerCommand(command, (uri?: vscode.Uri) => startStage(stage, uri)),
    ),
    vscode.commands.registerCommand('factRlhf.evaluate', (uri?: vscode.Uri, options?: EvaluateOptions) => startStage('eval', uri, options)),
    vscode.commands.registerCommand('factRlhf.evaluateCheckpoint', (uri?: vscode.Uri) => pickAndEvaluate(uri)),
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
    vscode.commands.registerCommand(NEW_EXPERIMENT_FROM_PRESET_COMMAND, async (args?: NewExperimentArgs) => {
      try {
        return await newExperimentFromPreset(context, args);
      } catch (err) {
        void vscode.window.showErrorMessage(`Fact-RLHF: New Experiment: ${(err as Error).message}`);
        return undefined;
      }
    }),
  );
}
