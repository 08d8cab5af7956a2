// Where a new run goes: <config dir>/<output_dir>/<name>-<stage>-<timestamp>, with `name` and
// `output_dir` read from the config (following `extends`), unless the caller overrides the folder.
// The rule itself (format, name fallback, unsafe characters, timestamp, collision suffix) is data:
// `x-run-folder` in schema/experiment.schema.json, which the trainer reads too.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import experimentSchema from '../../schema/experiment.schema.json';
import type { Stage } from '../protocol';
import { readConfigChain } from './configChain';

/** schema/experiment.schema.json `x-run-folder`. */
interface RunFolderRule {
  /** `{name}`, `{stage}` and `{timestamp}` placeholders. */
  format: string;
  /** The config key that names the experiment. */
  name: string;
  /** `config-stem`: without a name, the config file's name less one of `stem_suffixes`. */
  name_fallback: 'config-stem';
  stem_suffixes: string[];
  /** Runs of characters matching this (a regular expression) in the name become `replacement`. */
  unsafe: string;
  replacement: string;
  /** strftime-style: %Y %m %d %H %M %S, local time. */
  timestamp: string;
  /** The config key of the folder that holds run folders (relative to the file that set it). */
  parent: string;
  /** `{folder}` and `{n}`: the name tried when the folder exists, n from `collision_start` up. */
  collision: string;
  collision_start: number;
}

const RULE = (experimentSchema as unknown as { 'x-run-folder': RunFolderRule })['x-run-folder'];
const UNSAFE = new RegExp(RULE.unsafe, 'g');
const OUTPUT_DEFAULT = (experimentSchema.properties as Record<string, { default?: unknown }>)[RULE.parent]?.default;

interface Naming {
  name?: string;
  outputDir?: string;
  outputBase?: string;
}

/** `name` and `output_dir` through the `extends` chain (later files win; output_dir relative to the file that set it). */
function readNaming(configPath: string): Naming {
  const own: Naming = {};
  for (const { path, doc: d } of readConfigChain(configPath)) {
    if (typeof d[RULE.name] === 'string') own.name = d[RULE.name] as string;
    if (typeof d[RULE.parent] === 'string') {
      own.outputDir = d[RULE.parent] as string;
      own.outputBase = dirname(path);
    }
  }
  return own;
}

/**
 * `output_dir` as the trainer reads it (trainer/fact_rlhf/config/loader.py: Python's
 * `os.path.expanduser(os.path.expandvars(value))`): `$NAME` and `${NAME}` replaced when set and
 * left as written when not, then a leading `~` (alone or before a separator) becomes HOME.
 * Without this, `${HOME}/runs` launched from the editor or the CLI made a literal `${HOME}` folder.
 */
export function expandLikeTrainer(value: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  // posixpath.expandvars: \$(\w+|\{[^}]*\}) with ASCII \w, so `$1x` counts and `${A B}` looks up "A B".
  const vars = value.includes('$')
    ? value.replace(/\$(\w+|\{[^}]*\})/g, (whole, name: string) => {
        const key = name.startsWith('{') ? name.slice(1, -1) : name;
        const v = env[key];
        return v === undefined ? whole : v;
      })
    : value;
  if (vars !== '~' && !vars.startsWith('~/') && !(process.platform === 'win32' && vars.startsWith('~\\'))) return vars;
  const home = env.HOME ?? (process.platform === 'win32' ? env.USERPROFILE : undefined) ?? homedir();
  return home.replace(/[\\/]+$/, '') + vars.slice(1) || '/';
}

function timestamp(date: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  const fields: Record<string, string> = {
    Y: String(date.getFullYear()),
    m: p(date.getMonth() + 1),
    d: p(date.getDate()),
    H: p(date.getHours()),
    M: p(date.getMinutes()),
    S: p(date.getSeconds()),
  };
  return RULE.timestamp.replace(/%([YmdHMS%])/g, (_, f: string) => (f === '%' ? '%' : fields[f]));
}

function stem(configPath: string): string {
  const file = basename(configPath);
  const suffix = RULE.stem_suffixes.find((s) => file.endsWith(s));
  return suffix ? file.slice(0, -suffix.length) : file;
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, k: string) => values[k] ?? whole);
}

function folderName(naming: Naming, configPath: string, stage: Stage, stamp: string): string {
  const name = (naming.name || stem(configPath)).replace(UNSAFE, RULE.replacement);
  return fill(RULE.format, { name, stage, timestamp: stamp });
}

/** The experiment's name as runs are named by it: `name` (following `extends`), else the file's stem. */
export function experimentName(configPath: string): string {
  return readNaming(configPath).name || stem(configPath);
}

/** The run-folder name for `stage` up to its timestamp (`tiny-ppo-ppo`), as both sides name runs. */
export function runFolderPrefix(configPath: string, stage: Stage): string {
  const marker = '\u0000';
  const full = folderName(readNaming(configPath), configPath, stage, marker);
  return full.slice(0, full.indexOf(marker)).replace(/[-_.]$/, '');
}

export function defaultRunDirectory(configPath: string, stage: Stage, outputDirOverride?: string, now = new Date()): string {
  const naming = readNaming(configPath);
  let outputDir: string;
  if (outputDirOverride) outputDir = outputDirOverride;
  else {
    const rel = expandLikeTrainer(naming.outputDir ?? (typeof OUTPUT_DEFAULT === 'string' ? OUTPUT_DEFAULT : 'runs'));
    outputDir = isAbsolute(rel) ? rel : join(naming.outputBase ?? dirname(resolve(configPath)), rel);
  }
  const base = join(outputDir, folderName(naming, configPath, stage, timestamp(now)));
  let candidate = base;
  for (let i = RULE.collision_start; existsSync(candidate); i++) candidate = fill(RULE.collision, { folder: base, n: String(i) });
  return candidate;
}
