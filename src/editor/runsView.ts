// The runs view: a thin TreeDataProvider over src/viewModels/runsTree.ts. It finds the workspace's
// experiment configs, resolves their output folders as runNaming does, adds the live runs of this
// window, and refreshes (debounced) when file watchers see run folders change.
import * as vscode from 'vscode';
import { dirname, join } from 'node:path';
import type { RunEvent } from '../protocol';
import { EventFileReader } from '../runs/eventReader';
import { eventsPath } from '../runs/runDirectory';
import { defaultRunDirectory } from '../runs/runNaming';
import { RunsTreeModel, deleteRunFolder, type RunNode, type RunsTreeNode } from '../viewModels/runsTree';
import type { RunController } from './runController';
import type { RewardTraceViewProvider } from './webviews/rewardTraces';

export const RUNS_VIEW_ID = 'factRlhf.runs';
const CONFIG_GLOB = '**/*.rlhf.yaml';
const DEBOUNCE_MS = 250;
const LIVE_TICK_MS = 2000;
const IDLE_TICK_MS = 60_000;

/** What `factRlhf.runs.refresh` returns (and the editor tests read). */
export interface RunsViewItem {
  id: string;
  dir: string;
  state: string;
  live: boolean;
  description: string;
  contextValue: string;
  checkpoint?: string;
}

/** A command's run argument: a tree node, a run folder path, or a Uri of one. */
type RunArg = RunsTreeNode | string | vscode.Uri | undefined;

export class RunsView implements vscode.TreeDataProvider<RunsTreeNode>, vscode.Disposable {
  readonly model = new RunsTreeModel({ labelFor: (d) => vscode.workspace.asRelativePath(d) });
  private readonly changed = new vscode.EventEmitter<RunsTreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  readonly view: vscode.TreeView<RunsTreeNode>;
  private readonly disposables: vscode.Disposable[] = [];
  private outputWatchers: vscode.Disposable[] = [];
  private outputDirs: string[] = [];
  private sourcesLoaded: Promise<void> | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private tick: NodeJS.Timeout | undefined;
  private readonly attached = new WeakSet<RunController>();

