// Submits a launch plan's sbatch script (launchPlan.ts) to Slurm: the script is written into the run
// folder first, then `sbatch --parsable FILE` runs by absolute path with an argument array (no shell:
// nothing in a path or a config is evaluated on this side; the script quotes everything itself).
// Without sbatch on PATH the result says so and points at the script to copy. The run folder is then
// watched like any other (the caller's job): the trainer writes run.json there once the job starts.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { findTool } from './executables';
import type { SlurmJob } from './launchPlan';

export type SlurmSubmission =
  | {
      ok: true;
      jobId: string;
      /** `--parsable` prints `id;cluster` on a multi-cluster setup. */ cluster: string | null;
      runDir: string;
      scriptPath: string;
    }
  | { ok: false; reason: string; runDir: string; scriptPath: string | null };

export interface SubmitOptions {
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** `--parsable` output: the job id (digits, maybe `_N` for an array), optionally `;cluster`. */
export function parseSbatchOutput(stdout: string): { jobId: string; cluster: string | null } | undefined {
  const line = stdout.split(/\r?\n/).find((l) => l.trim() !== '');
  const m = /^\s*(\d+(?:_\d+)?)(?:;([A-Za-z0-9_.-]+))?\s*$/.exec(line ?? '');
  return m ? { jobId: m[1], cluster: m[2] ?? null } : undefined;
}

export function submitSlurm(job: SlurmJob, opts: SubmitOptions = {}): Promise<SlurmSubmission> {
  const env = opts.env ?? process.env;
  const sbatch = findTool('sbatch', env);
  if (!sbatch)
    return Promise.resolve({
      ok: false,
      reason: 'sbatch not found on PATH: copy the script and submit it with `sbatch FILE` on a machine of the cluster',
      runDir: job.runDir,
      scriptPath: null,
    });
  try {
    mkdirSync(job.runDir, { recursive: true });
    writeFileSync(job.scriptPath, job.script, { encoding: 'utf8', mode: 0o700 });
  } catch (e) {
    return Promise.resolve({
      ok: false,
      reason: `cannot write ${job.scriptPath}: ${(e as Error).message}`,
      runDir: job.runDir,
      scriptPath: null,
    });
  }
  return new Promise((done) => {
    execFile(
      sbatch,
      ['--parsable', job.scriptPath],
      { cwd: job.runDir, env, timeout: opts.timeoutMs ?? 60_000, windowsHide: true },
      (err, stdout, stderr) => {
        const base = { runDir: job.runDir, scriptPath: job.scriptPath };
        if (err) {
          const why = String(stderr).trim() || err.message;
          done({ ok: false, reason: `sbatch refused the job: ${why}`, ...base });
          return;
        }
        const parsed = parseSbatchOutput(String(stdout));
        if (!parsed) done({ ok: false, reason: `sbatch printed no job id: ${JSON.stringify(String(stdout).slice(0, 200))}`, ...base });
        else done({ ok: true, ...parsed, ...base });
      },
    );
  });
}
