// Which process may be signalled to stop a run. run.json names every launch of a run (the first and
// each --resume) by host, pid and process start time (Linux) or a per-launch nonce; only the latest
// launch is a candidate, and only while the process with that pid is still the one that launched.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { RunManifest } from '../protocol';

export type Launch = NonNullable<RunManifest['launches']>[number];

/** The environment variable the trainer echoes into run.json as the launch's `nonce`. */
export const LAUNCH_NONCE_ENV = 'FACT_RLHF_LAUNCH_NONCE';

interface ProcStat {
  state: string;
  startTime: number;
}

/** Linux: /proc/<pid>/stat's state (field 3) and start time (field 22); undefined if there is no such process. */
function procStat(pid: number): ProcStat | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // Field 2 is the command name in parentheses and may itself hold spaces and ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const startTime = Number(fields[19]);
  return Number.isInteger(startTime) ? { state: fields[0], startTime } : undefined;
}

/** Linux: a process's start time in clock ticks since boot (/proc/<pid>/stat field 22); undefined if gone. */
export function processStartTime(pid: number): number | undefined {
  const stat = procStat(pid);
  // A zombie has exited; it only waits to be reaped (a re-parented trainer may wait a while).
  return stat && stat.state !== 'Z' && stat.state !== 'X' ? stat.startTime : undefined;
}

export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid < 2) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return process.platform !== 'linux' || processStartTime(pid) !== undefined;
}

export type LaunchCheck = { ok: true; pid: number } | { ok: false; alive: boolean; reason: string };

export interface LaunchCheckOptions {
  /** The nonce this editor gave the launch, when it launched it (the check on systems without /proc). */
  nonce?: string;
  platform?: NodeJS.Platform;
  host?: string;
}

/**
 * Whether `launch` is still running as the same process, and so may be signalled. pid 0, 1 and
 * negatives are never accepted: `kill(-1)` or a container's init would reach unrelated processes.
 */
export function checkLaunch(launch: Launch, options: LaunchCheckOptions = {}): LaunchCheck {
  const { pid } = launch;
  if (!Number.isInteger(pid) || pid < 2) return { ok: false, alive: false, reason: `pid ${pid} is not a trainer's` };
  const host = options.host ?? hostname();
  if (launch.host !== host) return { ok: false, alive: false, reason: `the trainer runs on ${launch.host}, not on ${host}` };
  if ((options.platform ?? process.platform) === 'linux') {
    const started = processStartTime(pid);
    if (started === undefined) return { ok: false, alive: false, reason: `the trainer (pid ${pid}) has exited` };
    if (launch.start_time === undefined || launch.start_time === null) {
      return { ok: false, alive: true, reason: `run.json records no start time for pid ${pid}: cannot tell it is still the trainer` };
    }
    if (started !== launch.start_time) {
      return { ok: false, alive: false, reason: `pid ${pid} now belongs to another process (the trainer has exited)` };
    }
    return { ok: true, pid };
  }
  if (!isAlive(pid)) return { ok: false, alive: false, reason: `the trainer (pid ${pid}) has exited` };
  if (!options.nonce || launch.nonce !== options.nonce) {
    return { ok: false, alive: true, reason: `cannot confirm pid ${pid} is still the trainer (no matching launch nonce)` };
  }
  return { ok: true, pid };
}

/** The latest launch run.json names, if it names any (manifests before launch identities did not). */
export function latestLaunch(manifest: RunManifest | undefined): Launch | undefined {
  const launches = manifest?.launches;
  return launches && launches.length ? launches[launches.length - 1] : undefined;
}
