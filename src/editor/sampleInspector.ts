// The sample inspector: a read-only custom editor over a run's samples/ (and the peer trainers' sample
// files). Opening `samples/step-N.jsonl` opens the whole folder at step N, so the scrubber covers the
// run; a chart click, an alarm, "Open Samples" and the runs view all come through `openAt`, which
// reuses the run's open inspector (it jumps to the step) instead of opening a second one.
// The VS Code-free logic is SampleInspectorSession (viewModels); the source is src/runs/samples.
import * as vscode from 'vscode';
import { basename, dirname, join } from 'node:path';
import { inlineImage, inspectorTarget, isInside, runDirOf, stepFileNear } from '../runs/samples/locate';
import { sampleInspectorContract, type SampleInspectorContract } from '../protocol/webviews/sampleInspector';
import type { InspectorRecord, InspectorRenderedMessage, ScoreResult } from '../protocol/webviews/sampleInspector';
import type { MethodOf, ParamsOf, ResultOf } from '../protocol/ipc';
import { TERMINAL_STATUSES } from '../protocol';
import { readManifest, SAMPLES_DIR } from '../runs/runDirectory';
import type { SampleSource } from '../runs/samples/types';
import { LabelStore } from '../runs/labels/labelStore';
import { SampleInspectorSession } from '../viewModels/sampleInspectorSession';
import { HostChannel } from './webviews/channel';
import { attachWebview } from './webviews/webviewHost';

export const SAMPLE_INSPECTOR_VIEW_TYPE = 'factRlhf.sampleInspector';

class SampleDocument implements vscode.CustomDocument {
  constructor(
    readonly uri: vscode.Uri,
    readonly source: SampleSource,
    readonly target: { path: string; step: number | null },
    /** Fires when the source's background pass finished (caption types and corrupt counts complete). */
    readonly scanned: vscode.EventEmitter<void>,
  ) {}
  dispose(): void {
    this.source.close();
    this.scanned.dispose();
  }
}

interface OpenInspector {
  document: SampleDocument;
  panel: vscode.WebviewPanel;
  channel: HostChannel<SampleInspectorContract>;
  session: SampleInspectorSession;
  lastRendered?: InspectorRenderedMessage;
}

export interface SampleInspectorStats {
  open: { path: string; runDir: string | null; rendered?: InspectorRenderedMessage; dropped: number }[];
}

