// Which config a launch command runs: the active editor's, else one picked from the workspace —
// for SFT and RM only the configs that can run the stage (resolved by the config engine).
import * as vscode from 'vscode';
import type { Stage } from '../protocol';

/** Stages whose picker is filtered; PPO and Evaluate list every config as before. */
const FILTERED: ReadonlySet<Stage> = new Set<Stage>(['sft', 'rm']);
const STAGE_WORDS: Partial<Record<Stage, string>> = { sft: 'SFT', rm: 'reward-model training' };

function configFromActiveEditor(): vscode.Uri | undefined {
  const doc = vscode.window.activeTextEditor?.document;
  return doc && /\.rlhf\.ya?ml$/.test(doc.uri.path) ? doc.uri : undefined;
}

/** The workspace configs a picker for `stage` offers (exported for the editor tests). */
export async function configsToOffer(stage: Stage): Promise<vscode.Uri[]> {
  const found = await vscode.workspace.findFiles('**/*.rlhf.yaml', '{**/node_modules/**,**/runs/**}', 200);
  if (!FILTERED.has(stage)) return found.slice(0, 50);
  // Loaded on first use: the engine (yaml, schema) stays out of activation.
  const { configsForStage } = await import('../../language-server/src/engine');
  const onDisk = found.filter((u) => u.scheme === 'file');
  const keep = new Set(
    configsForStage(
      onDisk.map((u) => u.fsPath),
      stage as 'sft' | 'rm',
    ),
  );
  return onDisk.filter((u) => keep.has(u.fsPath)).slice(0, 50);
}

export async function pickConfig(stage: Stage): Promise<vscode.Uri | undefined> {
  const active = configFromActiveEditor();
  if (active) return active;
  const offered = await configsToOffer(stage);
  if (offered.length === 0) {
    const why = FILTERED.has(stage)
      ? ` that can run ${STAGE_WORDS[stage]} (a \`${stage === 'sft' ? 'sft' : 'reward_model'}:\` section and its data)`
      : '';
    void vscode.window.showWarningMessage(`Fact-RLHF: open a *.rlhf.yaml experiment config${why} first.`);
    return undefined;
  }
  if (offered.length === 1) return offered[0];
  const pick = await vscode.window.showQuickPick(
    offered.map((u) => ({ label: vscode.workspace.asRelativePath(u), uri: u })),
    { placeHolder: `Experiment config to run${FILTERED.has(stage) ? ` (configs that can run ${STAGE_WORDS[stage]})` : ''}` },
  );
  return pick?.uri;
}
