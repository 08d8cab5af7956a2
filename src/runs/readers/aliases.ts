// Other trainers' metric names → ours, from schema/metric-aliases.json (data, not code, so a new
// trainer's names are one JSON edit). Our own names pass through unchanged.
import aliasFile from '../../../schema/metric-aliases.json';

const table = new Map<string, string>();
for (const group of Object.values(aliasFile.aliases as Record<string, Record<string, string>>)) {
  for (const [theirs, ours] of Object.entries(group)) if (!table.has(theirs)) table.set(theirs, ours);
}

/** Maps a foreign metric name to ours; undefined when it has no alias (the name is kept as it is). */
export function aliasOf(name: string): string | undefined {
  return table.get(name);
}

/** Renames keys with known aliases; records each rename in `renamed` (ours → theirs). A foreign key whose
 * alias target is also present under our own name keeps its foreign name (never two sources in one series). */
export function applyAliases(values: Record<string, number | null>, renamed: Map<string, string>): Record<string, number | null> {
  let out: Record<string, number | null> | undefined;
  for (const key in values) {
    const ours = table.get(key);
    if (ours === undefined || ours in values) continue;
    const prior = renamed.get(ours);
    if (prior !== undefined && prior !== key) continue; // another foreign name already feeds this series
    out ??= { ...values };
    out[ours] = values[key];
    delete out[key];
    renamed.set(ours, key);
  }
  return out ?? values;
}
