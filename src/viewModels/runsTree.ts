// The data behind the runs view (VS Code-free; src/editor/runsView.ts only maps it to TreeItems):
// every run under the given output folders plus the live ones, grouped by output folder when there
// is more than one, each with its status icon, stage, progress, headline figure, age and health alarms.
import { existsSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Alarm } from '../runs/health';
import { formatAge } from '../runs/duration';
import { RunCatalog, trainerIsLive, type RunInfo, type RunState } from '../runs/runCatalog';
import { EVENTS_FILE, MANIFEST_FILE, listRunDirectories, readManifest } from '../runs/runDirectory';

/** A codicon id and an optional theme colour id (the editor turns them into a ThemeIcon). */
export interface IconSpec {
  id: string;
  color?: string;
}

export interface RunNode {
  kind: 'run';
  key: string;
  info: RunInfo;
  label: string;
  description: string;
  tooltip: string;
  icon: IconSpec;
  /** Space-separated flags for `when` clauses: run, live, resumable, samples, alarm, deletable. */
  contextValue: string;
  alarms: AlarmNode[];
}

export interface AlarmNode {
  kind: 'alarm';
  key: string;
  runDir: string;
  alarm: Alarm;
  label: string;
  description: string;
  tooltip: string;
  icon: IconSpec;
}

export interface GroupNode {
  kind: 'group';
  key: string;
  dir: string;
  label: string;
  description: string;
  runs: RunNode[];
}

export type RunsTreeNode = GroupNode | RunNode | AlarmNode;

const STATE_ICONS: Record<RunState, IconSpec> = {
  starting: { id: 'loading~spin' },
  running: { id: 'sync~spin', color: 'charts.blue' },
  finished: { id: 'pass', color: 'testing.iconPassed' },
  failed: { id: 'error', color: 'testing.iconFailed' },
  stopped: { id: 'debug-stop', color: 'charts.yellow' },
  interrupted: { id: 'debug-disconnect', color: 'charts.orange' },
};

export function stateIcon(info: Pick<RunInfo, 'state' | 'alarms'>): IconSpec {
  // A finished run whose health rules fired is not a plain success: the alarm shows on the icon.
  if (info.alarms.length && info.state !== 'failed') {
    const error = info.alarms.some((a) => a.severity === 'error');
    return { id: error ? 'alert' : 'warning', color: error ? 'problemsErrorIcon.foreground' : 'problemsWarningIcon.foreground' };
  }
  return STATE_ICONS[info.state];
}

function figure(v: number | null): string {
  if (v === null) return 'NaN';
  return Number.isInteger(v) ? String(v) : Math.abs(v) >= 1000 || Math.abs(v) < 0.001 ? v.toExponential(2) : v.toFixed(4);
}

export function describeRun(info: RunInfo, nowMs: number): string {
  const parts: string[] = [];
  if (info.stage) parts.push(info.stage);
  parts.push(info.state);
  if (info.progress && info.progress.total > 0 && info.state !== 'finished') {
    parts.push(`${info.progress.step}/${info.progress.total} (${Math.round((100 * info.progress.step) / info.progress.total)}%)`);
  } else if (info.lastStep >= 0) parts.push(`step ${info.lastStep}`);
  if (info.headline) parts.push(`${info.headline.label} ${figure(info.headline.value)}`);
  if (info.alarms.length) parts.push(`⚠ ${info.alarms.length} alarm${info.alarms.length === 1 ? '' : 's'}`);
  parts.push(formatAge((nowMs - info.updated) / 1000));
  return parts.join(' · ');
}

function tooltipOf(info: RunInfo, nowMs: number): string {
  const lines = [info.id, info.dir, describeRun(info, nowMs)];
  if (info.started) lines.push(`started ${new Date(info.started * 1000).toISOString()}`);
  if (info.ended) lines.push(`ended ${new Date(info.ended * 1000).toISOString()}`);
  if (info.checkpoint) lines.push(`latest checkpoint: ${info.checkpoint}`);
  if (info.configPath) lines.push(`config: ${info.configPath}`);
  if (info.error) lines.push(`error: ${info.error.trim().split('\n').slice(-3).join('\n')}`);
  if (info.manifestError) lines.push(info.manifestError);
  if (info.corruptLines) lines.push(`${info.corruptLines} corrupt line(s) skipped in events.jsonl`);
  for (const a of info.alarms) lines.push(`${a.severity}: ${a.rule} from step ${a.step}: ${a.message}`);
  return lines.join('\n');
}

export function contextFlags(info: RunInfo): string {
  const flags = ['run'];
  if (info.live) flags.push('live');
  // Resume continues from checkpoints/latest, never a live run, and not an eval (it writes none).
  if (!info.live && info.checkpoint && info.stage && info.stage !== 'eval' && info.state !== 'finished') flags.push('resumable');
  if (info.latestSamples) flags.push('samples');
  if (info.alarms.length) flags.push('alarm');
  if (!info.live) flags.push('deletable');
  return flags.join(' ');
}

