// TensorBoard event files (what TRL, OpenRLHF and veRL log through SummaryWriter) as our metric events.
// TFRecord framing: u64 length, masked CRC-32C of those 8 bytes, the data, masked CRC-32C of the data.
// Both CRCs are checked. A record whose data CRC fails is skipped and counted; a header whose CRC fails
// means the framing is lost, so the reader scans forward for the next valid header (counted once). A
// record cut short at the end of the file is left for the next read (the writer is still writing).
import { closeSync, fstatSync, openSync, readSync, readdirSync, statSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import type { MetricEvent, RunEvent } from '../../protocol';
import { PROTOCOL_VERSION } from '../../protocol';
import { maskedCrc32c } from './crc32c';
import { decodeEvent, type DecodedEvent } from './tfEvent';
import { aliasOf } from './aliases';
import type { MetricReader, ReaderBatch } from './types';

const HEADER = 12;
const FOOTER = 4;
/** Plugins whose single-number tensors are not scalars. */
const NON_SCALAR_PLUGINS = new Set(['histograms', 'images', 'audio', 'text', 'pr_curves', 'mesh', 'hparams', 'graph_run_metadata']);

export const isEventFileName = (name: string): boolean => name.includes('tfevents');

/** Event files under a folder (it and up to three levels of subfolders), in name order. */
export function findEventFiles(dir: string, depth = 3): string[] {
  const out: string[] = [];
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isFile() && isEventFileName(e.name)) out.push(p);
    else if (e.isDirectory() && depth > 0) out.push(...findEventFiles(p, depth - 1));
  }
  return out;
}

/** One event file, read incrementally from a byte offset. */
export class TfRecordFile {
  private offset = 0;
  corruptCount = 0;
  /** Plugin of each tag as first declared (TensorBoard writes the metadata once per tag). */
  private readonly plugins = new Map<string, string>();

  constructor(readonly path: string) {}

  /** Calls `onScalar` for each scalar of each complete, intact record appended since the last call.
   * Returns the corrupt count of this read. */
  read(onScalar: (wallTime: number, step: number, tag: string, value: number | null) => void): number {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
    let buf: Buffer;
    try {
      const size = fstatSync(fd).size;
      if (size < this.offset) this.offset = 0; // truncated or replaced: start over
      buf = Buffer.allocUnsafe(size - this.offset);
      let got = 0;
      while (got < buf.length) {
        const n = readSync(fd, buf, got, buf.length - got, this.offset + got);
        if (n <= 0) break;
        got += n;
      }
      buf = buf.subarray(0, got);
    } finally {
      closeSync(fd);
    }
    let corrupt = 0;
    let pos = 0;
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const ev: DecodedEvent = { wallTime: 0, step: 0, scalars: [] };
    let lost = false; // scanning for a header after a broken one
    while (pos + HEADER <= buf.length) {
      const lenLo = buf.readUInt32LE(pos);
      const lenHi = buf.readUInt32LE(pos + 4);
      if (maskedCrc32c(buf, pos, pos + 8) !== buf.readUInt32LE(pos + 8)) {
        if (!lost) corrupt++;
        lost = true;
        pos++;
        continue;
      }
      const length = lenHi * 2 ** 32 + lenLo;
      const end = pos + HEADER + length + FOOTER;
      if (end > buf.length) {
        if (lost) {
          pos++;
          continue;
        }
        break; // a record still being written
      }
      lost = false;
      const dataStart = pos + HEADER;
      const dataEnd = dataStart + length;
      if (maskedCrc32c(buf, dataStart, dataEnd) !== buf.readUInt32LE(dataEnd)) {
        corrupt++;
        pos = end;
        continue;
      }
      try {
        decodeEvent(buf, dataStart, dataEnd, view, ev);
        for (const s of ev.scalars) {
          if (s.plugin) this.plugins.set(s.tag, s.plugin);
          const plugin = s.plugin ?? this.plugins.get(s.tag);
          if (plugin && NON_SCALAR_PLUGINS.has(plugin)) continue;
          onScalar(ev.wallTime, ev.step, s.tag, Number.isFinite(s.value) ? s.value : null);
        }
      } catch {
        corrupt++; // CRC-intact but undecodable: not an Event
      }
      pos = end;
    }
    // Past a lost stretch, keep the last bytes that could still start a header.
    this.offset += lost ? Math.max(0, buf.length - HEADER + 1) : pos;
    this.corruptCount += corrupt;
    return corrupt;
  }
}

export class TensorBoardReader implements MetricReader {
  readonly format = 'tensorboard' as const;
  private readonly files = new Map<string, TfRecordFile>();
  readonly renamed = new Map<string, string>();
  corruptCount = 0;

  /** `path`: one event file, or a folder of them (new files are picked up on each read). */
  constructor(
    readonly path: string,
    private readonly useAliases = true,
  ) {}

  private currentFiles(): TfRecordFile[] {
    let names: string[];
    try {
      names = statSync(this.path).isDirectory() ? findEventFiles(this.path) : [this.path];
    } catch {
      names = [];
    }
    for (const n of names) if (!this.files.has(n)) this.files.set(n, new TfRecordFile(n));
    return [...this.files.values()];
  }

  /** Our key for a tag (cached): its alias unless the log also writes our name itself. */
  private keyOf(tag: string): string {
    let key = this.keys.get(tag);
    if (key !== undefined) return key;
    key = tag;
    const ours = this.useAliases ? aliasOf(tag) : undefined;
    if (ours !== undefined && !this.keys.has(ours) && !this.renamed.has(ours)) {
      key = ours;
      this.renamed.set(ours, tag);
    }
    this.keys.set(tag, key);
    return key;
  }

  private readonly keys = new Map<string, string>();

  readNew(): ReaderBatch {
    const events: RunEvent[] = [];
    let corrupt = 0;
    for (const f of this.currentFiles()) {
      let last: MetricEvent | undefined;
      corrupt += f.read((wallTime, step, tag, value) => {
        const key = this.keyOf(tag);
        // One metric event per step: SummaryWriter writes one scalar per record.
        if (last && last.step === step && !(key in last.values)) {
          last.values[key] = value;
          return;
        }
        last = { v: PROTOCOL_VERSION, t: wallTime, type: 'metric', step, values: { [key]: value } } as MetricEvent;
        events.push(last);
      });
    }
    this.corruptCount += corrupt;
    return { events, corrupt };
  }
}