  constructor(
    private readonly controller: () => RunController | undefined,
    private readonly traces: RewardTraceViewProvider,
  ) {
    this.view = vscode.window.createTreeView(RUNS_VIEW_ID, { treeDataProvider: this, canSelectMany: true, showCollapseAll: true });
    const configs = vscode.workspace.createFileSystemWatcher(CONFIG_GLOB);
    const reload = (): void => void this.reloadSources();
    this.disposables.push(
      this.view,
      this.changed,
      configs,
      configs.onDidCreate(reload),
      configs.onDidChange(reload),
      configs.onDidDelete(reload),
      vscode.workspace.onDidChangeWorkspaceFolders(reload),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('factRlhf.outputDir') && reload()),
    );
  }

  /** Called once the run controller exists: its runs starting and ending refresh the view. */
  attachController(controller: RunController): void {
    if (this.attached.has(controller)) return;
    this.attached.add(controller);
    this.disposables.push(controller.onDidChangeRuns(() => this.scheduleRefresh()));
    this.scheduleRefresh();
  }

  getTreeItem(node: RunsTreeNode): vscode.TreeItem {
    if (node.kind === 'group') {
      const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.Expanded);
      item.id = node.key;
      item.description = node.description;
      item.tooltip = node.dir;
      item.iconPath = new vscode.ThemeIcon('folder');
      item.contextValue = 'group';
      return item;
    }
    const item = new vscode.TreeItem(
      node.label,
      node.kind === 'run' && node.alarms.length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
    );
    item.id = node.key;
    item.description = node.description;
    item.tooltip = node.tooltip;
    item.iconPath = new vscode.ThemeIcon(node.icon.id, node.icon.color ? new vscode.ThemeColor(node.icon.color) : undefined);
    if (node.kind === 'run') {
      item.contextValue = node.contextValue;
      item.resourceUri = vscode.Uri.file(node.info.dir);
      item.command = { command: 'factRlhf.runs.showTraces', title: 'Show Traces', arguments: [node] };
    } else {
      item.contextValue = 'alarm';
    }
    return item;
  }

  async getChildren(node?: RunsTreeNode): Promise<RunsTreeNode[]> {
    if (!this.sourcesLoaded) {
      this.sourcesLoaded = this.reloadSources();
      await this.sourcesLoaded;
    }
    return this.model.children(node);
  }

  getParent(node: RunsTreeNode): RunsTreeNode | undefined {
    if (node.kind === 'alarm') return this.model.find(node.runDir);
    if (node.kind === 'run') return this.model.roots().find((r) => r.kind === 'group' && r.runs.some((x) => x.key === node.key));
    return undefined;
  }

  /** Finds the configs, resolves their output folders and watches them; then refreshes. */
  async reloadSources(): Promise<void> {
    const configs = await vscode.workspace.findFiles(CONFIG_GLOB, '**/node_modules/**', 500);
    const dirs = new Set<string>();
    for (const uri of configs) {
      if (uri.scheme !== 'file') continue;
      const dir = outputDirOf(uri);
      if (dir) dirs.add(dir);
    }
    this.outputDirs = [...dirs].sort();
    for (const w of this.outputWatchers) w.dispose();
    this.outputWatchers = this.outputDirs.flatMap((dir) => {
      // Watched from the parent: the output folder itself may not exist until the first run.
      const w = vscode.workspace.createFileSystemWatcher(
        new vscode.RelativePattern(vscode.Uri.file(dirname(dir)), `${basenameOf(dir)}/*/{run.json,events.jsonl,checkpoints/latest}`),
      );
      const on = (): void => this.scheduleRefresh();
      return [w, w.onDidCreate(on), w.onDidChange(on), w.onDidDelete(on)];
    });
    this.refreshNow();
  }

  scheduleRefresh(): void {
    if (this.debounce) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      this.refreshNow();
    }, DEBOUNCE_MS);
  }

  /** Re-reads the run folders now; the tree is told only when something shown changed. */
  refreshNow(): void {
    this.model.setSources(this.outputDirs, this.controller()?.liveRunDirs() ?? []);
    if (this.model.refresh()) this.changed.fire(undefined);
    const alarmed = this.model.runs().filter((r) => r.info.alarms.length).length;
    this.view.badge = alarmed ? { value: alarmed, tooltip: `${alarmed} run${alarmed === 1 ? '' : 's'} with health alarms` } : undefined;
    // Ages and progress move on their own: tick fast while a run is live, slowly otherwise.
    if (this.tick) clearTimeout(this.tick);
    this.tick = setTimeout(() => this.refreshNow(), this.model.hasLive() ? LIVE_TICK_MS : IDLE_TICK_MS);
  }

  items(): RunsViewItem[] {
    return this.model.runs().map((r) => ({
      id: r.info.id,
      dir: r.info.dir,
      state: r.info.state,
      live: r.info.live,
      description: r.description,
      contextValue: r.contextValue,
      checkpoint: r.info.checkpoint,
    }));
  }

  /** The run a command was given (a node, a path or a Uri), else the selection's first. */
  runOf(arg: RunArg): RunNode | undefined {
    if (!arg) {
      const sel = this.view.selection.find((n) => n.kind === 'run');
      return sel?.kind === 'run' ? sel : undefined;
    }
    const dir =
      typeof arg === 'string'
        ? arg
        : arg instanceof vscode.Uri
          ? arg.fsPath
          : arg.kind === 'alarm'
            ? arg.runDir
            : arg.kind === 'run'
              ? arg.info.dir
              : undefined;
    if (!dir) return undefined;
    this.refreshNow();
    return this.model.find(dir);
  }

  /** Adds a run to the reward-trace view (a finished one is read from its events file). */
  async showTraces(run: RunNode): Promise<void> {
    const hub = this.traces.hub;
    const live = this.controller()
      ?.manager.list()
      .some((h) => h.runDir === run.info.dir);
    if (!live && !hub.has(run.info.id)) {
      const reader = new EventFileReader(eventsPath(run.info.dir));
      const events: RunEvent[] = [];
      await reader.readNewAsync({ final: true, onBatch: (b) => events.push(...b.events) });
      hub.track(run.info.id, run.info.dir, run.info.stage ?? 'ppo');
      hub.apply(run.info.id, events);
    }
    await this.traces.reveal();
  }

  dispose(): void {
    if (this.debounce) clearTimeout(this.debounce);
    if (this.tick) clearTimeout(this.tick);
    for (const d of [...this.outputWatchers, ...this.disposables]) d.dispose();
  }
}