export function runNode(info: RunInfo, nowMs: number): RunNode {
  return {
    kind: 'run',
    key: `run:${info.dir}`,
    info,
    label: info.id,
    description: describeRun(info, nowMs),
    tooltip: tooltipOf(info, nowMs),
    icon: stateIcon(info),
    contextValue: contextFlags(info),
    alarms: info.alarms.map((alarm) => ({
      kind: 'alarm',
      key: `alarm:${info.dir}:${alarm.rule}`,
      runDir: info.dir,
      alarm,
      label: alarm.rule,
      description: `from step ${alarm.step}`,
      tooltip: `${alarm.message}\n${Object.entries(alarm.evidence)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}`,
      icon:
        alarm.severity === 'error'
          ? { id: 'error', color: 'problemsErrorIcon.foreground' }
          : { id: 'warning', color: 'problemsWarningIcon.foreground' },
    })),
  };
}

export interface RunsTreeOptions {
  catalog?: RunCatalog;
  now?: () => number;
  /** A group's label (the editor passes a workspace-relative path). */
  labelFor?: (outputDir: string) => string;
}

export class RunsTreeModel {
  private readonly catalog: RunCatalog;
  private readonly now: () => number;
  private readonly labelFor: (dir: string) => string;
  private outputDirs: string[] = [];
  private liveDirs: string[] = [];
  private groups: GroupNode[] = [];
  private signature = '';

  constructor(options: RunsTreeOptions = {}) {
    this.catalog = options.catalog ?? new RunCatalog();
    this.now = options.now ?? Date.now;
    this.labelFor = options.labelFor ?? ((d) => d);
  }

  /** The configs' output folders and the run folders of live runs (which may lie elsewhere). */
  setSources(outputDirs: readonly string[], liveRunDirs: readonly string[] = []): void {
    this.outputDirs = [...new Set(outputDirs.map((d) => resolve(d)))];
    this.liveDirs = [...new Set(liveRunDirs.map((d) => resolve(d)))];
  }

  /** Re-reads every folder (incrementally); true when what the tree shows changed. */
  refresh(): boolean {
    const nowMs = this.now();
    const byGroup = new Map<string, string[]>();
    for (const d of this.outputDirs) byGroup.set(d, listRunDirectories(d));
    for (const run of this.liveDirs) {
      const parent = dirname(run);
      const list = byGroup.get(parent) ?? [];
      if (!list.includes(run)) list.unshift(run); // not written yet: still shown
      byGroup.set(parent, list);
    }
    const seen = new Set<string>();
    const groups: GroupNode[] = [];
    for (const [dir, runDirs] of byGroup) {
      const runs = runDirs.filter((r) => !seen.has(r)).map((r) => (seen.add(r), runNode(this.catalog.read(r), nowMs)));
      runs.sort((a, b) => Number(b.info.live) - Number(a.info.live) || b.info.updated - a.info.updated);
      groups.push({
        kind: 'group',
        key: `group:${dir}`,
        dir,
        label: this.labelFor(dir),
        description: `${runs.length} run${runs.length === 1 ? '' : 's'}`,
        runs,
      });
    }
    for (const known of this.catalog.known()) if (!seen.has(known)) this.catalog.forget(known);
    this.groups = groups;
    const signature = JSON.stringify(
      groups.map((g) => [g.dir, g.runs.map((r) => [r.key, r.description, r.icon.id, r.contextValue, r.tooltip])]),
    );
    const changed = signature !== this.signature;
    this.signature = signature;
    return changed;
  }

  /** Top level: the runs themselves with one output folder, else one group per output folder that has runs. */
  roots(): RunsTreeNode[] {
    const nonEmpty = this.groups.filter((g) => g.runs.length);
    if (nonEmpty.length <= 1) return nonEmpty[0]?.runs ?? [];
    return nonEmpty;
  }

  children(node?: RunsTreeNode): RunsTreeNode[] {
    if (!node) return this.roots();
    if (node.kind === 'group') return this.groups.find((g) => g.key === node.key)?.runs ?? [];
    if (node.kind === 'run') return this.find(node.info.dir)?.alarms ?? [];
    return [];
  }

  runs(): RunNode[] {
    return this.groups.flatMap((g) => g.runs);
  }

  find(runDir: string): RunNode | undefined {
    const dir = resolve(runDir);
    return this.runs().find((r) => r.info.dir === dir);
  }

  /** Whether anything shown is live (the view then refreshes its ages and progress on a timer too). */
  hasLive(): boolean {
    return this.runs().some((r) => r.info.live);
  }
}

export class RunDeleteError extends Error {}

/**
 * Deletes a run folder after checking it is one (run.json or events.jsonl in it) and that its
 * trainer is not running. The caller asks the user first.
 */
export function deleteRunFolder(runDir: string): void {
  const dir = resolve(runDir);
  if (!existsSync(join(dir, MANIFEST_FILE)) && !existsSync(join(dir, EVENTS_FILE))) {
    throw new RunDeleteError(`${dir} is not a run folder (no ${MANIFEST_FILE} or ${EVENTS_FILE}): not deleted`);
  }
  let manifest;
  try {
    manifest = readManifest(dir);
  } catch {
    manifest = undefined; // an unreadable manifest names no process
  }
  if (trainerIsLive(manifest)) throw new RunDeleteError(`run ${basename(dir)} is still running: stop it before deleting it`);
  rmSync(dir, { recursive: true, force: true });
}