export class SampleInspectorProvider implements vscode.CustomReadonlyEditorProvider<SampleDocument>, vscode.Disposable {
  private readonly open = new Set<OpenInspector>();
  /** Steps asked for by openAt, picked up when its document opens. */
  private readonly pendingStep = new Map<string, number>();
  private readonly renderedEmitter = new vscode.EventEmitter<InspectorRenderedMessage>();
  /** Fires on every `rendered` of any inspector (editor tests wait on it). */
  readonly onRendered = this.renderedEmitter.event;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: (line: string) => void,
    /** The workspace's runs that wrote samples (the runs view's catalog), newest first. */
    private readonly runsWithSamples: () => Promise<{ label: string; description: string; dir: string }[]>,
    /** Score Response's what-if (loaded on first use): an edited response with and without its facts. */
    private readonly whatIf: (
      inputs: { prompt: string; response: string; facts: string[]; image: string },
      resource: vscode.Uri,
    ) => Promise<ScoreResult>,
  ) {}

  async openCustomDocument(uri: vscode.Uri): Promise<SampleDocument> {
    const target = inspectorTarget(uri.fsPath);
    const pending = this.pendingStep.get(uri.fsPath);
    this.pendingStep.delete(uri.fsPath);
    if (pending !== undefined) target.step = pending;
    const { openSampleSource } = await import('../runs/samples');
    try {
      const scanned = new vscode.EventEmitter<void>();
      // Parsed in the background after the first screen: the filters' caption types then fill in.
      const source = await openSampleSource(target.path, { backgroundScan: true, onChange: () => scanned.fire() });
      return new SampleDocument(uri, source, target, scanned);
    } catch (err) {
      const message = `Fact-RLHF: cannot open the samples in ${uri.fsPath}: ${(err as Error).message}`;
      void vscode.window.showErrorMessage(message);
      throw new Error(message);
    }
  }

  resolveCustomEditor(document: SampleDocument, panel: vscode.WebviewPanel): void {
    const info = document.source.info();
    const runDir = info.runDir ?? runDirOf(info.path);
    const root = vscode.Uri.file(runDir ?? (info.path === document.target.path ? info.path : dirname(info.path)));
    const roots = [root];
    const channel: HostChannel<SampleInspectorContract> = new HostChannel({
      contract: sampleInspectorContract,
      post: (m) => panel.webview.postMessage(m),
      beforeReady: 'drop', // the summary that answers `ready` carries the state
      // A (re)loaded page knows nothing: the summary, the labels so far and the compared run, again.
      onReady: () => {
        channel.notify({ type: 'summary', summary: session.summary() });
        session.resendLabels();
        if (entry.compare) channel.notify({ type: 'compareRun', title: entry.compare.title });
      },
      commands: {
        rendered: (m) => {
          entry.lastRendered = m;
          this.renderedEmitter.fire(m);
        },
        pickCompareRun: () =>
          void this.pickCompare(entry, roots).catch((e: unknown) => this.log(`sample inspector: compare: ${(e as Error).message}`)),
      },
      requests: {
        query: (p) => session.handlers.query(p),
        timeline: (p) => session.handlers.timeline(p),
        compare: (p) => session.handlers.compare(p),
        labelSpans: (p) => session.handlers.labelSpans(p),
        labelPreference: (p) => session.handlers.labelPreference(p),
        exportPreferences: async (p) => {
          const result = await session.handlers.exportPreferences(p);
          void this.exported(result.path, result.pairs, runDir);
          return result;
        },
        score: (p) => session.handlers.score(p),
      },
      log: this.log,
    });
    const session = new SampleInspectorSession({
      source: document.source,
      initialStep: document.target.step,
      live: () => isLive(runDir),
      imageUri: (path) => {
        const uri = vscode.Uri.file(path);
        // Only what the page may load: anything else would be a broken image, so say "no image".
        if (roots.some((r) => isInside(r.fsPath, uri.fsPath))) return panel.webview.asWebviewUri(uri).toString();
        // Outside the run (a recipe's image_folder elsewhere): the image itself, inlined, if it is one.
        return inlineImage(path);
      },
      compare: () => entry.compare,
      // No model is loaded in Restricted Mode: the view then offers no what-if.
      score: vscode.workspace.isTrusted ? (record, response) => this.scoreEdited(record, response, document.uri) : undefined,
      // Labels live in the run folder (labels/); a loose file has nowhere to keep them.
      labels: runDir ? new LabelStore(runDir) : undefined,
      onLabelsChanged: (labels) => channel.notify({ type: 'labels', labels }),
    });
    const entry: OpenInspector & { compare?: { source: SampleSource; title: string } } = { document, panel, channel, session };
    this.open.add(entry);
    panel.title = `Samples · ${info.title}`;
    const disposables: vscode.Disposable[] = [
      attachWebview(panel.webview, channel, {
        extensionUri: this.extensionUri,
        app: 'sample-inspector',
        title: 'Samples',
        extraRoots: roots,
      }),
    ];
    // A live run appends lines and step files: re-read, then tell the view (a few times a second at most).
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(info.path), '**'));
    let timer: NodeJS.Timeout | undefined;
    let refreshing = false;
    const changed = (): void => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        // One refresh at a time: two overlapping re-reads of a file would index its new lines twice.
        if (refreshing) {
          changed();
          return;
        }
        refreshing = true;
        void document.source
          .refresh()
          .then((grew) => {
            if (grew) channel.notify({ type: 'summary', summary: session.summary(null) });
          })
          .catch((e: unknown) => this.log(`sample inspector: re-reading ${info.path}: ${(e as Error).message}`))
          .finally(() => {
            refreshing = false;
          });
      }, 250);
    };
    disposables.push(
      watcher,
      watcher.onDidChange(changed),
      watcher.onDidCreate(changed),
      document.scanned.event(() => channel.notify({ type: 'summary', summary: session.summary(null) })),
    );
    panel.onDidDispose(() => {
      if (timer) clearTimeout(timer);
      entry.compare?.source.close();
      this.open.delete(entry);
      for (const d of disposables) d.dispose();
    });
  }

  private scoreEdited(record: InspectorRecord, response: string, resource: vscode.Uri): Promise<ScoreResult> {
    if (record.image === null) throw new Error('this record names no image, and the reward model reads one');
    if (record.prompt === null) throw new Error('this record has no prompt to score the response against');
    return this.whatIf({ prompt: record.prompt, response, facts: record.facts ?? [], image: record.image }, resource);
  }

  /** Says where the preference file went and how the next reward model trains on it. */
  private async exported(path: string | null, pairs: number, runDir: string | null): Promise<void> {
    if (!path) {
      void vscode.window.showInformationMessage('Fact-RLHF: no preference pair is labelled yet: nothing to export.');
      return;
    }
    const open = 'Open File';
    const pick = await vscode.window.showInformationMessage(
      `Fact-RLHF: ${pairs} preference pair${pairs === 1 ? '' : 's'} exported to ${vscode.workspace.asRelativePath(path)}. ` +
        `Train the next reward model on them with data.preference: ${path}, data.facts: the facts.json beside it, data.image_folder: ${runDir ?? dirname(path)}.`,
      open,
    );
    if (pick === open) await vscode.window.showTextDocument(vscode.Uri.file(path));
  }

  /** Opens the run's samples at (the step nearest) `step`: its open inspector if there is one. */
  async openAt(runDir: string, step: number | null): Promise<string | undefined> {
    for (const e of this.open) {
      const info = e.document.source.info();
      if (info.runDir === runDir || runDirOf(info.path) === runDir) {
        e.panel.reveal();
        if (step !== null) e.channel.notify({ type: 'reveal', step });
        return info.path;
      }
    }
    const file = stepFileNear(join(runDir, SAMPLES_DIR), step);
    if (!file) {
      void vscode.window.showInformationMessage(`Fact-RLHF: run ${basename(runDir)} has no sample records yet.`);
      return undefined;
    }
    if (step !== null) this.pendingStep.set(file, step);
    await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(file), SAMPLE_INSPECTOR_VIEW_TYPE);
    return file;
  }

  private async pickCompare(
    entry: OpenInspector & { compare?: { source: SampleSource; title: string } },
    roots: vscode.Uri[],
  ): Promise<void> {
    // The workspace's other runs with samples first (e.g. the demo's plain RLHF beside Fact-RLHF), then any folder.
    const own = entry.document.source.info().runDir;
    const runs = (await this.runsWithSamples()).filter((r) => r.dir !== own);
    const BROWSE = 'Browse…';
    const choice = await vscode.window.showQuickPick(
      [...runs.map((r) => ({ label: r.label, description: r.description, detail: r.dir, dir: r.dir })), { label: BROWSE, dir: '' }],
      { title: 'Fact-RLHF: Compare With', placeHolder: 'The run whose samples to show beside these, at the nearest steps' },
    );
    if (!choice) return;
    let chosen = choice.dir;
    if (choice.label === BROWSE) {
      const picked = await vscode.window.showOpenDialog({
        canSelectFolders: true,
        canSelectFiles: true,
        openLabel: 'Compare With',
        title: 'Fact-RLHF: a run folder (or sample file) to compare with',
      });
      if (!picked?.[0]) return;
      chosen = picked[0].fsPath;
    }
    const picked = [vscode.Uri.file(chosen)];
    try {
      const { openSampleSource } = await import('../runs/samples');
      const source = await openSampleSource(inspectorTarget(picked[0].fsPath).path);
      entry.compare?.source.close();
      const info = source.info();
      entry.compare = { source, title: info.title };
      const root = vscode.Uri.file(info.runDir ?? info.path);
      roots.push(root);
      // The compared run's images must be loadable too.
      entry.panel.webview.options = {
        ...entry.panel.webview.options,
        localResourceRoots: [...(entry.panel.webview.options.localResourceRoots ?? []), root],
      };
      entry.channel.notify({ type: 'compareRun', title: info.title });
    } catch (err) {
      void vscode.window.showErrorMessage(`Fact-RLHF: cannot compare with ${picked[0].fsPath}: ${(err as Error).message}`);
    }
  }

  /**
   * A request as the run's open inspector would send it, checked against the contract and answered by
   * the same handlers (editor tests: labelling and exporting without a mouse in the webview).
   */
  async request<M extends MethodOf<SampleInspectorContract>>(
    runDir: string,
    method: M,
    params: ParamsOf<SampleInspectorContract, M>,
  ): Promise<ResultOf<SampleInspectorContract, M>> {
    const entry = [...this.open].find((e) => e.document.source.info().runDir === runDir);
    if (!entry) throw new Error(`no sample inspector is open on ${runDir}`);
    const invalid = sampleInspectorContract.requests[method].params.check(params, 'params');
    if (invalid) throw new Error(invalid);
    const handler = entry.session.handlers[method] as (p: typeof params) => Promise<ResultOf<SampleInspectorContract, M>>;
    return handler(params);
  }

  stats(): SampleInspectorStats {
    return {
      open: [...this.open].map((e) => {
        const info = e.document.source.info();
        return { path: info.path, runDir: info.runDir, rendered: e.lastRendered, dropped: e.channel.stats.dropped };
      }),
    };
  }

  dispose(): void {
    this.renderedEmitter.dispose();
    for (const e of this.open) e.panel.dispose();
  }
}

function isLive(runDir: string | null): boolean {
  if (!runDir) return false;
  try {
    const status = readManifest(runDir)?.status;
    return status !== undefined && !TERMINAL_STATUSES.includes(status);
  } catch {
    return false;
  }
}
