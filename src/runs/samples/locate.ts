// Where a sample file sits: which folder the inspector opens for it (the whole run's step files, at
// its step), which run folder it belongs to, and which step file is nearest a chart click's step.
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { SAMPLES_DIR } from '../runDirectory';

/** A file named for its step (ours, LLaVA-RLHF's, veRL's, TRL's): the inspector opens its folder there. */
const STEP_FILE = /^(?:step-(\d+)\.jsonl|step_(\d+)\.json|(\d+)\.jsonl|completions_(\d+)\.parquet)$/;

/** What a file opens: the folder of its step files at its step, or the file itself. */
export function inspectorTarget(path: string): { path: string; step: number | null } {
  const m = STEP_FILE.exec(basename(path));
  if (!m) return { path, step: null };
  const step = Number(m[1] ?? m[2] ?? m[3] ?? m[4]);
  return { path: dirname(path), step };
}

/** The run folder a samples path belongs to (…/<run>/samples/step-N.jsonl), if any. */
export function runDirOf(path: string): string | null {
  const dir = basename(path) === SAMPLES_DIR ? dirname(path) : basename(dirname(path)) === SAMPLES_DIR ? dirname(dirname(path)) : null;
  return dir;
}

/** The samples/step-N.jsonl nearest `step` (null: the newest), or undefined when there is none. */
export function stepFileNear(samplesDir: string, step: number | null): string | undefined {
  let names: string[];
  try {
    names = readdirSync(samplesDir);
  } catch {
    return undefined;
  }
  let best: { name: string; step: number } | undefined;
  for (const name of names) {
    const m = /^step-(\d+)\.jsonl$/.exec(name);
    if (!m) continue;
    const s = Number(m[1]);
    const better =
      !best ||
      (step === null
        ? s > best.step
        : Math.abs(s - step) < Math.abs(best.step - step) || (Math.abs(s - step) === Math.abs(best.step - step) && s < best.step));
    if (better) best = { name, step: s };
  }
  return best && join(samplesDir, best.name);
}
