// `--resume`: which run folder to continue. With `--run-dir` it must be a run with a checkpoint;
// without it, the newest run of the same config and stage (named by runNaming, under the config's
// output folder) that has one. Checked before anything is created or started: the trainer would
// otherwise find out only after a fresh run folder was made.
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { RunManifest, Stage } from '../protocol';
import { MANIFEST_FILE, readManifest } from '../runs/runDirectory';
import { LATEST_CHECKPOINT, latestCheckpoint } from '../runs/runCatalog';
import { configOutputDir, runsOfConfig } from '../runs/configRuns';

/** The trainer's pointer to the checkpoint a resume continues from (checkpoint.py `LATEST`). */
const LATEST = LATEST_CHECKPOINT;

export { latestCheckpoint };

export class ResumeError extends Error {}

export interface ResumeChoice {
  runDir: string;
  /** The checkpoint folder's name (`step-40`). */
  checkpoint: string;
  /** One line for the user: which run and why that one. */
  note: string;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function manifestOf(dir: string): RunManifest | undefined {
  try {
    return readManifest(dir);
  } catch {
    return undefined; // unreadable manifests are not runs we can continue
  }
}

/** A run whose trainer is still alive must not get a second one writing into it. */
function isLive(m: RunManifest): boolean {
  return (m.status === 'starting' || m.status === 'running') && m.pids.some(isAlive);
}

interface Options {
  configPath: string;
  stage: Stage;
  runDir?: string;
  outputDir?: string;
}

export function chooseResumeRun(opts: Options): ResumeChoice {
  // The trainer's eval stage writes no checkpoint: a stopped evaluation starts over.
  if (opts.stage === 'eval')
    throw new ResumeError('--resume: an eval run has no checkpoint to continue from; run `fact-rlhf eval CONFIG` again without --resume');
  if (opts.runDir) return explicitRun(resolve(opts.runDir), opts.stage);
  const configPath = resolve(opts.configPath);
  const outputDir = configOutputDir(configPath, opts.stage, opts.outputDir);
  const candidates = runsOfConfig(configPath, opts.stage, opts.outputDir).map(({ dir, manifest: m }) => ({
    dir,
    started: m.started,
    checkpoint: latestCheckpoint(dir),
    live: isLive(m),
  }));
  const usable = candidates.find((c) => c.checkpoint && !c.live);
  if (!usable) {
    const what = `${opts.stage} run of ${basename(configPath)}`;
    const seen = candidates.length
      ? ` (${candidates.length} ${opts.stage} run${candidates.length === 1 ? '' : 's'} of it there, none with a checkpoint${candidates.some((c) => c.live) ? ' that is not still running' : ''})`
      : '';
    throw new ResumeError(
      `--resume: no ${what} with a checkpoint (checkpoints/${LATEST}) under ${outputDir}${seen}; start a new run without --resume, or name the run with --run-dir`,
    );
  }
  const newest = candidates[0];
  const why =
    newest === usable
      ? 'the newest'
      : `the newest with a checkpoint (${basename(newest.dir)} is newer but ${newest.live ? 'still running' : 'has none'})`;
  return {
    runDir: usable.dir,
    checkpoint: usable.checkpoint as string,
    note: `resuming ${usable.dir}: ${why} ${opts.stage} run of ${basename(configPath)}, from checkpoint ${usable.checkpoint}`,
  };
}

export function explicitRun(runDir: string, stage: Stage): ResumeChoice {
  if (!existsSync(join(runDir, MANIFEST_FILE))) {
    throw new ResumeError(`--resume: ${runDir} is not a run folder (no ${MANIFEST_FILE}); --run-dir must name the run to continue`);
  }
  const m = manifestOf(runDir);
  if (m && m.stage !== stage) throw new ResumeError(`--resume: ${runDir} is a ${m.stage} run, not a ${stage} run`);
  if (m && isLive(m)) throw new ResumeError(`--resume: ${runDir} is still running (pid ${m.pids.join(', ')})`);
  const checkpoint = latestCheckpoint(runDir);
  if (!checkpoint) throw new ResumeError(`--resume: ${runDir} has no checkpoint (checkpoints/${LATEST}) to continue from`);
  return { runDir, checkpoint, note: `resuming ${runDir} from checkpoint ${checkpoint}` };
}
