// Loads a whole run directory into the trace view's data model (used for finished runs and tests),
// through the columnar series cache: a long finished run opens from its cache, and only what the log
// gained since is parsed (see runs/seriesCache.ts).
import { basename } from 'node:path';
import type { RunTraces } from '../protocol';
import { CachedRun, type CachedRunOptions } from '../runs/seriesCache';
import { readManifest } from '../runs/runDirectory';

export async function loadRunTraces(runDir: string, options: CachedRunOptions = {}): Promise<RunTraces> {
  const manifest = readManifest(runDir);
  const run = new CachedRun(runDir, options);
  // The events are folded into run.series slice by slice; none are kept.
  // In slices that yield to the event loop (a cold open of a long run parses hundreds of MB).
  await run.readNewAsync({ final: true, onBatch: () => undefined });
  run.save();
  const series = run.series;
  return {
    runId: manifest?.id ?? basename(runDir),
    runDir,
    stage: manifest?.stage ?? 'ppo',
    status: series.status,
    error: series.error,
    progress: series.progress,
    series: series.snapshot(),
  };
}
