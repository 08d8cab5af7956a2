// The config a pipeline launch runs with when it must change a few keys of the user's config (the
// policy to start from, the reward model, the model to evaluate). The trainer's CLI takes no
// `--set key=value` overrides (trainer/fact_rlhf/cli.py: --config, --run-dir, --resume only), so the
// launch writes a small file into the new run's folder that `extends` the user's config and sets
// those keys; the user's file is never rewritten. It also pins `name` and `output_dir`, so the run
// is named and placed as a run of the user's config (a derived file would otherwise fall back to its
// own stem and folder), and configRuns counts it as one.
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { readConfigChain } from './configChain';

/** The derived config's file name inside its run folder; not `*.rlhf.yaml`, so config searches skip it. */
export const DERIVED_CONFIG_FILE = 'launch-config.yaml';

/** Dotted config key (`model.reward_model`) → value. */
export type ConfigOverrides = Record<string, string>;

export interface DerivedConfigOptions {
  runDir: string;
  /** The user's config (absolute or relative to the current folder). */
  parent: string;
  overrides: ConfigOverrides;
  /** The experiment name and output folder of the parent, pinned (see above). */
  name: string;
  outputDir: string;
  /** One line saying why this file exists (which launch wrote it). */
  reason: string;
}

function setDotted(tree: Record<string, unknown>, dotted: string, value: string): void {
  const parts = dotted.split('.');
  let node = tree;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    node = (node[part] = next && typeof next === 'object' ? next : {}) as Record<string, unknown>;
  }
  node[parts[parts.length - 1]] = value;
}

/** The derived file's text: a comment, then extends / name / output_dir / the overrides. */
export function derivedConfigText(o: Omit<DerivedConfigOptions, 'runDir'>): string {
  const tree: Record<string, unknown> = { extends: resolve(o.parent), name: o.name, output_dir: resolve(o.outputDir) };
  for (const key of Object.keys(o.overrides).sort()) setDotted(tree, key, o.overrides[key]);
  const header = [
    `# Written by Fact-RLHF Studio: ${o.reason}.`,
    // A file name may hold a line break: in a comment it would start a line of YAML.
    `# It extends ${basename(o.parent).replace(/[\r\n]+/g, ' ')} and sets only the keys below; that file is left as it is.`,
  ];
  return `${header.join('\n')}\n${stringify(tree)}`;
}

/** Writes the derived config into the run folder (made if needed); returns its path. */
export function writeDerivedConfig(o: DerivedConfigOptions): string {
  mkdirSync(o.runDir, { recursive: true });
  const path = join(o.runDir, DERIVED_CONFIG_FILE);
  writeFileSync(path, derivedConfigText(o), 'utf8');
  return path;
}

/** The user config a run's derived config extends, when `configPath` is one (in its run folder); else undefined. */
export function derivedFrom(configPath: string, runDir: string): string | undefined {
  const path = resolve(configPath);
  if (basename(path) !== DERIVED_CONFIG_FILE || dirname(path) !== resolve(runDir)) return undefined;
  const chain = readConfigChain(path);
  return chain.length >= 2 && chain[chain.length - 1].path === path ? chain[chain.length - 2].path : undefined;
}
