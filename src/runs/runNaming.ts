// Where a new run goes: <config dir>/<output_dir>/<name>-<stage>-<timestamp>, with `name` and
// `output_dir` read from the config (following `extends`), unless the caller overrides the folder.
import { readFileSync, existsSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { parse } from 'yaml';
import type { Stage } from '../protocol';

interface Naming {
  name?: string;
  output_dir?: string;
}

function readNaming(configPath: string, seen: Set<string>): Naming & { outputBase?: string } {
  if (seen.has(configPath) || seen.size > 16) return {};
  seen.add(configPath);
  let doc: unknown;
  try {
    doc = parse(readFileSync(configPath, 'utf8'));
  } catch {
    return {}; // the trainer reports config errors with file and line
  }
  if (!doc || typeof doc !== 'object') return {};
  const d = doc as Record<string, unknown>;
  const parent =
    typeof d.extends === 'string' ? readNaming(resolve(dirname(configPath), d.extends), seen) : {};
  const own: Naming & { outputBase?: string } = { ...parent };
  if (typeof d.name === 'string') own.name = d.name;
  if (typeof d.output_dir === 'string') {
    own.output_dir = d.output_dir;
    own.outputBase = dirname(configPath);
  }
  return own;
}

function timestamp(date: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}${p(date.getMonth() + 1)}${p(date.getDate())}-${p(date.getHours())}${p(date.getMinutes())}${p(date.getSeconds())}`;
}

export function defaultRunDirectory(configPath: string, stage: Stage, outputDirOverride?: string, now = new Date()): string {
  const naming = readNaming(resolve(configPath), new Set());
  const stem = basename(configPath).replace(/\.rlhf\.ya?ml$|\.ya?ml$/, '');
  const name = (naming.name ?? stem).replace(/[^A-Za-z0-9_.-]+/g, '-');
  let outputDir: string;
  if (outputDirOverride) outputDir = outputDirOverride;
  else {
    const rel = naming.output_dir ?? 'runs';
    outputDir = isAbsolute(rel) ? rel : join(naming.outputBase ?? dirname(resolve(configPath)), rel);
  }
  const base = join(outputDir, `${name}-${stage}-${timestamp(now)}`);
  let candidate = base;
  for (let i = 2; existsSync(candidate); i++) candidate = `${base}-${i}`;
  return candidate;
}
