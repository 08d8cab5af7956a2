// What the trace view calls each run: its config's name (not a folder's truncated timestamp), and,
// when several runs are overlaid, the config values that tell them apart (`ppo.kl_coef=0.1`).
import { basename } from 'node:path';
import type { RunManifest } from '../protocol';

export interface RunLabel {
  /** The experiment's `name`, else the config file's stem, else the run id. */
  name: string;
  /** `key=value` for the resolved-config values in which this run differs from the others shown. */
  differs: string[];
}

/** Keys that differ between any two runs without saying anything about the experiment. */
const IGNORED = new Set(['name', 'output_dir', 'version', 'extends']);
const MAX_DIFFS = 3;

type Flat = Map<string, string>;

function flatten(value: unknown, prefix: string, out: Flat): void {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix && !IGNORED.has(prefix.split('.')[0])) {
    out.set(prefix, typeof value === 'string' ? value : JSON.stringify(value));
  }
}

function stem(path: string): string {
  return basename(path).replace(/\.rlhf\.ya?ml$|\.ya?ml$/, '');
}

function show(value: string | undefined): string {
  if (value === undefined) return 'unset';
  // A long path says its last part: the folder or checkpoint a run used.
  return value.length > 28 && value.includes('/') ? `…/${basename(value)}` : value;
}

function localTime(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** Labels for runs shown together; `manifests` in display order (undefined: not written yet). */
export function runLabels(runs: ReadonlyArray<{ runId: string; manifest: RunManifest | undefined }>): Map<string, RunLabel> {
  const flats = runs.map((r) => {
    const flat: Flat = new Map();
    if (r.manifest) flatten(r.manifest.config, '', flat);
    return flat;
  });
  const known = runs.map((r) => r.manifest !== undefined);
  const keys = new Set<string>();
  for (const f of flats) for (const k of f.keys()) keys.add(k);
  // Keys whose values are not all the same among the runs whose configs are known.
  const differing = [...keys].filter((k) => {
    const values = new Set(flats.filter((_, i) => known[i]).map((f) => f.get(k)));
    return values.size > 1;
  });
  const out = new Map<string, RunLabel>();
  runs.forEach((r, i) => {
    const config = (r.manifest?.config ?? {}) as { name?: unknown };
    const name =
      typeof config.name === 'string' && config.name ? config.name : r.manifest?.config_path ? stem(r.manifest.config_path) : r.runId;
    const differs = known[i] ? differing.slice(0, MAX_DIFFS).map((k) => `${k}=${show(flats[i].get(k))}`) : [];
    out.set(r.runId, { name, differs });
  });
  // Same name and nothing in the config to tell them apart: the start time does.
  const byName = new Map<string, string[]>();
  for (const [id, l] of out) byName.set(l.name, [...(byName.get(l.name) ?? []), id]);
  for (const ids of byName.values()) {
    if (ids.length < 2) continue;
    for (const id of ids) {
      const label = out.get(id) as RunLabel;
      const started = runs.find((r) => r.runId === id)?.manifest?.started;
      if (label.differs.length === 0 && started) label.differs = [`started ${localTime(started)}`];
    }
  }
  return out;
}
