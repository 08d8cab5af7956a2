// Pointed at an rm run folder, the scorer uses `<run>/onnx/`, exporting it first (the trainer's
// `export-rm-onnx`, spawned with an argument array) when there is none or it is older than the
// run's checkpoint.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { resolvePython } from '../runs/pythonResolver';
import { RM_FILE, RM_VERSION, readRmSpec, ScoringError } from './modelSpec';

export const EXPORT_FOLDER = 'onnx';
// The checkpoint files whose change makes an export stale (export/rm_spec.py checkpoint_files).
const WEIGHT_FILES = [join('reward', 'adapter_model.safetensors'), 'heads.safetensors'];

export interface ExportProgress {
  phase: 'checking' | 'exporting' | 'exported' | 'current';
  message: string;
}

export interface ExportOptions {
  /** Python interpreter with the trainer's packages (default: resolvePython over the cwd's .venv). */
  python?: string;
  /** The folder holding the `fact_rlhf` package (default: the repository's trainer/). */
  trainerRoot?: string;
  onProgress?: (p: ExportProgress) => void;
  signal?: AbortSignal;
}

/** The folder above this module that holds trainer/ (the repo, or the installed extension). */
export function defaultTrainerRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'trainer', 'fact_rlhf'))) return join(dir, 'trainer');
    dir = dirname(dir);
  }
  return join(dirname(__dirname), 'trainer');
}

function readJson(file: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new ScoringError(`${file}: cannot read: ${(err as Error).message}`, file);
  }
}

/** The checkpoint a run stands for, as the trainer resolves it (stages/sources.run_checkpoint). */
export function runCheckpoint(runDir: string): string {
  const manifest = readJson(join(runDir, 'run.json'));
  const checkpoints = join(runDir, 'checkpoints');
  if (manifest.stage === 'rm' && existsSync(join(checkpoints, 'best'))) return join(checkpoints, 'best');
  const pointer = join(checkpoints, 'latest');
  if (!existsSync(pointer))
    throw new ScoringError(`${runDir} is a ${String(manifest.stage)} run without a checkpoint yet (no checkpoints/latest)`, pointer);
  return join(checkpoints, readFileSync(pointer, 'utf8').trim());
}

/** Why `exportDir` does not (or no longer) match the run's checkpoint; null when it does. */
export function staleness(runDir: string, exportDir: string): string | null {
  const specFile = join(exportDir, RM_FILE);
  if (!existsSync(specFile)) return `no export yet (${specFile})`;
  const raw = readJson(specFile);
  if (raw.version !== RM_VERSION) return `${specFile} is format version ${JSON.stringify(raw.version)}, not ${RM_VERSION}`;
  const spec = readRmSpec(exportDir);
  if (!existsSync(join(exportDir, spec.model))) return `no ${spec.model} in ${exportDir}`;
  const checkpoint = runCheckpoint(runDir);
  if (resolve(spec.source.checkpoint) !== resolve(checkpoint))
    return `the run's checkpoint is now ${checkpoint} (exported: ${spec.source.checkpoint})`;
  const newest = Math.max(...WEIGHT_FILES.map((f) => statSync(join(checkpoint, f)).mtimeMs / 1000));
  // mtimes written by Python as float seconds: allow for its rounding, not for a real save.
  if (newest > spec.source.fingerprint.mtime + 1e-3) return `${checkpoint} was saved after the export`;
  return null;
}

function isRunFolder(path: string): boolean {
  return existsSync(join(path, 'run.json'));
}

/** The export folder for `path` (an export, or an rm/ppo run folder exported on demand). */
export async function ensureExport(path: string, opts: ExportOptions = {}): Promise<string> {
  const dir = resolve(path);
  if (!isRunFolder(dir)) return dir; // an export folder (readRmSpec names what is wrong with it)
  const stage = readJson(join(dir, 'run.json')).stage;
  if (stage !== 'rm' && stage !== 'ppo') {
    throw new ScoringError(
      `${join(dir, 'run.json')}: a ${String(stage)} run has no reward model (point at an rm run or an export)`,
      join(dir, 'run.json'),
    );
  }
  const exportDir = join(dir, EXPORT_FOLDER);
  opts.onProgress?.({ phase: 'checking', message: `checking ${exportDir} against ${dir}'s checkpoint` });
  const why = staleness(dir, exportDir);
  if (why === null) {
    opts.onProgress?.({ phase: 'current', message: `${exportDir} is current` });
    return exportDir;
  }
  opts.onProgress?.({ phase: 'exporting', message: `exporting the reward model: ${why}` });
  await runExport(dir, exportDir, opts);
  opts.onProgress?.({ phase: 'exported', message: `exported to ${exportDir}` });
  return exportDir;
}

function runExport(runDir: string, exportDir: string, opts: ExportOptions): Promise<void> {
  const python = opts.python ?? resolvePython({ venvRoots: [process.cwd(), dirname(defaultTrainerRoot())] }).path;
  const trainerRoot = opts.trainerRoot ?? defaultTrainerRoot();
  const args = ['-m', 'fact_rlhf', 'export-rm-onnx', '--run-dir', runDir, '--out', exportDir];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(python, args, {
      env: { ...process.env, PYTHONPATH: [trainerRoot, process.env.PYTHONPATH].filter(Boolean).join(delimiter), PYTHONUNBUFFERED: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
      signal: opts.signal,
    });
    const tail: string[] = [];
    let partial = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 20) tail.shift();
        opts.onProgress?.({ phase: 'exporting', message: line });
      }
    });
    child.on('error', (err) => {
      reject(
        (err as NodeJS.ErrnoException).code === 'ENOENT'
          ? new ScoringError(`Python interpreter not found: ${python} (needed to export ${runDir})`)
          : err.name === 'AbortError'
            ? err
            : new ScoringError(`export of ${runDir} could not start: ${err.message}`),
      );
    });
    child.on('close', (code) => {
      if (partial.trim()) tail.push(partial);
      if (code === 0) resolvePromise();
      else if (!opts.signal?.aborted)
        reject(new ScoringError(`export of ${runDir} failed (exit ${code}):\n${tail.slice(-8).join('\n')}`, runDir));
    });
  });
}
