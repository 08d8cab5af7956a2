// The runs of one config and stage: folders under the config's output folder named as runNaming
// names them (`<name>-<stage>-<timestamp>[-N]`), whose run.json says this stage and this config (or
// a pipeline launch's derived config of it, derivedConfig.ts). The one way the resume choice, the
// pipeline strip and "Run from here" find a config's runs.
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { RunManifest, Stage } from '../protocol';
import { derivedFrom } from './derivedConfig';
import { readManifest } from './runDirectory';
import { defaultRunDirectory, runFolderPrefix } from './runNaming';

export interface ConfigRun {
  dir: string;
  manifest: RunManifest;
}

/** The folder new runs of the config go to (its `output_dir`, following `extends`). */
export function configOutputDir(configPath: string, stage: Stage = 'ppo', outputDirOverride?: string): string {
  return dirname(defaultRunDirectory(resolve(configPath), stage, outputDirOverride));
}

function manifestOf(dir: string): RunManifest | undefined {
  try {
    return readManifest(dir);
  } catch {
    return undefined; // an unreadable manifest is no run of anything
  }
}

/** Whether a run's recorded config is `configPath` itself or a derived config of it. */
export function isRunOfConfig(manifest: RunManifest, runDir: string, configPath: string): boolean {
  if (!manifest.config_path) return true; // an older trainer did not record it: the folder name decides
  const recorded = resolve(manifest.config_path);
  return recorded === configPath || derivedFrom(recorded, runDir) === configPath;
}

/** The config's runs of `stage`, newest first (by run.json `started`). */
export function runsOfConfig(configPath: string, stage: Stage, outputDirOverride?: string): ConfigRun[] {
  const config = resolve(configPath);
  const outputDir = configOutputDir(config, stage, outputDirOverride);
  const prefix = `${runFolderPrefix(config, stage)}-`;
  let names: string[] = [];
  try {
    names = readdirSync(outputDir);
  } catch {
    return []; // no output folder yet: no runs
  }
  const runs: ConfigRun[] = [];
  for (const name of names) {
    // The rest after the prefix is the timestamp and suffix only, so `tiny` does not pick up the
    // runs of a config named `tiny-ppo`.
    if (!name.startsWith(prefix) || !/^\d[\d_.-]*$/.test(name.slice(prefix.length))) continue;
    const dir = join(outputDir, name);
    const manifest = manifestOf(dir);
    if (!manifest || manifest.stage !== stage || !isRunOfConfig(manifest, dir, config)) continue;
    runs.push({ dir, manifest });
  }
  return runs.sort((a, b) => b.manifest.started - a.manifest.started || b.dir.localeCompare(a.dir));
}
