// One interface for every source of metrics — our run folders, TensorBoard event files, veRL/TRL JSONL
// logs, TRL/HF trainer_state.json, LLaVA-RLHF and veRL rollout dumps. Each produces our RunEvent model (metric events keyed `group/name`,
// foreign names mapped through schema/metric-aliases.json), so RunSeries, the health rules, the panel
// and the CLI never learn where a run came from.
import type { RunEvent } from '../../protocol';

export type SourceFormat = 'run' | 'tensorboard' | 'jsonl' | 'trainer-state' | 'llava-rollouts' | 'verl-rollouts';

export interface ReaderBatch {
  events: RunEvent[];
  /** Corrupt records or lines skipped in this read (counted, never fatal). */
  corrupt: number;
}

export interface MetricReader {
  readonly format: SourceFormat;
  readonly path: string;
  /** What was appended since the last call (incremental: live logs are read as they grow). */
  readNew(): ReaderBatch;
  /** Corrupt records or lines skipped so far. */
  readonly corruptCount: number;
  /** Renames applied so far: our key → the source's own name. */
  readonly renamed: ReadonlyMap<string, string>;
}

export class SourceError extends Error {}
