// The GPU-memory fit check's probe: the smallest GPU's memory, from the one nvidia-smi reader the
// launch panel uses too (src/runs/gpus.ts, which finds the tool by absolute path only, so a
// workspace cannot choose the program: see src/runs/executables.ts).
import { listGpus } from '../../src/runs/gpus';

/**
 * The smallest GPU's memory in GiB and how many GPUs there are (the experiment form shows both),
 * from nvidia-smi run from the temp folder; undefined (through `done`) when there is no tool or no GPU.
 */
export function probeGpuMemory(done: (gib: number | undefined, count?: number) => void, env: NodeJS.ProcessEnv = process.env): void {
  void listGpus({ env }).then((report) => {
    const mib = report.kind === 'gpus' ? report.gpus.map((g) => g.memoryTotalMiB).filter((n) => n > 0) : [];
    if (mib.length === 0) done(undefined);
    else done(Math.min(...mib) / 1024, mib.length);
  });
}
