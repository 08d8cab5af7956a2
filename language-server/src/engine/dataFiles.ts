// Data files named by a config: where they resolve to, whether they exist, and what their first
// records hold. Reads only a file's head; record counts are cached by modification time.
import * as nodePath from 'node:path';
import type { Origin, ResolvedConfig } from './chain';
import { expandPath } from './paths';
import type { ExpandedPath } from './paths';
import { countArrayItems, firstArrayItems, firstObjectEntry } from './jsonScan';
import type { EngineHost, FileStat, KeyPath } from './types';

export const HEAD_BYTES = 64 * 1024;
export const MAX_COUNT_BYTES = 256 * 1024 * 1024;

export interface ConfigPath {
  raw: string;
  origin: Origin;
  expanded: ExpandedPath;
}

/** A path value resolved against the folder of the file that set it (not the file that extends it). */
export function configPath(r: ResolvedConfig, path: KeyPath, host: EngineHost): ConfigPath | undefined {
  const raw = r.raw(path);
  if (typeof raw !== 'string' || raw.trim() === '') return undefined;
  const origin = r.where(path);
  if (!origin || !nodePath.isAbsolute(origin.pf.path)) return undefined;
  return { raw, origin, expanded: expandPath(raw.trim(), nodePath.dirname(origin.pf.path), host.env) };
}

/**
 * What is at `path`: its stat, undefined when nothing is there, 'unknown' when the host can only
 * tell existence, and 'pending' while a background host is still looking (not an answer yet).
 */
export function statOf(host: EngineHost, path: string): FileStat | undefined | 'unknown' | 'pending' {
  const st = host.stat ? host.stat(path) : host.exists(path) ? 'unknown' : undefined;
  return host.known?.(path) === false ? 'pending' : st;
}

export function readHead(host: EngineHost, path: string): string | undefined {
  if (host.readHead) return host.readHead(path, HEAD_BYTES);
  return host.readFile(path)?.slice(0, HEAD_BYTES);
}

export type RecordsResult = { ok: true; records: unknown[] } | { ok: false; error: string };

/** The first `max` records of a JSON list file or a JSON-lines file. */
export function firstRecords(host: EngineHost, path: string, max: number): RecordsResult | undefined {
  const head = readHead(host, path);
  if (head === undefined) return undefined;
  if (/\.jsonl$/i.test(path)) {
    const records: unknown[] = [];
    const lines = head.split('\n');
    // The last line of a head may be cut off; only complete lines count.
    const complete = head.length < HEAD_BYTES ? lines : lines.slice(0, -1);
    for (const line of complete) {
      if (records.length >= max) break;
      if (line.trim() === '') continue;
      try {
        records.push(JSON.parse(line));
      } catch {
        return { ok: false, error: `line ${records.length + 1} is not valid JSON` };
      }
    }
    return { ok: true, records };
  }
  const res = firstArrayItems(head, max);
  return res.ok ? { ok: true, records: res.items } : res;
}

export function firstFact(host: EngineHost, path: string): ReturnType<typeof firstObjectEntry> | undefined {
  const head = readHead(host, path);
  return head === undefined ? undefined : firstObjectEntry(head);
}

const countCache = new Map<string, { mtimeMs: number; size: number; count: number | undefined }>();

/** Records in a data file (JSON list or JSON lines), cached by mtime and size; needs `host.stat`. */
export function countRecords(host: EngineHost, path: string): number | undefined {
  if (host.countRecords) return host.countRecords(path);
  const st = host.stat?.(path);
  if (!st || !st.isFile || st.size > MAX_COUNT_BYTES) return undefined;
  const hit = countCache.get(path);
  if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.count;
  const text = host.readFile(path);
  let count: number | undefined;
  if (text !== undefined) {
    if (/\.jsonl$/i.test(path)) count = text.split('\n').filter((l) => l.trim() !== '').length;
    else count = countArrayItems(text);
  }
  if (countCache.size > 64) countCache.clear();
  countCache.set(path, { mtimeMs: st.mtimeMs, size: st.size, count });
  return count;
}
