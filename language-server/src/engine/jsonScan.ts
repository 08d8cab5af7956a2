// Reading the start of large JSON data files without parsing them whole: the first elements of a
// top-level array (from a prefix of the file), the first entry of a top-level object, and a cheap
// count of a top-level array's elements.

function skipWs(text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0xfeff) i++;
    else break;
  }
  return i;
}

function stringEnd(text: string, i: number): number {
  // text[i] is the opening quote; returns the index after the closing quote, or -1 if cut off.
  for (let j = i + 1; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x5c) j++;
    else if (c === 0x22) return j + 1;
  }
  return -1;
}

/** Index just after the JSON value starting at i, or -1 when the text ends inside it. */
function valueEnd(text: string, i: number): number {
  const c = text[i];
  if (c === '"') return stringEnd(text, i);
  if (c === '{' || c === '[') {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const ch = text.charCodeAt(j);
      if (ch === 0x22) {
        const e = stringEnd(text, j);
        if (e < 0) return -1;
        j = e - 1;
      } else if (ch === 0x7b || ch === 0x5b) depth++;
      else if (ch === 0x7d || ch === 0x5d) {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return -1;
  }
  let j = i;
  while (j < text.length && !',]}: \n\r\t'.includes(text[j])) j++;
  return j === i ? -1 : j;
}

export type ScanResult = { ok: true; items: unknown[] } | { ok: false; error: string };

/** Up to `max` leading elements of a top-level JSON array (the text may be a prefix of the file). */
export function firstArrayItems(text: string, max: number): ScanResult {
  let i = skipWs(text, 0);
  if (text[i] !== '[') return { ok: false, error: 'is not a JSON list of records' };
  i++;
  const items: unknown[] = [];
  while (items.length < max) {
    i = skipWs(text, i);
    if (i >= text.length || text[i] === ']') break;
    const end = valueEnd(text, i);
    if (end < 0) break; // cut off by the prefix: enough read
    try {
      items.push(JSON.parse(text.slice(i, end)));
    } catch {
      return { ok: false, error: `has invalid JSON near byte ${i}` };
    }
    i = skipWs(text, end);
    if (text[i] === ',') i++;
    else if (text[i] !== ']' && i < text.length) return { ok: false, error: `has invalid JSON near byte ${i}` };
  }
  return { ok: true, items };
}

/** The first `[key, value]` of a top-level JSON object. */
export function firstObjectEntry(text: string): { ok: true; entry?: [string, unknown] } | { ok: false; error: string } {
  let i = skipWs(text, 0);
  if (text[i] !== '{') return { ok: false, error: 'is not a JSON object' };
  i = skipWs(text, i + 1);
  if (text[i] === '}') return { ok: true };
  if (text[i] !== '"') return { ok: false, error: `has invalid JSON near byte ${i}` };
  const ke = stringEnd(text, i);
  if (ke < 0) return { ok: true };
  let key: string;
  try {
    key = JSON.parse(text.slice(i, ke)) as string;
  } catch {
    return { ok: false, error: `has invalid JSON near byte ${i}` };
  }
  i = skipWs(text, ke);
  if (text[i] !== ':') return { ok: false, error: `has invalid JSON near byte ${i}` };
  i = skipWs(text, i + 1);
  const ve = valueEnd(text, i);
  if (ve < 0) return { ok: true };
  try {
    return { ok: true, entry: [key, JSON.parse(text.slice(i, ve))] };
  } catch {
    return { ok: false, error: `has invalid JSON near byte ${i}` };
  }
}

/** Number of elements of a top-level JSON array, or undefined when the text is not one. */
export function countArrayItems(text: string): number | undefined {
  let i = skipWs(text, 0);
  if (text[i] !== '[') return undefined;
  i = skipWs(text, i + 1);
  if (text[i] === ']') return 0;
  let count = 0;
  while (i < text.length) {
    const end = valueEnd(text, i);
    if (end < 0) return undefined;
    count++;
    i = skipWs(text, end);
    if (text[i] === ']') return count;
    if (text[i] !== ',') return undefined;
    i = skipWs(text, i + 1);
  }
  return undefined;
}

/**
 * Counts records while a file streams past in chunks (a JSON list's top-level elements, or a JSON
 * lines file's non-blank lines), so a large data file is counted without holding it in memory or
 * the event loop. Works on UTF-8 bytes: every byte it looks at is ASCII, and no byte of a multi-byte
 * character is.
 */
export class RecordCounter {
  private count = 0;
  private started = false;
  private done = false;
  private bad = false;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private expectValue = false;
  private lineHasContent = false;

  constructor(private readonly jsonLines: boolean) {}

  feed(bytes: Uint8Array): void {
    if (this.jsonLines) this.feedLines(bytes);
    else this.feedList(bytes);
  }

  /** The count, or undefined when the file was not a (complete) JSON list. */
  result(): number | undefined {
    if (this.jsonLines) return this.count + (this.lineHasContent ? 1 : 0);
    return this.done && !this.bad ? this.count : undefined;
  }

  private feedLines(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) {
      const c = bytes[i];
      if (c === 0x0a) {
        if (this.lineHasContent) this.count++;
        this.lineHasContent = false;
      } else if (c !== 0x20 && c !== 0x0d && c !== 0x09) this.lineHasContent = true;
    }
  }

  private feedList(bytes: Uint8Array): void {
    let slash = -1; // next backslash at or after i (searched again once passed); Infinity: none left
    for (let i = 0; i < bytes.length && !this.bad; i++) {
      if (this.inString) {
        // Most of a data file is string content: jump to the next quote with the native search.
        if (this.escaped) {
          this.escaped = false;
          continue;
        }
        const quote = bytes.indexOf(0x22, i);
        if (slash < i) {
          const found = bytes.indexOf(0x5c, i);
          slash = found < 0 ? Infinity : found;
        }
        if (slash !== Infinity && (quote < 0 || slash < quote)) {
          i = slash; // the next byte is escaped
          this.escaped = true;
        } else if (quote >= 0) {
          i = quote;
          this.inString = false;
        } else i = bytes.length;
        continue;
      }
      const c = bytes[i];
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
      if (this.done) {
        this.bad = true; // text after the closing bracket
        break;
      }
      if (!this.started) {
        if (c === 0xef || c === 0xbb || c === 0xbf) continue; // byte-order mark
        if (c !== 0x5b) this.bad = true;
        this.started = true;
        this.depth = 1;
        this.expectValue = true;
        continue;
      }
      if (this.depth === 1 && this.expectValue) {
        this.expectValue = false;
        if (c === 0x5d && this.count === 0) {
          this.depth = 0;
          this.done = true;
          continue;
        }
        this.count++;
      }
      if (c === 0x22) this.inString = true;
      else if (c === 0x7b || c === 0x5b) this.depth++;
      else if (c === 0x7d || c === 0x5d) {
        this.depth--;
        if (this.depth === 0) this.done = true;
      } else if (c === 0x2c && this.depth === 1) this.expectValue = true;
    }
  }
}
