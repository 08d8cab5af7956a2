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
  let rename = false;
  for (const key in values) if (table.has(key)) rename = true;
  if (!rename) return values;
  // Build a fresh object (no `delete`: it would turn the object into a slow dictionary).
  const out: Record<string, number | null> = {};
  for (const key in values) {
    const ours = table.get(key);
    const prior = ours === undefined ? undefined : renamed.get(ours);
    if (ours === undefined || ours in values || (prior !== undefined && prior !== key)) {
      out[key] = values[key]; // no alias, our own name present, or another foreign name feeds it
      continue;
    }
    out[ours] = values[key];
    if (prior === undefined) renamed.set(ours, key);
  }
  return out;
}
