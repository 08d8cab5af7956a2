// The GPUs of this machine as nvidia-smi reports them (index, name, memory total/free), for the
// experiment form's GPU picker and memory verdict and for the language server's fit check. nvidia-smi
// is found by absolute path (executables.ts) and run from the temp folder with an argument array.
// Anything but well-formed rows (no tool, a driver that cannot be reached, garbage) is "no GPU: CPU",
// with nvidia-smi's own words kept as the detail.
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { driverDirs, findTool } from './executables';

export interface GpuInfo {
  index: number;
  name: string;
  /** MiB, as nvidia-smi reports with `nounits`. */
  memoryTotalMiB: number;
  memoryFreeMiB: number;
}

export type GpuReport =
  | { kind: 'gpus'; gpus: GpuInfo[]; /** Rows that could not be read (kept out of `gpus`). */ skipped: string[] }
  | { kind: 'none'; /** What the form shows. */ label: 'no GPU: CPU'; /** Why: no tool, or nvidia-smi's message. */ detail: string };

export const NO_GPU_LABEL = 'no GPU: CPU';

/** The query and the format the parser expects, in this order. */
export const NVIDIA_SMI_ARGS: readonly string[] = ['--query-gpu=index,name,memory.total,memory.free', '--format=csv,noheader,nounits'];

const none = (detail: string): GpuReport => ({ kind: 'none', label: NO_GPU_LABEL, detail });

/** A MiB figure: a plain non-negative number (nvidia-smi writes `[N/A]` or `[Not Supported]` when it has none). */
function mib(text: string | undefined): number | undefined {
  const t = text?.trim() ?? '';
  if (!/^\d+(\.\d+)?$/.test(t)) return undefined;
  return Number(t);
}

/**
 * Reads `NVIDIA_SMI_ARGS` output: one `index, name, total, free` row per GPU. The name may hold
 * commas, so the fields are taken from both ends. A row that does not fit is skipped and named;
 * output with no row that fits (an error message on stdout, an empty list) is "none".
 */
export function parseNvidiaSmi(stdout: string): GpuReport {
  const gpus: GpuInfo[] = [];
  const skipped: string[] = [];
  const lines = stdout
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  for (const line of lines) {
    const parts = line.split(',');
    const index = parts.length >= 4 ? parts[0].trim() : '';
    const total = mib(parts[parts.length - 2]);
    const free = mib(parts[parts.length - 1]);
    const name = parts.slice(1, -2).join(',').trim();
    if (!/^\d+$/.test(index) || total === undefined || free === undefined || !name) {
      skipped.push(line);
      continue;
    }
    gpus.push({ index: Number(index), name, memoryTotalMiB: total, memoryFreeMiB: free });
  }
  if (gpus.length === 0) return none(lines.length ? lines.slice(0, 3).join(' ') : 'nvidia-smi listed no GPU');
  return { kind: 'gpus', gpus, skipped };
}

export interface ListGpuOptions {
  env?: NodeJS.ProcessEnv;
  /** The nvidia-smi to run (tests); default: found on PATH, then in the driver's folders. */
  tool?: string;
  timeoutMs?: number;
}

/** Runs nvidia-smi (never through a shell) and parses what it printed; resolves, never rejects. */
export function listGpus(opts: ListGpuOptions = {}): Promise<GpuReport> {
  const env = opts.env ?? process.env;
  const tool = opts.tool ?? findTool('nvidia-smi', env, driverDirs(process.platform, env));
  if (!tool) return Promise.resolve(none('nvidia-smi not found (no NVIDIA driver on PATH or in its install folders)'));
  return new Promise((done) => {
    execFile(
      tool,
      [...NVIDIA_SMI_ARGS],
      { timeout: opts.timeoutMs ?? 5000, cwd: tmpdir(), windowsHide: true, env },
      (err, stdout, stderr) => {
        // A failing nvidia-smi ("couldn't communicate with the NVIDIA driver") says why on stdout.
        if (err) done(none(`${String(stdout).trim() || String(stderr).trim() || err.message}`.split(/\r?\n/)[0]));
        else done(parseNvidiaSmi(String(stdout)));
      },
    );
  });
}

/** What the form's picker and the memory verdict read: one line per GPU, or the CPU line. */
export function describeGpus(report: GpuReport): string[] {
  if (report.kind === 'none') return [NO_GPU_LABEL];
  return report.gpus.map(
    (g) => `GPU ${g.index}: ${g.name}, ${(g.memoryTotalMiB / 1024).toFixed(1)} GiB (${(g.memoryFreeMiB / 1024).toFixed(1)} GiB free)`,
  );
}
