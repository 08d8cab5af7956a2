// Finds the complete lines of a JSONL file from a byte offset without parsing them: chunks are read
// into one buffer and searched for newlines with Buffer.indexOf. A torn last line (no newline yet) is
// left for the next scan; a line is classified by its first and last non-blank bytes only, so a line
// that is plainly not a JSON object (a torn write in the middle of a file, binary junk) is caught at
// open, and the rare one that only JSON.parse rejects is caught when it is first read.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export type LineKind = 'object' | 'blank' | 'corrupt';

const CHUNK = 1 << 20;
const isBlank = (b: number): boolean => b === 0x20 || b === 0x09 || b === 0x0d;

/**
 * Calls `onLine(start, end, kind)` for every complete line from byte `from` (a line start) on,
 * `end` exclusive of the newline; returns the offset after the last complete line (where the next
 * scan starts). A file shorter than `from` (rewritten) yields nothing and returns `from`.
 */
export function scanLines(path: string, from: number, onLine: (start: number, end: number, kind: LineKind) => void): number {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(1, size - from)));
    const one = Buffer.allocUnsafe(1);
    let view = buf.subarray(0, 0);
    let viewStart = from;
    const byteAt = (p: number): number => {
      if (p >= viewStart && p < viewStart + view.length) return view[p - viewStart];
      readSync(fd, one, 0, 1, p); // a line that began in an earlier chunk
      return one[0];
    };
    const kindOf = (start: number, end: number): LineKind => {
      let s = start;
      while (s < end && isBlank(byteAt(s))) s++;
      if (s === end) return 'blank';
      let e = end - 1;
      while (e > s && isBlank(byteAt(e))) e--;
      return byteAt(s) === 0x7b && byteAt(e) === 0x7d ? 'object' : 'corrupt';
    };
    let lineStart = from;
    for (let pos = from; pos < size;) {
      const got = readSync(fd, buf, 0, Math.min(buf.length, size - pos), pos);
      if (got <= 0) break;
      view = buf.subarray(0, got);
      viewStart = pos;
      for (let i = view.indexOf(0x0a); i !== -1; i = view.indexOf(0x0a, i + 1)) {
        const end = viewStart + i;
        onLine(lineStart, end, kindOf(lineStart, end));
        lineStart = end + 1;
      }
      pos += got;
    }
    return lineStart;
  } finally {
    closeSync(fd);
  }
}
