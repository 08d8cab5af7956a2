// The language server's file-system host: the files a config names (data files, model folders) are
// looked at in the background, never on the typing path. An analysis asks; the host answers from
// its cache, or — the first time, or after the file changed — with a placeholder (`known` false)
// while it stats the path, reads the head of a file (HEAD_BYTES) and, when asked for, counts its
// records in chunks. When reads land, `onSettled` listeners re-validate, so diagnostics are
// published first without the file checks and again with them.
// Facts are cached by modification time and size: a cached answer older than REVALIDATE_MS is
// still given, and the path is statted again in the background; a change is read and reported.
// Only the configs an `extends` chain names (and a model's config.json) are read synchronously:
// they are needed to analyse at all, and they are small (≤ SMALL_FILE_BYTES, cached by mtime).
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as nodePath from 'node:path';
import { HEAD_BYTES, MAX_COUNT_BYTES } from './dataFiles';
import { RecordCounter } from './jsonScan';
import { MAX_CONFIG_BYTES } from './chain';
import type { DirEntry, EngineHost, FileStat } from './types';

const SMALL_FILE_BYTES = MAX_CONFIG_BYTES; // configs an `extends` names, a model's config.json
const COUNT_CHUNK_BYTES = 64 * 1024; // the first chunks run before the scan loop is optimised: keep them short
export const REVALIDATE_MS = 2000;

export interface BackgroundHostOptions {
  /** Text of files open in an editor, which wins over the disk copy. */
  overlay?: (path: string) => string | undefined;
  env?: Readonly<Record<string, string | undefined>>;
  gpuMemoryGiB?: number;
  /** An untrusted workspace: nothing is read from disk; only `overlay` (open documents) answers. */
  untrusted?: boolean;
}

interface Facts {
  stat: FileStat | undefined;
  /** The first HEAD_BYTES of a file. */
  head?: string;
  /** Record count for this stat; `value` undefined: not a JSON list / too large to count. */
  count?: { value: number | undefined };
  checkedAt: number;
}

export interface BackgroundHost extends EngineHost {
  /** Called (batched) after background reads landed; `changed` when a cached fact was replaced. */
  onSettled(listener: (changed: boolean) => void): void;
  /** Resolves once no background read is in flight. */
  idle(): Promise<void>;
  /** Counts settle events: an analysis made before the latest one may be stale. */
  readonly epoch: number;
  /** Makes cached facts stale (all, or those of `paths`), so they are statted again when next asked. */
  invalidate(paths?: readonly string[]): void;
  readonly pendingCount: number;
}

function toStat(st: fs.Stats): FileStat {
  return { isFile: st.isFile(), isDirectory: st.isDirectory(), size: st.size, mtimeMs: st.mtimeMs };
}

