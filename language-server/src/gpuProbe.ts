// Finding and running `nvidia-smi` for the GPU-memory fit check without letting a workspace choose
// the program. Run by bare name, the OS looks it up itself: Windows searches the current folder
// first, and a relative or empty PATH entry means the current folder everywhere. So the tool is
// looked up here, in absolute PATH entries only (then the places NVIDIA's drivers install it), and
// run by its absolute path from a folder no workspace controls.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';

export interface LookupOptions {
  pathEnv: string | undefined;
  platform: NodeJS.Platform;
  /** Windows' list of executable extensions (PATHEXT). */
  pathExt?: string;
  /** Folders searched after PATH (the driver's install places). */
  extraDirs?: readonly string[];
  isExecutable?: (file: string) => boolean;
}

function executable(file: string): boolean {
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) return false;
    if (process.platform === 'win32') return true;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Where NVIDIA's drivers put nvidia-smi when it is not on PATH. */
export function driverDirs(platform: NodeJS.Platform, env: NodeJS.ProcessEnv = process.env): string[] {
  if (platform === 'win32') {
    const sys = env.SystemRoot ?? env.windir ?? 'C:\\Windows';
    const pf = env.ProgramW6432 ?? env.ProgramFiles ?? 'C:\\Program Files';
    return [nodePath.win32.join(sys, 'System32'), nodePath.win32.join(pf, 'NVIDIA Corporation', 'NVSMI')];
  }
  return ['/usr/bin', '/usr/local/bin', '/usr/local/nvidia/bin', '/opt/nvidia/bin'];
}

/** The absolute path of `name`, from absolute PATH entries and `extraDirs` only; undefined if absent. */
export function findExecutable(name: string, opts: LookupOptions): string | undefined {
  const pathMod = opts.platform === 'win32' ? nodePath.win32 : nodePath.posix;
  const sep = opts.platform === 'win32' ? ';' : ':';
  const exts = opts.platform === 'win32' ? (opts.pathExt ?? '.COM;.EXE;.BAT;.CMD').split(';').filter((e) => e !== '') : [''];
  // Batch files run through cmd.exe, which searches the current folder again: executables only.
  const allowed = opts.platform === 'win32' ? exts.filter((e) => /^\.(exe|com)$/i.test(e)) : exts;
  const isExe = opts.isExecutable ?? executable;
  const dirs = [...(opts.pathEnv ?? '').split(sep), ...(opts.extraDirs ?? [])]
    .map((d) => (opts.platform === 'win32' ? d.replace(/^"(.*)"$/, '$1') : d))
    .filter((d) => d !== '' && pathMod.isAbsolute(d) && !(opts.platform === 'win32' && /^[\\/](?![\\/])/.test(d)));
  for (const dir of dirs) {
    for (const ext of allowed) {
      const candidate = pathMod.join(dir, name + ext);
      if (isExe(candidate)) return candidate;
    }
  }
  return undefined;
}

/**
 * The smallest GPU's memory in GiB and how many GPUs there are, from nvidia-smi found as above and
 * run from the temp folder; undefined (through `done`) when there is no tool or no GPU.
 */
export function probeGpuMemory(done: (gib: number | undefined, count?: number) => void, env: NodeJS.ProcessEnv = process.env): void {
  const tool = findExecutable('nvidia-smi', {
    pathEnv: env.PATH ?? env.Path,
    platform: process.platform,
    pathExt: env.PATHEXT,
    extraDirs: driverDirs(process.platform, env),
  });
  if (!tool) {
    done(undefined);
    return;
  }
  execFile(
    tool,
    ['--query-gpu=memory.total', '--format=csv,noheader,nounits'],
    { timeout: 5000, cwd: os.tmpdir(), windowsHide: true },
    (err, stdout) => {
      if (err) {
        done(undefined);
        return;
      }
      const mib = stdout
        .split('\n')
        .map((l) => Number(l.trim()))
        .filter((n) => Number.isFinite(n) && n > 0);
      if (mib.length === 0) done(undefined);
      else done(Math.min(...mib) / 1024, mib.length);
    },
  );
}
