// A setting renamed with a deprecation path: the old key stays contributed with a deprecation
// message (the Settings editor then hides it unless it is set) and keeps working wherever the new
// key is not set, so nobody's settings.json silently stops applying. VS Code-free: it takes what
// WorkspaceConfiguration.inspect() reports, so the precedence is unit-tested in Node.

/** One key's values per scope, as vscode.WorkspaceConfiguration.inspect() reports them. */
export interface ScopedValues {
  defaultValue?: unknown;
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

/** VS Code's own order: a folder's setting beats the workspace's, which beats the user's. */
const MOST_SPECIFIC_FIRST = ['workspaceFolderValue', 'workspaceValue', 'globalValue'] as const;

/**
 * The effective value of a renamed setting. The two keys act as one: the most specific scope where
 * either is set wins (an old key in a workspace's settings.json still beats the new key in the user's
 * settings, as it did before the rename); within one scope the new key wins. A value `valid` rejects
 * (a string typed by hand into settings.json) counts as not set. Neither set: the new key's default,
 * else `fallback`.
 */
export function renamedSettingValue<T>(
  current: ScopedValues | undefined,
  legacy: ScopedValues | undefined,
  fallback: T,
  valid: (value: unknown) => value is T,
): T {
  for (const scope of MOST_SPECIFIC_FIRST) {
    for (const values of [current, legacy]) {
      const value = values?.[scope];
      if (valid(value)) return value;
    }
  }
  const byDefault = current?.defaultValue;
  return valid(byDefault) ? byDefault : fallback;
}
