// Loads a whole run directory into the trace view's data model (used for finished runs and tests).
import { basename } from 'node:path';
import type { RunTraces } from '../protocol';
import { EventFileReader } from '../runs/eventReader';
import { RunSeries } from '../runs/runSeries';
import { eventsPath, readManifest } from '../runs/runDirectory';

export async function loadRunTraces(runDir: string): Promise<RunTraces> {
  const manifest = readManifest(runDir);
  const reader = new EventFileReader(eventsPath(runDir));
  const series = new RunSeries();
  // In slices that yield to the event loop (a finished run can be hundreds of MB), final line included.
  await reader.readNewAsync({ final: true, onBatch: (batch) => series.apply(batch.events) });
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
