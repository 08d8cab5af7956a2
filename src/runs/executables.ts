// Finding a tool (nvidia-smi, sbatch) without letting a workspace choose the program. Run by bare
// name, the OS looks it up itself: Windows searches the current folder first, and a relative or
// empty PATH entry means the current folder everywhere. So tools are looked up here, in absolute
// PATH entries only (then the places their installers use), and run by their absolute path from a
// folder no workspace controls. The language server's GPU probe and the launch backends share it.
import * as fs from 'node:fs';
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

/** `name` looked up on this process's PATH (absolute entries only), then in `extraDirs`. */
export function findTool(name: string, env: NodeJS.ProcessEnv = process.env, extraDirs: readonly string[] = []): string | undefined {
  return findExecutable(name, { pathEnv: env.PATH ?? env.Path, platform: process.platform, pathExt: env.PATHEXT, extraDirs });
}