function sameStat(a: FileStat | undefined, b: FileStat | undefined): boolean {
  if (!a || !b) return a === b;
  return a.isFile === b.isFile && a.isDirectory === b.isDirectory && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

async function readHeadAsync(path: string, size: number): Promise<string | undefined> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(path, 'r');
    const buf = Buffer.alloc(Math.min(HEAD_BYTES, size));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.toString('utf8', 0, bytesRead);
  } catch {
    return undefined;
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/** A host that touches no file: open documents answer, everything else is not looked at. */
function createUntrustedHost(options: BackgroundHostOptions): BackgroundHost {
  const open = (path: string): string | undefined => options.overlay?.(path);
  return {
    env: options.env,
    gpuMemoryGiB: options.gpuMemoryGiB,
    untrusted: true,
    epoch: 0,
    pendingCount: 0,
    onSettled: () => undefined,
    idle: () => Promise.resolve(),
    invalidate: () => undefined,
    placeholderCount: () => 0,
    known: () => true,
    readFile: open,
    exists: (path) => open(path) !== undefined,
    stat: (path) => {
      const text = open(path);
      return text === undefined ? undefined : { isFile: true, isDirectory: false, size: text.length, mtimeMs: 0 };
    },
    readHead: (path, maxBytes) => open(path)?.slice(0, maxBytes),
    sizeOf: (path) => open(path)?.length,
    countRecords: () => undefined,
    listDir: () => undefined,
  };
}

/** Streams the file through a RecordCounter; each chunk is a separate turn of the event loop. */
async function countAsync(path: string): Promise<number | undefined> {
  const counter = new RecordCounter(/\.jsonl$/i.test(path));
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(path, 'r');
    const buf = Buffer.alloc(COUNT_CHUNK_BYTES);
    for (let pos = 0; ;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      counter.feed(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead));
      pos += bytesRead;
      if (pos > MAX_COUNT_BYTES) return undefined;
    }
    return counter.result();
  } catch {
    return undefined;
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

export function createBackgroundHost(options: BackgroundHostOptions = {}): BackgroundHost {
  if (options.untrusted) return createUntrustedHost(options);
  const facts = new Map<string, Facts>();
  const probes = new Map<string, Promise<void>>();
  const counts = new Map<string, Promise<void>>();
  const small = new Map<string, { mtimeMs: number; size: number; text: string }>();
  const listeners: Array<(changed: boolean) => void> = [];
  let placeholders = 0;
  let epoch = 0;
  let settleTimer: NodeJS.Timeout | undefined;
  let settleChanged = false;
  let idleWaiters: Array<() => void> = [];

  const inFlight = (): number => probes.size + counts.size;

  function wakeIdle(): void {
    if (inFlight() > 0 || settleTimer) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  }

  /** New facts landed: tell the listeners (batched: a config naming five files re-validates once). */
  function settled(changed: boolean): void {
    settleChanged ||= changed;
    if (settleTimer) return;
    settleTimer = setTimeout(() => {
      settleTimer = undefined;
      const c = settleChanged;
      settleChanged = false;
      epoch++;
      for (const l of listeners) l(c);
      wakeIdle();
    }, 5);
  }

  /** Stats `path` (and reads a file's head) in the background; one probe per path at a time. */
  function probe(path: string): void {
    if (probes.has(path)) return;
    const job = (async (): Promise<void> => {
      let stat: FileStat | undefined;
      try {
        stat = toStat(await fsp.stat(path));
      } catch {
        stat = undefined;
      }
      const old = facts.get(path);
      if (old && sameStat(old.stat, stat)) {
        old.checkedAt = Date.now();
        return;
      }
      const head = stat?.isFile ? await readHeadAsync(path, stat.size) : undefined;
      facts.set(path, { stat, head, checkedAt: Date.now() });
      settled(old !== undefined);
    })();
    probes.set(path, job);
    void job.finally(() => {
      probes.delete(path);
      wakeIdle();
    });
  }

  function count(path: string, f: Facts): void {
    if (counts.has(path)) return;
    const job = (async (): Promise<void> => {
      const value = f.stat && f.stat.size <= MAX_COUNT_BYTES ? await countAsync(path) : undefined;
      // Only if the file is still the one counted; otherwise the probe has replaced the facts.
      if (facts.get(path) === f) f.count = { value };
      settled(false);
    })();
    counts.set(path, job);
    void job.finally(() => {
      counts.delete(path);
      wakeIdle();
    });
  }

  /** Cached facts (re-statted in the background when old), or undefined after starting a probe. */
  function factsOf(path: string): Facts | undefined {
    const f = facts.get(path);
    if (!f) {
      placeholders++;
      probe(path);
      return undefined;
    }
    if (Date.now() - f.checkedAt > REVALIDATE_MS) probe(path);
    return f;
  }

  return {
    env: options.env,
    gpuMemoryGiB: options.gpuMemoryGiB,
    get epoch(): number {
      return epoch;
    },
    get pendingCount(): number {
      return inFlight();
    },
    onSettled(listener: (changed: boolean) => void): void {
      listeners.push(listener);
    },
    idle(): Promise<void> {
      if (inFlight() === 0 && !settleTimer) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    invalidate(paths?: readonly string[]): void {
      for (const [p, f] of facts) if (!paths || paths.includes(p)) f.checkedAt = 0;
      if (!paths) small.clear();
      else for (const p of paths) small.delete(p);
    },
    placeholderCount: () => placeholders,
    known(path: string): boolean {
      return options.overlay?.(path) !== undefined || facts.has(path);
    },
    readFile(path: string): string | undefined {
      const open = options.overlay?.(path);
      if (open !== undefined) return open;
      try {
        const st = fs.statSync(path, { throwIfNoEntry: false });
        if (!st?.isFile() || st.size > SMALL_FILE_BYTES) return undefined;
        const hit = small.get(path);
        if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.text;
        const text = fs.readFileSync(path, 'utf8');
        if (small.size > 256) small.clear();
        small.set(path, { mtimeMs: st.mtimeMs, size: st.size, text });
        return text;
      } catch {
        return undefined;
      }
    },
    exists(path: string): boolean {
      return options.overlay?.(path) !== undefined || factsOf(path)?.stat !== undefined;
    },
    stat(path: string): FileStat | undefined {
      const open = options.overlay?.(path);
      if (open !== undefined) return { isFile: true, isDirectory: false, size: open.length, mtimeMs: 0 };
      return factsOf(path)?.stat;
    },
    readHead(path: string, maxBytes: number): string | undefined {
      const open = options.overlay?.(path);
      if (open !== undefined) return open.slice(0, maxBytes);
      const head = factsOf(path)?.head;
      return head === undefined ? undefined : head.slice(0, maxBytes);
    },
    countRecords(path: string): number | undefined {
      const f = factsOf(path);
      if (!f?.stat?.isFile) return undefined;
      if (f.count) return f.count.value;
      placeholders++;
      count(path, f);
      return undefined;
    },
    sizeOf(path: string): number | undefined {
      const open = options.overlay?.(path);
      if (open !== undefined) return open.length;
      try {
        const st = fs.statSync(path, { throwIfNoEntry: false });
        return st?.isFile() ? st.size : undefined;
      } catch {
        return undefined;
      }
    },
    listDir(path: string): DirEntry[] | undefined {
      // Completion asks for one folder when the user types a path; readdir of it is cheap.
      try {
        return fs.readdirSync(path, { withFileTypes: true }).map((e) => ({
          name: e.name,
          isDirectory:
            e.isDirectory() ||
            (e.isSymbolicLink() && fs.statSync(nodePath.join(path, e.name), { throwIfNoEntry: false })?.isDirectory() === true),
        }));
      } catch {
        return undefined;
      }
    },
  };
}
