// "Fact-RLHF: Score Response": the selection scored by a reward model with its facts and without
// them, so a researcher sees directly how much the facts move the reward. Prompt, facts and image
// come from the sample record the selection lies in, else from input boxes (remembered); the model
// from factRlhf.rewardModel, else a finished rm run of the workspace (remembered). One scorer per
// model is kept (its worker holds the ONNX session) and disposed with the extension.
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { RunInfo } from '../runs/runCatalog';
import { resolvePython } from '../runs/pythonResolver';
import type { ExportProgress } from '../scoring/exportOnDemand';
import { RewardScorer, ScoringCancelled } from '../scoring/rewardScorer';
import { joinFacts, sampleRecordAt, selectedResponse, splitFacts } from '../scoring/responseInput';
import { ScorerPool } from '../scoring/scorerPool';
import {
  explainScoringFailure,
  inlineNote,
  rewardModelRuns,
  scoreDetails,
  scoreMessage,
  type ScoreInputs,
  type ScoreResponseFailure,
  type ScoreResponseResult,
} from '../viewModels/scoreSummary';
import { pythonFromExtension } from './pythonExtension';
import { modelLoadAllowed } from './trust';

export const SCORE_RESPONSE_COMMAND = 'factRlhf.scoreResponse';
const INPUTS_KEY = 'factRlhf.scoreResponse.lastInputs';
const MODEL_KEY = 'factRlhf.scoreResponse.rewardModel';
const DETAILS = 'Details';
const OTHER_MODEL = 'Other Reward Model…';
const OPEN_SETTING = 'Set factRlhf.rewardModel';

/** What the command may be given instead of asking (tests, and callers such as the sample inspector). */
export interface ScoreResponseArgs {
  prompt?: string;
  facts?: string[];
  image?: string;
  model?: string;
}

interface RememberedInputs {
  prompt: string;
  facts: string[];
  image?: string;
}

/** The command's argument: nothing, the editor's Uri (context menu), or ScoreResponseArgs, checked. */
export function parseScoreArgs(arg: unknown): ScoreResponseArgs | string {
  if (arg === undefined || arg === null || arg instanceof vscode.Uri) return {};
  if (typeof arg !== 'object' || Array.isArray(arg)) return `Score Response takes an options object, not ${typeof arg}`;
  const a = arg as Record<string, unknown>;
  for (const key of ['prompt', 'image', 'model'] as const) {
    if (a[key] !== undefined && typeof a[key] !== 'string') return `Score Response: \`${key}\` must be a string`;
  }
  if (a.facts !== undefined && !(Array.isArray(a.facts) && a.facts.every((f) => typeof f === 'string')))
    return 'Score Response: `facts` must be a list of strings';
  return { prompt: a.prompt as string, facts: a.facts as string[], image: a.image as string, model: a.model as string };
}

type ModelChoice = { path: string; from: 'argument' | 'setting' | 'remembered' | 'picked' };

/** Something the user must supply before anything can be scored (shown with `action`, if any). */
class MissingInput extends Error {
  constructor(
    message: string,
    readonly action?: string,
  ) {
    super(message);
  }
}

