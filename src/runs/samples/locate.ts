// Where a sample file sits: which folder the inspector opens for it (the whole run's step files, at
// its step), which run folder it belongs to, and which step file is nearest a chart click's step.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
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

/** Largest image inlined from outside the run folder. */
const MAX_INLINE_IMAGE = 8 * 1024 * 1024;
const IMAGE_TYPES: [RegExp, string, number[]][] = [
  [/\.png$/i, 'image/png', [0x89, 0x50, 0x4e, 0x47]],
  [/\.jpe?g$/i, 'image/jpeg', [0xff, 0xd8, 0xff]],
  [/\.gif$/i, 'image/gif', [0x47, 0x49, 0x46, 0x38]],
  [/\.webp$/i, 'image/webp', [0x52, 0x49, 0x46, 0x46]],
];

/**
 * An image a record names outside the page's resource roots, as a data: URI (the CSP allows data:
 * images): only files whose name and first bytes say PNG, JPEG, GIF or WebP, up to 8 MB, so a record
 * naming any other file shows "no image" and its bytes never reach the page.
 */
export function inlineImage(path: string): string | null {
  const type = IMAGE_TYPES.find(([name]) => name.test(path));
  if (!type) return null;
  try {
    if (statSync(path).size > MAX_INLINE_IMAGE) return null;
    const bytes = readFileSync(path);
    if (!type[2].every((b, i) => bytes[i] === b)) return null;
    return `data:${type[1]};base64,${bytes.toString('base64')}`;
  } catch {
    return null;
  }
}

/** Whether `path` lies in `root` (after resolving `..`): what a page may load. */
export function isInside(root: string, path: string): boolean {
  const rel = relative(resolve(root), resolve(path));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}
