// Our own run folders (DESIGN.md §3) behind the same interface: events.jsonl through EventFileReader.
import type { MetricReader, ReaderBatch } from './types';
import { EventFileReader } from '../eventReader';
import { eventsPath } from '../runDirectory';

export class RunFolderReader implements MetricReader {
  readonly format = 'run' as const;
  readonly renamed: ReadonlyMap<string, string> = new Map();
  private readonly reader: EventFileReader;

  /** `path`: a run folder, or its events.jsonl. */
  constructor(
    readonly path: string,
    isEventsFile = false,
  ) {
    this.reader = new EventFileReader(isEventsFile ? path : eventsPath(path));
  }

  get corruptCount(): number {
    return this.reader.corruptCount;
  }

  readNew(): ReaderBatch {
    const r = this.reader.readNew();
    return { events: r.events, corrupt: r.corrupt.length };
  }
}
