// Hugging Face Trainer's `trainer_state.json` (what TRL's trainers leave in each checkpoint folder): its
// `log_history` is a list of flat records with a `step`. The file is rewritten whole, so each read
// re-parses it when its size changed and hands out only the records past those already seen.
import { readFileSync, statSync } from 'node:fs';
import type { RunEvent } from '../../protocol';
import { recordToEvent, parseLenient } from './jsonl';
import type { MetricReader, ReaderBatch } from './types';
import { SourceError } from './types';

export class TrainerStateReader implements MetricReader {
  readonly format = 'trainer-state' as const;
  readonly renamed = new Map<string, string>();
  corruptCount = 0;
  private seen = 0;
  private size = -1;

  constructor(
    readonly path: string,
    private readonly useAliases = true,
  ) {}

  readNew(): ReaderBatch {
    const size = statSync(this.path).size;
    if (size === this.size) return { events: [], corrupt: 0 };
    this.size = size;
    let state: unknown;
    try {
      state = parseLenient(readFileSync(this.path, 'utf8'));
    } catch (err) {
      throw new SourceError(`${this.path}: not valid JSON (${(err as Error).message})`);
    }
    const history = (state as { log_history?: unknown }).log_history;
    if (!Array.isArray(history)) throw new SourceError(`${this.path}: no log_history list (not a trainer_state.json?)`);
    const events: RunEvent[] = [];
    for (let i = this.seen; i < history.length; i++) {
      const e = recordToEvent(history[i], i, this.renamed, this.useAliases);
      if (e) events.push(e);
    }
    this.seen = history.length;
    return { events, corrupt: 0 };
  }
}