export class ResponseScoring implements vscode.Disposable {
  private readonly pool = new ScorerPool();
  private report: ((p: ExportProgress) => void) | undefined;
  private readonly decoration = vscode.window.createTextEditorDecorationType({
    after: { margin: '0 0 0 1.5em', color: new vscode.ThemeColor('editorCodeLens.foreground'), fontStyle: 'italic' },
  });
  private decorated: vscode.TextEditor | undefined;
  private readonly disposables: vscode.Disposable[] = [this.decoration];

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: () => vscode.LogOutputChannel,
    /** The runs the workspace knows (the runs view's catalog): finished rm runs are offered as models. */
    private readonly workspaceRuns: () => Promise<RunInfo[]>,
  ) {
    // A note about text that has changed no longer describes it.
    this.disposables.push(
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (this.decorated && e.document === this.decorated.document && e.contentChanges.length) this.clearNote();
      }),
    );
  }

  async run(arg?: unknown): Promise<ScoreResponseResult | ScoreResponseFailure | undefined> {
    const args = parseScoreArgs(arg);
    if (typeof args === 'string') return this.fail(args);
    if (!modelLoadAllowed()) return undefined;
    const editor = vscode.window.activeTextEditor;
    if (!editor) return this.fail('select the response to score in an editor first');
    try {
      const model = await this.chooseModel(editor.document.uri, args.model);
      if (!model) return undefined;
      const inputs = await this.inputsFrom(editor, args);
      if (!inputs) return undefined;
      return await this.score(model, inputs, editor);
    } catch (err) {
      if (err instanceof MissingInput) return this.fail(err.message, ...(err.action ? [err.action] : []));
      if (err instanceof ScoringCancelled) {
        void vscode.window.showInformationMessage(`Fact-RLHF: ${err.message}.`);
        return { error: err.message };
      }
      return this.fail(explainScoringFailure(err));
    }
  }

  /**
   * The sample inspector's what-if: scores an edited response with and without its record's facts,
   * with no notification or note (the inspector shows the numbers as you type). The model is chosen
   * as the command chooses it; a failure is thrown with the scorer's own message.
   */
  async whatIf(
    inputs: { prompt: string; response: string; facts: string[]; image: string },
    resource: vscode.Uri,
  ): Promise<{ withFacts: number; withoutFacts: number }> {
    if (!modelLoadAllowed()) throw new Error('Restricted Mode: trust this folder to score with a reward model');
    let model: ModelChoice | undefined;
    try {
      model = await this.chooseModel(resource);
    } catch (err) {
      throw new Error(err instanceof MissingInput ? err.message : explainScoringFailure(err));
    }
    if (!model) throw new Error('no reward model chosen');
    const scorer = await this.scorerFor(model.path, resource);
    try {
      const [scored] = await scorer.scoreRecords([inputs]);
      return { withFacts: scored.withFacts, withoutFacts: scored.withoutFacts };
    } catch (err) {
      throw new Error(explainScoringFailure(err));
    }
  }

  private fail(message: string, ...actions: string[]): ScoreResponseFailure {
    void vscode.window.showErrorMessage(`Fact-RLHF: Score Response: ${message}`, ...actions).then((pick) => {
      if (pick === OPEN_SETTING) void vscode.commands.executeCommand('workbench.action.openSettings', 'factRlhf.rewardModel');
    });
    return { error: message };
  }

  // ---- which reward model ----

  private inWorkspace(path: string, resource: vscode.Uri): string {
    if (isAbsolute(path)) return path;
    const folder = vscode.workspace.getWorkspaceFolder(resource) ?? vscode.workspace.workspaceFolders?.[0];
    return folder ? join(folder.uri.fsPath, path) : path;
  }

  private async chooseModel(resource: vscode.Uri, given?: string): Promise<ModelChoice | undefined> {
    if (given) return { path: this.inWorkspace(given, resource), from: 'argument' };
    const setting = vscode.workspace.getConfiguration('factRlhf', resource).get<string>('rewardModel')?.trim();
    if (setting) return { path: this.inWorkspace(setting, resource), from: 'setting' };
    const remembered = this.context.workspaceState.get<string>(MODEL_KEY);
    if (remembered && existsSync(remembered)) return { path: remembered, from: 'remembered' };
    return this.pickModel(false);
  }

  /** The workspace's finished rm runs: the only one is taken, several are offered (newest first). */
  private async pickModel(always: boolean): Promise<ModelChoice | undefined> {
    const runs = rewardModelRuns(await this.workspaceRuns());
    if (runs.length === 0) {
      throw new MissingInput(
        'no reward model: set factRlhf.rewardModel to an export folder (export-rm-onnx) or an rm run folder, or train one (Fact-RLHF: Train Reward Model) — no finished rm run with a checkpoint is under the workspace configs’ output folders',
        OPEN_SETTING,
      );
    }
    let chosen: RunInfo | undefined = runs.length === 1 && !always ? runs[0] : undefined;
    if (!chosen) {
      const last = this.context.workspaceState.get<string>(MODEL_KEY);
      const pick = await vscode.window.showQuickPick(
        runs.map((r) => ({
          label: r.id,
          description: `${r.checkpoint ?? ''}${r.started ? ` · ${new Date(r.started * 1000).toLocaleString()}` : ''}${r.dir === last ? ' · last used' : ''}`,
          detail: r.dir,
          run: r,
        })),
        {
          title: 'Fact-RLHF: Score Response',
          placeHolder: 'Reward model: a finished rm run (exported to <run>/onnx on first use)',
          matchOnDetail: true,
        },
      );
      chosen = pick?.run;
    }
    if (!chosen) return undefined;
    await this.context.workspaceState.update(MODEL_KEY, chosen.dir);
    return { path: chosen.dir, from: 'picked' };
  }

  // ---- what to score ----

  private async inputsFrom(editor: vscode.TextEditor, args: ScoreResponseArgs): Promise<ScoreInputs | undefined> {
    const { document: doc, selection } = editor;
    const record =
      doc.uri.scheme === 'file' && selection.isSingleLine
        ? sampleRecordAt(doc.uri.fsPath, doc.lineAt(selection.start.line).text, selection.start.line + 1)
        : undefined;
    const response = selectedResponse(doc.getText(selection), record);
    if (!response.trim()) throw new MissingInput('select the response to score first (the selection is empty)');
    if (record) {
      return {
        prompt: args.prompt ?? record.prompt,
        facts: args.facts ?? record.facts,
        image: args.image ? this.inWorkspace(args.image, doc.uri) : record.image,
        response,
        source: 'sample',
        sample: { file: doc.uri.fsPath, line: selection.start.line + 1, promptId: record.prompt_id, step: record.step },
      };
    }
    const last = this.context.workspaceState.get<RememberedInputs>(INPUTS_KEY);
    const prompt =
      args.prompt ??
      (await vscode.window.showInputBox({
        title: 'Fact-RLHF: Score Response (1/3)',
        prompt: 'The prompt (question about the image) the selected response answers',
        value: last?.prompt ?? '',
        ignoreFocusOut: true,
      }));
    if (prompt === undefined) return undefined;
    let facts = args.facts;
    if (!facts) {
      const typed = await vscode.window.showInputBox({
        title: 'Fact-RLHF: Score Response (2/3)',
        prompt: 'The facts the reward model is given (e.g. the image captions), separated by ";" — empty: none',
        value: joinFacts(last?.facts ?? []),
        ignoreFocusOut: true,
      });
      if (typed === undefined) return undefined;
      facts = splitFacts(typed);
    }
    const image = args.image ? this.inWorkspace(args.image, doc.uri) : await this.pickImage(last?.image);
    if (!image)
      throw new MissingInput('the reward model scores a response with its image (rm.json feeds pixel_values): choose a PNG image to score');
    await this.context.workspaceState.update(INPUTS_KEY, { prompt, facts, image } satisfies RememberedInputs);
    return { prompt, facts, image, response, source: 'input' };
  }

  private async pickImage(last?: string): Promise<string | undefined> {
    const picked = await vscode.window.showOpenDialog({
      title: 'Fact-RLHF: Score Response (3/3): the image the response is about',
      canSelectFiles: true,
      canSelectFolders: false,
      canSelectMany: false,
      filters: { 'PNG images': ['png'] },
      defaultUri: last ? vscode.Uri.file(last) : vscode.workspace.workspaceFolders?.[0]?.uri,
      openLabel: 'Score with This Image',
    });
    return picked?.[0]?.fsPath;
  }

  // ---- scoring and showing ----

  private async scorerFor(model: string, resource: vscode.Uri): Promise<RewardScorer> {
    const settings = vscode.workspace.getConfiguration('factRlhf', resource);
    const folder = vscode.workspace.getWorkspaceFolder(resource);
    // The same interpreter a launch would use: an rm run is exported by the trainer on first use.
    const python = resolvePython({
      configured: settings.get<string>('pythonPath'),
      fromPythonExtension: await pythonFromExtension(resource),
      venvRoots: [...(folder ? [folder.uri.fsPath] : []), this.context.extensionUri.fsPath],
    });
    return this.pool.get(
      model,
      (path) =>
        new RewardScorer({
          model: path,
          python: python.path,
          trainerRoot: vscode.Uri.joinPath(this.context.extensionUri, 'trainer').fsPath,
          log: (line) => this.log().info(line),
          onProgress: (p) => {
            if (p.phase !== 'checking' && p.phase !== 'current') this.log().info(p.message);
            this.report?.(p);
          },
        }),
    );
  }

  private async score(model: ModelChoice, inputs: ScoreInputs, editor: vscode.TextEditor): Promise<ScoreResponseResult> {
    const scorer = await this.scorerFor(model.path, editor.document.uri);
    const scores = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Fact-RLHF: Score Response', cancellable: true },
      async (progress, token) => {
        const controller = new AbortController();
        const cancel = token.onCancellationRequested(() => controller.abort());
        this.report = (p) => progress.report({ message: p.message.replace(/^\[fact-rlhf\] /, '') });
        progress.report({ message: scorer.loaded ? 'scoring with and without facts…' : `loading the reward model ${model.path}…` });
        try {
          const [scored] = await scorer.scoreRecords([inputs], { signal: controller.signal });
          return scored;
        } finally {
          cancel.dispose();
          this.report = undefined;
        }
      },
    );
    const result: ScoreResponseResult = {
      ...inputs,
      model: model.path,
      exportDir: scorer.loaded?.exportDir,
      provider: scorer.loaded?.provider,
      ...scores,
      message: scoreMessage({ ...scores, facts: inputs.facts }),
    };
    this.log().info(result.message.replace(/^Fact-RLHF: /, 'Score Response: '));
    this.showNote(editor, result);
    const actions = model.from === 'remembered' || model.from === 'picked' ? [DETAILS, OTHER_MODEL] : [DETAILS];
    void vscode.window
      .showInformationMessage(result.message, ...actions)
      .then(async (pick) => {
        if (pick === DETAILS) {
          for (const line of scoreDetails(result)) this.log().info(line);
          this.log().show(true);
        } else if (pick === OTHER_MODEL) {
          const other = await this.pickModel(true);
          if (other) await this.score(other, inputs, editor);
        }
      })
      .then(undefined, (err: unknown) => {
        if (!(err instanceof ScoringCancelled)) this.fail(explainScoringFailure(err instanceof MissingInput ? err.message : err));
      });
    return result;
  }

  /** The numbers after the selection, with the details on hover, until the text changes. */
  private showNote(editor: vscode.TextEditor, r: ScoreResponseResult): void {
    this.clearNote();
    const { selection, document } = editor;
    // A selection that ends at the start of a line (whole lines selected) is noted on its last line.
    const end =
      !selection.isEmpty && selection.end.character === 0 && selection.end.line > selection.start.line
        ? document.lineAt(selection.end.line - 1).range.end
        : document.lineAt(selection.end.line).range.end;
    const hover = new vscode.MarkdownString();
    hover.appendMarkdown('**Fact-RLHF: Score Response**\n\n');
    hover.appendCodeblock(scoreDetails(r).join('\n'), 'text');
    editor.setDecorations(this.decoration, [
      { range: new vscode.Range(end, end), hoverMessage: hover, renderOptions: { after: { contentText: inlineNote({ ...r }) } } },
    ]);
    this.decorated = editor;
  }

  private clearNote(): void {
    this.decorated?.setDecorations(this.decoration, []);
    this.decorated = undefined;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    void this.pool.dispose();
  }
}
