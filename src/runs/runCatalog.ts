// What is known about each run folder on disk, for the runs view and `fact-rlhf runs`: manifest,
// status, progress, headline figure, latest checkpoint and health alarms. Each folder's events.jsonl
// is read incrementally (the reader keeps its byte offset), so refreshing a long run reads only
// what was appended since.
import { readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { RunManifest, RunStatus, Stage } from '../protocol';
import { TERMINAL_STATUSES } from '../protocol';
import { EventFileReader } from './eventReader';
import { HealthMonitor, type Alarm, type MonitorConfig } from './health';
import { checkLaunch, isAlive, latestLaunch } from './launchIdentity';
import { CHECKPOINTS_DIR, eventsPath, listRunDirectories, manifestPath, readManifest } from './runDirectory';
import { RunSeries } from './runSeries';
import { PRIMARY_METRIC } from './runSummary';

/** A run's state as shown: the trainer's status, or `interrupted` when it ended without saying so. */
export type RunState = RunStatus | 'interrupted';

export interface RunInfo {
  id: string;
  dir: string;
  stage?: Stage;
  state: RunState;
  /** The trainer process is running now (checked against run.json's launch identity). */
  live: boolean;
  error?: string;
  progress?: { step: number; total: number; eta: number | null };
  /** The stage's headline metric's last value (schema/metrics.json `headline`). */
  headline?: { key: string; label: string; value: number | null };
  lastStep: number;
  /** Unix seconds. */
  started?: number;
  ended?: number;
  /** Milliseconds since the epoch: the newest change of run.json or events.jsonl. */
  updated: number;
  configPath?: string;
  /** The checkpoint folder `checkpoints/latest` names (what a resume continues from). */
  checkpoint?: string;
  alarms: Alarm[];
  corruptLines: number;
  /** The newest sample-record file, relative to the run folder. */
  latestSamples?: string;
  /** run.json could not be read or is invalid. */
  manifestError?: string;
}

/** The trainer's pointer to the checkpoint a resume continues from (checkpoint.py `LATEST`). */
export const LATEST_CHECKPOINT = 'latest';

/** The checkpoint `checkpoints/latest` names, when it exists. */
export function latestCheckpoint(runDir: string): string | undefined {
  let name: string;
  try {
    name = readFileSync(join(runDir, CHECKPOINTS_DIR, LATEST_CHECKPOINT), 'utf8').trim();
  } catch {
    return undefined;
  }
  if (!name || name.includes('/') || name.includes('\\') || name === '..') return undefined;
  try {
    return statSync(join(runDir, CHECKPOINTS_DIR, name)).isDirectory() ? name : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the run's trainer is running now, by run.json's latest launch (or its pids, for older runs). */
export function trainerIsLive(manifest: RunManifest | undefined): boolean {
  if (!manifest) return false;
  const launch = latestLaunch(manifest);
  if (launch) {
    const check = checkLaunch(launch);
    return check.ok || check.alive;
  }
  return manifest.pids.some(isAlive);
}

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

interface Tracked {
  reader: EventFileReader;
  series: RunSeries;
  monitor: HealthMonitor;
  sawStatus: boolean;
  manifest?: RunManifest;
  manifestMtime: number;
  manifestError?: string;
}

function monitorFor(manifest: RunManifest | undefined): HealthMonitor {
  const config = (manifest?.config as { monitor?: MonitorConfig } | undefined)?.monitor;
  try {
    return new HealthMonitor(config ?? {}, { stepPerEvent: true });
  } catch {
    return new HealthMonitor({}, { stepPerEvent: true }); // a bad monitor: section is the language server's to report
  }
}

export class RunCatalog {
  private readonly runs = new Map<string, Tracked>();

  /** Reads what changed in one run folder and returns its state. */
  read(runDir: string): RunInfo {
    const dir = resolve(runDir);
    let t = this.runs.get(dir);
    const mm = mtime(manifestPath(dir));
    let manifest = t?.manifest;
    let manifestError = t?.manifestError;
    if (!t || mm !== t.manifestMtime) {
      try {
        manifest = readManifest(dir);
        manifestError = undefined;
      } catch (err) {
        manifest = undefined;
        manifestError = (err as Error).message;
      }
    }
    if (!t) {
      t = {
        reader: new EventFileReader(eventsPath(dir)),
        series: new RunSeries(),
        monitor: monitorFor(manifest),
        sawStatus: false,
        manifestMtime: mm,
      };
      this.runs.set(dir, t);
    }
    t.manifest = manifest;
    t.manifestMtime = mm;
    t.manifestError = manifestError;
    const live = trainerIsLive(manifest);
    const batch = t.reader.readNew({ final: !live });
    if (batch.reset) {
      t.series = new RunSeries();
      t.monitor = monitorFor(manifest);
      t.sawStatus = false;
    }
    t.series.apply(batch.events);
    t.monitor.apply(batch.events);
    if (batch.events.some((e) => e.type === 'status')) t.sawStatus = true;

    const status: RunStatus | undefined = t.sawStatus ? t.series.status : manifest?.status;
    let state: RunState = status ?? 'starting';
    if (!live && !TERMINAL_STATUSES.includes(state as RunStatus) && manifest) state = 'interrupted';
    const stage = manifest?.stage;
    const primary = stage ? PRIMARY_METRIC[stage] : undefined;
    const headlineValue = primary ? t.series.last(primary.key) : undefined;
    const samples = t.series.sampleFiles;
    return {
      id: manifest?.id ?? basename(dir),
      dir,
      stage,
      state,
      live,
      error: t.series.error,
      progress: t.series.progress,
      headline: primary && headlineValue !== undefined ? { key: primary.key, label: primary.label, value: headlineValue } : undefined,
      lastStep: t.series.lastStep,
      started: manifest?.started,
      ended: manifest?.ended ?? undefined,
      updated: Math.max(mm, mtime(eventsPath(dir))),
      configPath: manifest?.config_path ?? undefined,
      checkpoint: latestCheckpoint(dir),
      alarms: t.monitor.alarms.slice(),
      corruptLines: t.reader.corruptCount,
      latestSamples: samples.length ? samples[samples.length - 1].path : undefined,
      manifestError,
    };
  }

  /** Every run folder directly under an output folder, newest first. */
  scan(outputDir: string): RunInfo[] {
    return listRunDirectories(outputDir).map((d) => this.read(d));
  }

  /** Drops what is kept for a folder (deleted, or no longer under any output folder). */
  forget(runDir: string): void {
    this.runs.delete(resolve(runDir));
  }

  known(): string[] {
    return [...this.runs.keys()];
  }
}
