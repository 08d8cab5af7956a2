// One open experiment form: the webview over one TextDocument. The document stays the one source
// of truth (undo, redo, dirty state, save and hot exit are VS Code's own): a field change becomes
// the minimal WorkspaceEdit of editField, and every change of the text, from the form or typed,
// is read back into the form — values at once, then the language server's diagnostics and
// derived figures for that version. The pipeline strip and the launch panel are FormLaunch's
// (src/viewModels/formLaunch.ts); this session hands it the run controller (so a launch from the
// form is a run like any other: runs view, status bar, traces), Workspace Trust and the language
// server's diagnostics, and refreshes the strip when the runs change.
import { basename, dirname } from 'node:path';
import * as vscode from 'vscode';
import type { ReplyMessage } from '../protocol/ipc';
import type { DerivedResult, ValidateResult, ValidationDiagnostic, ValidationEdit } from '../protocol/lsp';
import {
  experimentFormContract,
  type ExperimentFormContract,
  type FormRenderedMessage,
  type HostToFormView,
} from '../protocol/webviews/experimentForm';
import { ConfigEditError, editField, type TextChange } from '../viewModels/configEdit';
import experimentSchema from '../../schema/experiment.schema.json';
import { fieldIndex, formDiagnostics, formSections, formValues, groupIds, type SchemaNode } from '../viewModels/experimentForm';
import type { Stage } from '../protocol';
import { configOutputDir } from '../runs/configRuns';
import { NO_GPU_LABEL, listGpus, type GpuReport } from '../runs/gpus';
import { submitSlurm } from '../runs/slurmSubmit';
import { FormLaunch, type LaunchEnvironment } from '../viewModels/formLaunch';
import type { RunController } from './runController';
import { launchAllowed } from './trust';
import { HostChannel } from './webviews/channel';
import { attachWebview } from './webviews/webviewHost';

/** What the form needs from the language server (the typed custom requests). */
export interface FormLanguage {
  validate(uri: vscode.Uri, withFixes: boolean): Promise<ValidateResult>;
  derived(uri: vscode.Uri): Promise<DerivedResult>;
}

// The schema's fields are the same for every form: built once.
const SECTIONS = formSections(experimentSchema as SchemaNode);
const FIELDS = fieldIndex(SECTIONS);
const GROUPS = groupIds(SECTIONS);
/** Typing in the text editor: diagnostics follow once it pauses this long; a form edit asks at once. */
const TEXT_SETTLE_MS = 60;
/** Run folders change with every event line: the strip is read again at most this often. */
const PIPELINE_SETTLE_MS = 300;

