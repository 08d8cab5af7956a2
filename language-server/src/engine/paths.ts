// Path values in configs: environment expansion (`~`, `$VAR`, `${VAR}`) and resolution against the
// config's folder. A path that names an unset variable cannot be checked, so it is left alone.
import * as nodePath from 'node:path';

export interface ExpandedPath {
  /** Absolute path, when every variable was known. */
  absolute?: string;
  /** Variables the path names that the environment lacks. */
  unset: string[];
}

export function expandPath(raw: string, baseDir: string, env: Readonly<Record<string, string | undefined>> | undefined): ExpandedPath {
  const unset: string[] = [];
  let text = raw;
  if (text === '~' || text.startsWith('~/')) {
    const home = env?.HOME;
    if (home === undefined) unset.push('HOME');
    else text = home + text.slice(1);
  }
  text = text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? '';
    const value = env?.[name];
    if (value === undefined) {
      unset.push(name);
      return '';
    }
    return value;
  });
  if (unset.length > 0) return { unset };
  return { absolute: nodePath.resolve(baseDir, text), unset };
}

/** Keys whose values are paths relative to the config file, and what they must name. */
export const PATH_KEYS: ReadonlyArray<{ path: readonly string[]; kind: 'file' | 'dir' | 'any' }> = [
  { path: ['model', 'policy'], kind: 'dir' },
  { path: ['model', 'reward_model'], kind: 'dir' },
  { path: ['data', 'image_folder'], kind: 'dir' },
  { path: ['data', 'facts'], kind: 'file' },
  { path: ['data', 'sft'], kind: 'file' },
  { path: ['data', 'preference'], kind: 'file' },
  { path: ['data', 'ppo_prompts'], kind: 'file' },
  { path: ['data', 'eval'], kind: 'file' },
  { path: ['eval', 'checkpoint'], kind: 'dir' },
];

export function isPathKey(path: readonly (string | number)[]): boolean {
  return PATH_KEYS.some((k) => k.path.length === path.length && k.path.every((s, i) => s === path[i])) || (path.length === 1 && (path[0] === 'extends' || path[0] === 'output_dir'));
}

/** Values that are not paths: built-in model names. */
export function isBuiltinRef(value: string): boolean {
  return value.startsWith('builtin:');
}
