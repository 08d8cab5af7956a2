// The file-system host used by the CLI and the server: plain Node fs, with file heads cached by
// modification time so data files are read once, not on every keystroke.
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import type { DirEntry, EngineHost, FileStat } from './types';

export interface NodeHostOptions {
  /** Text of files open in an editor, which wins over the disk copy. */
  overlay?: (path: string) => string | undefined;
  env?: Readonly<Record<string, string | undefined>>;
  gpuMemoryGiB?: number;
}

const MAX_READ_BYTES = 256 * 1024 * 1024;

export function createNodeHost(options: NodeHostOptions = {}): EngineHost {
  const heads = new Map<string, { mtimeMs: number; size: number; maxBytes: number; text: string }>();
  const stat = (path: string): FileStat | undefined => {
    try {
      const st = fs.statSync(path, { throwIfNoEntry: false });
      return st ? { isFile: st.isFile(), isDirectory: st.isDirectory(), size: st.size, mtimeMs: st.mtimeMs } : undefined;
    } catch {
      return undefined;
    }
  };
  return {
    env: options.env,
    gpuMemoryGiB: options.gpuMemoryGiB,
    readFile(path: string): string | undefined {
      const open = options.overlay?.(path);
      if (open !== undefined) return open;
      const st = stat(path);
      if (!st?.isFile || st.size > MAX_READ_BYTES) return undefined;
      try {
        return fs.readFileSync(path, 'utf8');
      } catch {
        return undefined;
      }
    },
    exists(path: string): boolean {
      return options.overlay?.(path) !== undefined || stat(path) !== undefined;
    },
    stat(path: string): FileStat | undefined {
      const open = options.overlay?.(path);
      if (open !== undefined) return { isFile: true, isDirectory: false, size: open.length, mtimeMs: 0 };
      return stat(path);
    },
    readHead(path: string, maxBytes: number): string | undefined {
      const open = options.overlay?.(path);
      if (open !== undefined) return open.slice(0, maxBytes);
      const st = stat(path);
      if (!st?.isFile) return undefined;
      const hit = heads.get(path);
      if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size && hit.maxBytes === maxBytes) return hit.text;
      let fd: number | undefined;
      try {
        fd = fs.openSync(path, 'r');
        const buf = Buffer.alloc(Math.min(maxBytes, st.size));
        const n = fs.readSync(fd, buf, 0, buf.length, 0);
        const text = buf.toString('utf8', 0, n);
        if (heads.size > 256) heads.clear();
        heads.set(path, { mtimeMs: st.mtimeMs, size: st.size, maxBytes, text });
        return text;
      } catch {
        return undefined;
      } finally {
        if (fd !== undefined) fs.closeSync(fd);
      }
    },
    sizeOf(path: string): number | undefined {
      const open = options.overlay?.(path);
      if (open !== undefined) return open.length;
      const st = stat(path);
      return st?.isFile ? st.size : undefined;
    },
    listDir(path: string): DirEntry[] | undefined {
      try {
        return fs.readdirSync(path, { withFileTypes: true }).map((e) => ({
          name: e.name,
          isDirectory: e.isDirectory() || (e.isSymbolicLink() && stat(nodePath.join(path, e.name))?.isDirectory === true),
        }));
      } catch {
        return undefined;
      }
    },
  };
}
