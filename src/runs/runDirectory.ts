// The run directory layout of DESIGN.md §3, and reading its manifest.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import type { RunManifest } from '../protocol';
import { checkRunManifest } from './schemaValidation';
import { isRunRelativePath } from './eventReader';

export const MANIFEST_FILE = 'run.json';
export const EVENTS_FILE = 'events.jsonl';
export const SAMPLES_DIR = 'samples';
export const CHECKPOINTS_DIR = 'checkpoints';
/** The trainer's stdout and stderr (a file, not a pipe: the trainer outlives the window that started it). */
export const TRAINER_LOG_FILE = 'trainer.log';

export const eventsPath = (runDir: string): string => join(runDir, EVENTS_FILE);
export const manifestPath = (runDir: string): string => join(runDir, MANIFEST_FILE);
export const trainerLogPath = (runDir: string): string => join(runDir, TRAINER_LOG_FILE);

/**
 * The absolute path of a file an event names (`sample.path`, `checkpoint.path`), or undefined when
 * the name is absolute or climbs out of the run folder: a log line must not open `../../etc/passwd`.
 */
export function resolveRunPath(runDir: string, relative: string): string | undefined {
  if (!isRunRelativePath(relative)) return undefined;
  const root = resolve(runDir);
  const full = resolve(root, relative.replace(/\\/g, '/'));
  return full.startsWith(root + sep) ? full : undefined;
}

export class RunDirectoryError extends Error {}

/** Reads and validates run.json; undefined while the trainer has not written it yet. */
export function readManifest(runDir: string): RunManifest | undefined {
  let text: string;
  try {
    text = readFileSync(manifestPath(runDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new RunDirectoryError(`${manifestPath(runDir)}: not valid JSON (${(err as Error).message})`);
  }
  const checked = checkRunManifest(value);
  if (!checked.ok) throw new RunDirectoryError(`${manifestPath(runDir)}: ${checked.error}`);
  return checked.value;
}

/** Run directories directly under an output folder, newest first (by events.jsonl mtime). */
export function listRunDirectories(outputDir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(outputDir);
  } catch {
    return [];
  }
  const runs: { dir: string; mtime: number }[] = [];
  for (const name of names) {
    const dir = join(outputDir, name);
    try {
      runs.push({ dir, mtime: statSync(eventsPath(dir)).mtimeMs });
    } catch {
      // not a run directory
    }
  }
  return runs.sort((a, b) => b.mtime - a.mtime).map((r) => r.dir);
}
