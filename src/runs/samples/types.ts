// The host side of the sample inspector and of `fact-rlhf samples`: a sample source is one file or
// folder of samples (ours or a peer trainer's) behind a byte-offset index. Opening one reads no
// record in full; a query parses only the records it needs (and caches the sort keys it computed).
import type {
  CompareResult,
  InspectorRecord,
  QueryParams,
  QueryResult,
  SampleFormat,
  TimelinePoint,
} from '../../protocol/webviews/sampleInspector';

export interface SampleSourceInfo {
  format: SampleFormat;
  /** The file or folder opened. */
  path: string;
  /** The run folder it belongs to, when it does (images, labels/ and run.json are there). */
  runDir: string | null;
  title: string;
  total: number;
  steps: number[];
  captionTypes: number[];
  /** Corrupt lines/records skipped so far, with where the first few were (file:line). */
  corrupt: number;
  corruptAt: string[];
}

export interface SampleSource {
  info(): SampleSourceInfo;
  /** Picks up appended lines and new step files (a live run); returns whether anything was added. */
  refresh(): Promise<boolean>;
  query(params: QueryParams): Promise<QueryResult>;
  /** One record by index (image as an absolute path), or undefined when out of range. */
  record(index: number): Promise<InspectorRecord | undefined>;
  /** Every record of one prompt, by step. */
  timeline(promptId: string): Promise<TimelinePoint[]>;
  /** The step present in this source nearest to `step` (ties: the earlier), or null when empty. */
  nearestStep(step: number): number | null;
  /** For each prompt id, its first record at `step`, or null. */
  recordsFor(step: number, promptIds: string[]): Promise<(InspectorRecord | null)[]>;
  close(): void;
}

export type { CompareResult };
