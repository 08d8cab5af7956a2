// Path values in configs: environment expansion (`~`, `$VAR`, `${VAR}`) and resolution against the
// config's folder. A path that names an unset variable cannot be checked, so it is left alone.
import * as nodePath from 'node:path';
import { allKeyPaths } from './schema';

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
  text = text.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (_m, braced: string | undefined, bare: string | undefined) => {
      const name = braced ?? bare ?? '';
      const value = env?.[name];
      if (value === undefined) {
        unset.push(name);
        return '';
      }
      return value;
    },
  );
  if (unset.length > 0) return { unset };
  return { absolute: nodePath.resolve(baseDir, text), unset };
}

const VAR = /\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$[A-Za-z_][A-Za-z0-9_]*/;

/**
 * A path as it may be shown (diagnostics, hovers, CLI output): resolved against `baseDir`, but with
 * `$VAR`/`${VAR}` kept as names. A variable's value may be a secret (a token, a private folder);
 * the Problems panel and CI logs must not show it.
 */
export function displayPath(raw: string, baseDir: string, expanded: ExpandedPath): string {
  if (!VAR.test(raw)) return expanded.absolute ?? raw;
  if (raw.startsWith('$') || raw.startsWith('~') || nodePath.isAbsolute(raw)) return raw;
  return nodePath.join(baseDir, raw);
}

export type PathKind = 'file' | 'dir';

export interface PathKey {
  path: readonly string[];
  kind: PathKind;
}

let pathKeyCache: readonly PathKey[] | undefined;

/**
 * Keys whose values are paths relative to the config file, and what they must name: the schema's
 * `x-path` annotations (the one place that says which keys are paths).
 */
export function pathKeys(): readonly PathKey[] {
  pathKeyCache ??= allKeyPaths().flatMap(({ path, node }): PathKey[] => {
    const kind = node['x-path'];
    return kind === 'file' || kind === 'dir' ? [{ path, kind }] : [];
  });
  return pathKeyCache;
}

/** The `x-path` key at `path`, if it is one. */
export function pathKeyAt(path: readonly (string | number)[]): PathKey | undefined {
  return pathKeys().find((k) => k.path.length === path.length && k.path.every((s, i) => s === path[i]));
}

/** Path keys plus `extends` and `output_dir`: structural paths (a config to read, a folder runs create) that the data checks leave alone. */
export function isPathKey(path: readonly (string | number)[]): boolean {
  return pathKeyAt(path) !== undefined || (path.length === 1 && (path[0] === 'extends' || path[0] === 'output_dir'));
}

/** Values that are not paths: built-in model names. */
export function isBuiltinRef(value: string): boolean {
  return value.startsWith('builtin:');
}