function basenameOf(dir: string): string {
  return dir.split(/[\\/]/).pop() ?? dir;
}

/** Where a config's runs go: factRlhf.outputDir when set, else its output_dir (runNaming's rule). */
function outputDirOf(config: vscode.Uri): string | undefined {
  const setting = vscode.workspace.getConfiguration('factRlhf', config).get<string>('outputDir')?.trim();
  const folder = vscode.workspace.getWorkspaceFolder(config);
  if (setting) return folder ? join(folder.uri.fsPath, setting) : setting;
  try {
    return dirname(defaultRunDirectory(config.fsPath, 'ppo'));
  } catch {
    return undefined;
  }
}

/** The runs view and its commands (context menu, inline buttons, palette). */
export function registerRunsView(
  context: vscode.ExtensionContext,
  runs: () => Promise<RunController>,
  controller: () => RunController | undefined,
  traces: RewardTraceViewProvider,
  openSamples: (runDir: string, step: number | null) => Promise<string | undefined>,
): RunsView {
  const view = new RunsView(controller, traces);
  const need = (arg: RunArg): RunNode => {
    const run = view.runOf(arg);
    if (!run) throw new Error('choose a run in the Runs view first');
    return run;
  };
  const guarded =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R | undefined> => {
      try {
        return await fn(...args);
      } catch (err) {
        void vscode.window.showErrorMessage(`Fact-RLHF: ${(err as Error).message}`);
        return undefined;
      }
    };
  const selected = (arg: RunArg, many?: readonly RunsTreeNode[]): RunNode[] => {
    const list = (many?.length ? many : [arg]).map((a) => view.runOf(a as RunArg)).filter((r): r is RunNode => !!r);
    return [...new Map(list.map((r) => [r.info.dir, r])).values()];
  };

  context.subscriptions.push(
    view,
    vscode.commands.registerCommand('factRlhf.runs.refresh', async (): Promise<RunsViewItem[]> => {
      await view.reloadSources();
      return view.items();
    }),
    vscode.commands.registerCommand(
      'factRlhf.runs.showTraces',
      guarded(async (arg: RunArg) => {
        const run = need(arg);
        await view.showTraces(run);
        return run.info.id;
      }),
    ),
    vscode.commands.registerCommand(
      'factRlhf.runs.openSamples',
      guarded(async (arg: RunArg) => {
        const run = need(arg);
        if (!run.info.latestSamples) {
          void vscode.window.showInformationMessage(`Fact-RLHF: run ${run.info.id} has no sample records yet.`);
          return undefined;
        }
        return openSamples(run.info.dir, null);
      }),
    ),
    // The palette's Open Samples: pick one of the runs that wrote samples, newest first.
    vscode.commands.registerCommand(
      'factRlhf.openSamples',
      guarded(async (arg?: vscode.Uri) => {
        if (arg instanceof vscode.Uri) return openSamples(arg.fsPath, null);
        await view.reloadSources();
        const withSamples = view.model
          .runs()
          .filter((r) => r.info.latestSamples)
          .sort((a, b) => b.info.updated - a.info.updated);
        if (!withSamples.length) {
          void vscode.window.showInformationMessage('Fact-RLHF: no run in this workspace has written sample records yet.');
          return undefined;
        }
        const pick = await vscode.window.showQuickPick(
          withSamples.map((r) => ({
            label: r.info.id,
            description: r.description,
            detail: vscode.workspace.asRelativePath(r.info.dir),
            dir: r.info.dir,
          })),
          { title: 'Fact-RLHF: Open Samples', placeHolder: 'The run whose samples to inspect' },
        );
        return pick ? openSamples(pick.dir, null) : undefined;
      }),
    ),
    vscode.commands.registerCommand(
      'factRlhf.runs.stop',
      guarded(async (arg: RunArg) => {
        const run = need(arg);
        if (!run.info.live) throw new Error(`run ${run.info.id} is not running`);
        const result = await (await runs()).stopRun(run.info.dir);
        view.scheduleRefresh();
        return result?.status;
      }),
    ),
    vscode.commands.registerCommand(
      'factRlhf.runs.resume',
      guarded(async (arg: RunArg) => {
        const run = need(arg);
        if (!vscode.workspace.isTrusted)
          throw new Error('Training is disabled in an untrusted workspace. Trust the workspace to resume runs.');
        if (run.info.live) throw new Error(`run ${run.info.id} is still running`);
        if (!run.info.checkpoint) throw new Error(`run ${run.info.id} has no checkpoint (checkpoints/latest) to continue from`);
        const handle = await (await runs()).resumeRun(run.info.dir);
        view.scheduleRefresh();
        void traces.reveal();
        return { runId: handle.runId, runDir: handle.runDir, checkpoint: run.info.checkpoint };
      }),
    ),
    vscode.commands.registerCommand(
      'factRlhf.runs.compare',
      guarded(async (arg: RunArg, many?: readonly RunsTreeNode[]) => {
        let pair = selected(arg, many);
        if (pair.length < 2) {
          const first = pair[0] ?? need(arg);
          const others = view.model.runs().filter((r) => r.info.dir !== first.info.dir);
          if (!others.length) throw new Error('there is no other run to compare with');
          const pick = await vscode.window.showQuickPick(
            others.map((r) => ({ label: r.info.id, description: r.description, run: r })),
            { placeHolder: `Compare ${first.info.id} with…` },
          );
          if (!pick) return undefined;
          pair = [first, pick.run];
        }
        for (const r of pair.slice(0, 2)) await view.showTraces(r);
        return pair.slice(0, 2).map((r) => r.info.id);
      }),
    ),
    vscode.commands.registerCommand(
      'factRlhf.runs.revealFolder',
      guarded(async (arg: RunArg) => {
        const run = need(arg);
        const uri = vscode.Uri.file(run.info.dir);
        // Inside the workspace the Explorer shows it; elsewhere the OS file manager.
        await vscode.commands.executeCommand(vscode.workspace.getWorkspaceFolder(uri) ? 'revealInExplorer' : 'revealFileInOS', uri);
        return run.info.dir;
      }),
    ),
    vscode.commands.registerCommand(
      'factRlhf.runs.delete',
      guarded(async (arg: RunArg, many?: readonly RunsTreeNode[]) => {
        const targets = selected(arg, many);
        if (!targets.length) throw new Error('choose a run in the Runs view first');
        const live = targets.filter((r) => r.info.live);
        if (live.length) throw new Error(`run ${live[0].info.id} is still running: stop it before deleting it`);
        const names = targets.map((r) => r.info.id).join(', ');
        const answer = await vscode.window.showWarningMessage(
          `Delete ${targets.length === 1 ? 'the run folder' : `${targets.length} run folders`} ${names}? Its checkpoints, samples and events are removed from disk.`,
          { modal: true },
          'Delete',
        );
        if (answer !== 'Delete') return [];
        for (const r of targets) deleteRunFolder(r.info.dir);
        view.refreshNow();
        return targets.map((r) => r.info.dir);
      }),
    ),
  );
  return view;
}