export class FormSession implements vscode.Disposable {
  readonly channel: HostChannel<ExperimentFormContract>;
  /** Everything posted to the view, replies included (the editor tests read it). */
  readonly sent: Array<HostToFormView | ReplyMessage> = [];
  /** What the view reported drawing (its `rendered` commands), for the editor tests. */
  readonly rendered: FormRenderedMessage[] = [];
  private diagnostics: ValidationDiagnostic[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private pipelineTimer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;
  readonly launches: FormLaunch;
  private gpuReport: Promise<GpuReport> | undefined;
  private outputWatcher: { dir: string; disposables: vscode.Disposable[] } | undefined;

  constructor(
    readonly document: vscode.TextDocument,
    panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly language: () => Promise<FormLanguage | undefined>,
    private readonly log: (line: string) => void,
    private readonly runs: () => Promise<RunController>,
  ) {
    this.launches = new FormLaunch({
      configPath: document.uri.fsPath,
      post: (m) => this.channel.notify(m),
      diagnostics: () => this.diagnostics,
      checkNow: () => this.checkNow(),
      trusted: () => vscode.workspace.isTrusted,
      // Restricted Mode runs no program on the workspace's behalf, nvidia-smi included.
      gpus: () =>
        vscode.workspace.isTrusted
          ? (this.gpuReport ??= listGpus())
          : Promise.resolve({
              kind: 'none',
              label: NO_GPU_LABEL,
              detail: 'Restricted Mode: GPUs are not probed in an untrusted workspace',
            }),
      environment: (stage) => this.environment(stage),
      start: async (opts) => {
        const controller = await this.runs();
        const handle = await controller.start(opts.stage, vscode.Uri.file(opts.configPath), {
          runDir: opts.runDir,
          torchrunProcesses: opts.torchrunProcesses,
          env: opts.env,
          evalChoice:
            opts.stage === 'eval' ? { checkpoint: opts.evalCheckpoint, allowRandom: opts.allowRandom ?? false, note: '' } : undefined,
        });
        return {
          runId: handle.runId,
          runDir: handle.runDir,
          done: handle.done.then((r) => ({ status: r.status, runDir: r.runDir, error: r.error })),
        };
      },
      submitSlurm: (job) => submitSlurm(job),
      beforeLaunch: async () => !this.document.isDirty || (await this.document.save()),
      log,
    });
    this.channel = new HostChannel({
      contract: experimentFormContract,
      post: (m) => {
        this.sent.push(m);
        return panel.webview.postMessage(m);
      },
      // `ready` is answered with everything: nothing to queue before it.
      beforeReady: 'drop',
      onReady: () => this.sendAll(),
      commands: {
        reveal: (m) => void this.reveal(m.file, m.line, m.column),
        openAsText: () => void vscode.commands.executeCommand('vscode.openWith', document.uri, 'default'),
        launch: (m) => this.guarded(() => this.launches.launch(m)),
        runStage: (m) => this.guarded(() => this.launches.runStage(m.stage)),
        runFromHere: (m) => this.guarded(() => this.launches.runFromHere(m.stage)),
        rendered: (m) => {
          this.rendered.push(m);
          if (this.rendered.length > 200) this.rendered.splice(0, 100);
        },
      },
      requests: {
        edit: async (p) => {
          const field = FIELDS.get(p.field);
          if (!field) return { applied: false, error: `unknown field ${p.field}` };
          if (p.op === 'set' && p.value === undefined) return { applied: false, error: `no value for ${p.field}` };
          let changes: TextChange[];
          try {
            changes = editField(document.getText(), field.path, p.op === 'reset' ? undefined : p.value);
          } catch (err) {
            if (err instanceof ConfigEditError) return { applied: false, error: err.message };
            throw err;
          }
          if (changes.length === 0) return { applied: true };
          const edit = new vscode.WorkspaceEdit();
          for (const c of changes) {
            edit.replace(
              document.uri,
              new vscode.Range(document.positionAt(c.offset), document.positionAt(c.offset + c.length)),
              c.newText,
            );
          }
          const applied = await vscode.workspace.applyEdit(edit);
          return applied ? { applied } : { applied, error: 'VS Code did not apply the edit (is the file read-only?)' };
        },
        planLaunch: (p) => this.launches.plan(p),
        applyFix: async (p) => {
          const fix = this.diagnostics[p.diagnostic]?.fixes?.[p.fix];
          if (!fix) return { applied: false, error: 'that fix is gone: the diagnostics have changed since' };
          const edit = new vscode.WorkspaceEdit();
          const uri = vscode.Uri.file(fix.file);
          for (const e of fix.edits) edit.replace(uri, rangeOf(e), e.newText);
          return { applied: await vscode.workspace.applyEdit(edit) };
        },
      },
      log,
    });
    this.disposables.push(
      attachWebview(panel.webview, this.channel, { extensionUri, app: 'experiment-form', title: `Experiment: ${baseName(document.uri)}` }),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document === document && e.contentChanges.length > 0) this.textChanged();
      }),
      panel.onDidDispose(() => this.dispose()),
      vscode.workspace.onDidSaveTextDocument((d) => {
        if (d === document) this.schedulePipeline(); // output_dir or name may have changed
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.sendAll()),
    );
    void this.runs().then((c) => {
      if (!this.disposed) this.disposables.push(c.onDidChangeRuns(() => this.schedulePipeline()));
    });
  }

  /** An untrusted workspace also gets VS Code's own explanation with the way out (the form shows the reason too). */
  private guarded(action: () => Promise<unknown>): void {
    if (!vscode.workspace.isTrusted) launchAllowed();
    action().catch((e: unknown) => this.log(`experiment form: launch failed: ${(e as Error).message}`));
  }

  private async environment(stage: Stage): Promise<LaunchEnvironment> {
    const controller = await this.runs();
    const env: LaunchEnvironment = await controller.launchEnvironment(this.document.uri);
    if (stage !== 'eval') return env;
    const choice = controller.evalChoice(this.document.uri);
    if ('refused' in choice) throw new Error(choice.refused);
    return { ...env, evalCheckpoint: choice.checkpoint, allowRandom: choice.allowRandom };
  }

  /** Watches the config's output folder (from its parent: it may not exist before the first run). */
  private watchOutput(): void {
    let dir: string;
    try {
      dir = configOutputDir(this.document.uri.fsPath);
    } catch {
      return; // an unreadable config: the strip says so when it is read
    }
    if (this.outputWatcher?.dir === dir) return;
    for (const d of this.outputWatcher?.disposables.splice(0) ?? []) d.dispose();
    const w = vscode.workspace.createFileSystemWatcher(
      new vscode.RelativePattern(vscode.Uri.file(dirname(dir)), `${basename(dir)}/*/{run.json,events.jsonl,checkpoints/latest}`),
    );
    const on = (): void => this.schedulePipeline();
    this.outputWatcher = { dir, disposables: [w, w.onDidCreate(on), w.onDidChange(on), w.onDidDelete(on)] };
  }

  private schedulePipeline(): void {
    if (this.disposed || this.pipelineTimer) return;
    this.pipelineTimer = setTimeout(() => {
      this.pipelineTimer = undefined;
      if (this.disposed) return;
      this.watchOutput();
      this.launches.refreshPipeline();
    }, PIPELINE_SETTLE_MS);
  }

  private sendAll(): void {
    this.channel.notify({ type: 'init', fileName: baseName(this.document.uri), sections: SECTIONS, readOnly: false });
    this.sendValues();
    void this.sendLanguage();
    this.watchOutput();
    this.launches.refreshPipeline();
    void this.launches.sendGpus();
  }

  private textChanged(): void {
    this.sendValues();
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.sendLanguage(), TEXT_SETTLE_MS);
  }

  private sendValues(): void {
    const { values, parseError } = formValues(FIELDS, this.document.getText(), this.document.uri.fsPath);
    this.channel.notify({ type: 'values', version: this.document.version, values, parseError });
  }

  /** The language server's check of the document as it is now (asked at launch, after the save). */
  private async checkNow(): Promise<{ diagnostics: ValidationDiagnostic[] } | { refused: string }> {
    const language = await this.language();
    if (!language) return { refused: 'the language server is not running, so the config has not been checked' };
    const version = this.document.version;
    const result = await language.validate(this.document.uri, false);
    if (result.incomplete) return { refused: `the config could not be checked: ${result.incomplete}` };
    if (this.document.version !== version || (result.version !== undefined && result.version !== version))
      return { refused: 'the config changed while it was being checked: launch again' };
    return { diagnostics: result.diagnostics };
  }

  /** Diagnostics and derived figures of the current version; a reply for an older version is dropped. */
  private async sendLanguage(): Promise<void> {
    this.timer = undefined;
    const version = this.document.version;
    const language = await this.language();
    if (!language || this.disposed) return;
    try {
      const [validation, derived] = await Promise.all([language.validate(this.document.uri, true), language.derived(this.document.uri)]);
      if (this.disposed || this.document.version !== version) return;
      this.diagnostics = validation.diagnostics;
      this.channel.notify({
        type: 'diagnostics',
        version,
        items: formDiagnostics(validation.diagnostics, FIELDS, GROUPS, this.document.uri.fsPath),
      });
      this.channel.notify({
        type: 'derived',
        version,
        figures: derived.figures.map((f) => ({ field: f.path.join('.'), label: f.label, detail: f.detail })),
        memory: derived.memory
          ? {
              totalGiB: derived.memory.totalBytes / 1024 ** 3,
              terms: derived.memory.terms.map((t) => ({ label: t.label, gib: t.bytes / 1024 ** 3 })),
            }
          : undefined,
        verdict: derived.verdict,
        summary: derived.summary,
      });
    } catch (err) {
      this.log(`experiment form: the language server did not answer for ${this.document.uri.fsPath}: ${(err as Error).message}`);
    }
  }

  private async reveal(file: string, line: number, column: number): Promise<void> {
    const uri = file === this.document.uri.fsPath ? this.document.uri : vscode.Uri.file(file);
    const doc = await vscode.workspace.openTextDocument(uri);
    const at = new vscode.Position(Math.max(0, line - 1), Math.max(0, column - 1));
    // Beside the form, so the form stays open.
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, selection: new vscode.Range(at, at) });
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.pipelineTimer) clearTimeout(this.pipelineTimer);
    for (const d of [...this.disposables.splice(0), ...(this.outputWatcher?.disposables.splice(0) ?? [])]) d.dispose();
  }
}

function rangeOf(e: ValidationEdit): vscode.Range {
  return new vscode.Range(e.line - 1, e.column - 1, e.endLine - 1, e.endColumn - 1);
}

function baseName(uri: vscode.Uri): string {
  return uri.path.slice(uri.path.lastIndexOf('/') + 1);
}
