// `fact-rlhf runs [DIR] [--json]`: the runs under DIR (default: the current folder) with status,
// stage, progress and headline figure. DIR may be a run folder, an output folder holding run
// folders, or a folder of experiment configs (their output folders are listed, as the runs view does).
import { existsSync, readdirSync, statSync, type Dirent } from 'node:fs';
import { join, resolve } from 'node:path';
import { formatAge } from '../runs/duration';
import { RunCatalog, type RunInfo } from '../runs/runCatalog';
import { MANIFEST_FILE, listRunDirectories } from '../runs/runDirectory';
import { configOutputDir } from '../runs/configRuns';

const CONFIG_SUFFIX = '.rlhf.yaml';
const SKIP = new Set(['node_modules', '.git', '.venv', 'dist']);

/** Experiment configs under `dir`, a few levels deep (the CLI has no workspace index). */
export function findConfigs(dir: string, depth = 3): string[] {
  const out: string[] = [];
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const full = join(dir, e.name);
    if (e.isFile() && e.name.endsWith(CONFIG_SUFFIX)) out.push(full);
    else if (e.isDirectory() && depth > 0 && !SKIP.has(e.name) && !e.name.startsWith('.')) out.push(...findConfigs(full, depth - 1));
  }
  return out;
}

/** The run folders DIR stands for, de-duplicated, newest first within each output folder. */
export function runFoldersOf(dir: string): string[] {
  const abs = resolve(dir);
  if (existsSync(join(abs, MANIFEST_FILE))) return [abs];
  const direct = listRunDirectories(abs);
  if (direct.length) return direct;
  const seen = new Set<string>();
  const out: string[] = [];
  for (const config of findConfigs(abs)) {
    for (const run of listRunDirectories(configOutputDir(config))) {
      if (!seen.has(run)) out.push(run);
      seen.add(run);
    }
  }
  return out;
}

export function runRow(r: RunInfo, nowMs = Date.now()): Record<string, unknown> {
  return {
    id: r.id,
    dir: r.dir,
    stage: r.stage ?? null,
    status: r.state,
    live: r.live,
    progress: r.progress ? { step: r.progress.step, total: r.progress.total } : null,
    headline: r.headline ?? null,
    checkpoint: r.checkpoint ?? null,
    started: r.started ?? null,
    ended: r.ended ?? null,
    age_seconds: Math.round((nowMs - r.updated) / 1000),
    alarms: r.alarms.map((a) => ({ rule: a.rule, severity: a.severity, step: a.step, message: a.message })),
    error: r.error ?? r.manifestError ?? null,
  };
}

export function progressText(r: RunInfo): string {
  if (!r.progress || !r.progress.total) return r.lastStep >= 0 ? `step ${r.lastStep}` : '-';
  return `${r.progress.step}/${r.progress.total} (${Math.round((100 * r.progress.step) / r.progress.total)}%)`;
}

export function headlineText(r: RunInfo): string {
  if (!r.headline) return '-';
  const v = r.headline.value;
  return `${r.headline.label} ${v === null ? 'NaN' : Number.isInteger(v) ? v : v.toFixed(4)}`;
}

export function runRuns(argv: string[], out = process.stdout, err = process.stderr): number {
  let dir: string | undefined;
  let json = false;
  for (const a of argv) {
    if (a === '--json') json = true;
    else if (a.startsWith('-')) {
      err.write(`error: runs: unknown option ${a}\n`);
      return 2;
    } else if (dir === undefined) dir = a;
    else {
      err.write(`error: runs: unexpected argument ${a}\n`);
      return 2;
    }
  }
  const target = resolve(dir ?? '.');
  try {
    if (!statSync(target).isDirectory()) throw new Error('not a folder');
  } catch {
    err.write(`error: runs: ${target} is not a folder\n`);
    return 2;
  }
  const catalog = new RunCatalog();
  const runs = runFoldersOf(target).map((d) => catalog.read(d));
  const now = Date.now();
  if (json) {
    out.write(`${JSON.stringify(runs.map((r) => runRow(r, now)))}\n`);
    return 0;
  }
  if (!runs.length) {
    out.write(`no runs under ${target}\n`);
    return 0;
  }
  const rows = runs.map((r) => [
    r.id,
    r.stage ?? '?',
    r.state + (r.alarms.length ? ` !${r.alarms.length}` : ''),
    progressText(r),
    headlineText(r),
    formatAge((now - r.updated) / 1000),
  ]);
  const header = ['RUN', 'STAGE', 'STATUS', 'PROGRESS', 'HEADLINE', 'AGE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  for (const row of [header, ...rows]) out.write(`${row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]))).join('  ')}\n`);
  const alarmed = runs.filter((r) => r.alarms.length);
  for (const r of alarmed) for (const a of r.alarms) out.write(`  ${r.id}: ${a.severity} ${a.rule} from step ${a.step}: ${a.message}\n`);
  return 0;
}
