// A fast path for the YAML that configs are actually written in: block mappings of plain keys,
// single-line plain or quoted scalars, block sequences of scalars, one-line flow sequences and
// flow mappings of scalars, comments. It builds the same `yaml` nodes, with the same ranges, as
// the `yaml` package does (checked against it by the fuzz test), several times faster. Anything
// else — anchors, tags, block scalars, multi-line values, escapes, duplicate keys, errors —
// returns undefined and the caller uses the `yaml` package.
import { Document, Pair, Scalar, YAMLMap, YAMLSeq } from 'yaml';

// Tabs, carriage returns, control characters, surrogates and BOMs all go to the full parser.
const UNSUPPORTED = /[\t\r\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufeff\ufffe\uffff]/;
const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const MAX_LENGTH = 64 * 1024 * 1024;

/** YAML 1.2 core-schema resolution of a plain scalar (what the `yaml` package does by default). */
export function resolvePlain(src: string): unknown {
  switch (src) {
    case '':
    case '~':
    case 'null':
    case 'Null':
    case 'NULL':
      return null;
    case 'true':
    case 'True':
    case 'TRUE':
      return true;
    case 'false':
    case 'False':
    case 'FALSE':
      return false;
    default:
  }
  if (/^[-+]?[0-9]+$/.test(src)) return Number.parseInt(src, 10);
  if (/^0o[0-7]+$/.test(src)) return Number.parseInt(src.slice(2), 8);
  if (/^0x[0-9a-fA-F]+$/.test(src)) return Number.parseInt(src.slice(2), 16);
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/.test(src)) return Number.parseFloat(src);
  if (/^[-+]?\.(?:inf|Inf|INF)$/.test(src)) return src.startsWith('-') ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  if (/^\.(?:nan|NaN|NAN)$/.test(src)) return Number.NaN;
  return src;
}

/** Thrown to leave the fast path; not an Error, so no stack trace is captured. */
const BAIL = { bail: true } as const;

function bail(): never {
  throw BAIL;
}

interface ScalarToken {
  node: Scalar;
  /** Index just after the value and anything that may follow it on the line (spaces, comment). */
  next: number;
}

function scalar(value: unknown, start: number, end: number, nodeEnd: number, type: Scalar.Type, source?: string): Scalar {
  const s = new Scalar(value);
  s.range = [start, end, nodeEnd];
  s.type = type;
  if (source !== undefined) s.source = source;
  return s;
}

/** A quoted scalar starting at `i` (no escapes, one line). */
function quoted(text: string, i: number, lineEnd: number): { value: string; end: number; type: Scalar.Type } {
  const q = text[i];
  const close = find(text, q, i + 1, lineEnd);
  if (close < 0) bail();
  const inner = text.slice(i + 1, close);
  if (q === '"' && inner.includes('\\')) bail();
  if (q === "'" && text[close + 1] === "'") bail(); // '' escape: leave to the full parser
  return { value: inner, end: close + 1, type: q === '"' ? 'QUOTE_DOUBLE' : 'QUOTE_SINGLE' };
}

/** After a value: spaces, then an optional comment, then the end of the line. Returns the node end. */
function afterValue(text: string, i: number, lineEnd: number): number {
  let j = i;
  while (j < lineEnd && text[j] === ' ') j++;
  if (j < lineEnd) {
    if (text[j] !== '#' || j === i) bail();
    j = lineEnd;
  }
  return lineEnd < text.length ? lineEnd + 1 : lineEnd;
}

function plainStartOk(text: string, i: number): boolean {
  const c = text[i];
  if ('[]{},#&*!|>\'"%@`?:'.includes(c)) return false;
  if (c === '-') return /[0-9.]/.test(text[i + 1] ?? '');
  return true;
}

/** A block-context value on one line: plain or quoted scalar. */
function blockScalar(text: string, i: number, lineEnd: number): ScalarToken {
  if (text[i] === '"' || text[i] === "'") {
    const q = quoted(text, i, lineEnd);
    return { node: scalar(q.value, i, q.end, afterValue(text, q.end, lineEnd), q.type), next: lineEnd };
  }
  if (!plainStartOk(text, i)) bail();
  let end = lineEnd;
  const hash = find(text, ' #', i, lineEnd);
  if (hash >= 0) end = hash;
  while (end > i && text[end - 1] === ' ') end--;
  const src = text.slice(i, end);
  if (src.includes(': ') || src.endsWith(':')) bail();
  return { node: scalar(resolvePlain(src), i, end, afterValue(text, end, lineEnd), 'PLAIN', src), next: lineEnd };
}

/** A scalar inside a one-line flow collection; stops at `,`, `]` or `}`. */
function flowScalar(text: string, i: number, lineEnd: number): { node: Scalar; next: number } {
  let valueEnd: number;
  let node: Scalar;
  if (text[i] === '"' || text[i] === "'") {
    const q = quoted(text, i, lineEnd);
    valueEnd = q.end;
    node = scalar(q.value, i, q.end, q.end, q.type);
  } else {
    if (!plainStartOk(text, i)) bail();
    let j = i;
    while (j < lineEnd && !',[]{}#'.includes(text[j])) j++;
    let end = j;
    while (end > i && text[end - 1] === ' ') end--;
    const src = text.slice(i, end);
    if (src === '' || src.includes(':')) bail();
    valueEnd = end;
    node = scalar(resolvePlain(src), i, end, end, 'PLAIN', src);
  }
  let next = valueEnd;
  while (next < lineEnd && text[next] === ' ') next++;
  if (node.range) node.range[2] = next;
  return { node, next };
}

/** indexOf bounded to [from, to): -1 when not found before `to`. */
function find(text: string, needle: string, from: number, to: number): number {
  const k = text.slice(from, to).indexOf(needle);
  return k < 0 ? -1 : from + k;
}

function skipSpaces(text: string, i: number, lineEnd: number): number {
  while (i < lineEnd && text[i] === ' ') i++;
  return i;
}

/** `[a, b]` on one line. */
function flowSeq(text: string, i: number, lineEnd: number): { node: YAMLSeq; js: unknown[] } {
  const seq = new YAMLSeq();
  seq.flow = true;
  const js: unknown[] = [];
  let j = skipSpaces(text, i + 1, lineEnd);
  if (text[j] === ']') j++;
  else {
    for (;;) {
      const s = flowScalar(text, j, lineEnd);
      seq.items.push(s.node);
      js.push(s.node.value);
      j = s.next;
      if (text[j] === ',') j = skipSpaces(text, j + 1, lineEnd);
      else if (text[j] === ']') {
        j++;
        break;
      } else bail();
      if (text[j] === ']') bail(); // trailing comma
    }
  }
  seq.range = [i, j, afterValue(text, j, lineEnd)];
  return { node: seq, js };
}

/** `{a: 1, b: x}` on one line. */
function flowMap(text: string, i: number, lineEnd: number): { node: YAMLMap; js: Record<string, unknown> } {
  const map = new YAMLMap();
  map.flow = true;
  const js: Record<string, unknown> = {};
  let j = skipSpaces(text, i + 1, lineEnd);
  if (text[j] === '}') j++;
  else {
    for (;;) {
      const colon = find(text, ':', j, lineEnd);
      if (colon < 0 || text[colon + 1] !== ' ') bail();
      const key = text.slice(j, colon);
      if (!KEY.test(key) || resolvePlain(key) !== key || key in js) bail();
      const v = flowScalar(text, skipSpaces(text, colon + 1, lineEnd), lineEnd);
      map.items.push(new Pair(scalar(key, j, colon, colon, 'PLAIN', key), v.node));
      js[key] = v.node.value;
      j = v.next;
      if (text[j] === ',') j = skipSpaces(text, j + 1, lineEnd);
      else if (text[j] === '}') {
        j++;
        break;
      } else bail();
      if (text[j] === '}') bail();
    }
  }
  map.range = [i, j, afterValue(text, j, lineEnd)];
  return { node: map, js };
}

interface Level {
  indent: number;
  node: YAMLMap | YAMLSeq;
  js: Record<string, unknown> | unknown[];
}

interface PendingKey {
  indent: number;
  pair: Pair<Scalar, unknown>;
  parent: Record<string, unknown>;
  key: string;
  /** Where a null value would start (and end): after the colon and any spaces. */
  nullStart: number;
  nullNodeEnd: number;
}

function lastEnd(node: YAMLMap | YAMLSeq): number {
  const last = node.items[node.items.length - 1] as Pair | Scalar | undefined;
  const n = last instanceof Pair ? (last.value as Scalar | YAMLMap | YAMLSeq | null) : last;
  return n?.range?.[2] ?? 0;
}

function close(level: Level): void {
  const end = lastEnd(level.node);
  if (level.node.range) {
    level.node.range[1] = end;
    level.node.range[2] = end;
  }
}

export interface FastResult {
  doc: Document.Parsed;
  value: Record<string, unknown>;
}

export function fastParse(text: string): FastResult | undefined {
  if (text.length > MAX_LENGTH || UNSUPPORTED.test(text)) return undefined;
  try {
    return parse(text);
  } catch (e) {
    if (e === BAIL) return undefined;
    throw e;
  }
}

function parse(text: string): FastResult {
  const stack: Level[] = [];
  let pending: PendingKey | undefined;
  let rootValue: Record<string, unknown> | undefined;
  let root: YAMLMap | undefined;
  let commentIndent: number | undefined;

  const resolvePending = (): void => {
    if (!pending) return;
    pending.pair.value = scalar(null, pending.nullStart, pending.nullStart, pending.nullNodeEnd, 'PLAIN', '');
    pending.parent[pending.key] = null;
    pending = undefined;
  };
  const popTo = (keep: (l: Level) => boolean): void => {
    while (stack.length > 0 && !keep(stack[stack.length - 1])) close(stack.pop() as Level);
  };

  let lineStart = 0;
  while (lineStart < text.length) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd < 0) lineEnd = text.length;
    let i = lineStart;
    while (i < lineEnd && text[i] === ' ') i++;
    const indent = i - lineStart;
    const first = text[i];
    if (i === lineEnd) {
      lineStart = lineEnd + 1;
      continue;
    }
    if (first === '#') {
      // Where a comment line belongs decides the ranges of what precedes it. Column-0 comments
      // belong to nothing; an indented one is understood only between two siblings at its indent.
      if (pending) bail();
      if (indent > 0) {
        if (commentIndent !== undefined && commentIndent !== indent) bail();
        commentIndent = indent;
      }
      lineStart = lineEnd + 1;
      continue;
    }
    if (commentIndent !== undefined) {
      if (indent !== commentIndent || pending || stack[stack.length - 1]?.indent !== indent) bail();
      commentIndent = undefined;
    }
    if (indent === 0 && (text.startsWith('---', i) || text.startsWith('...', i) || first === '%')) bail();

    if (first === '-' && (text[i + 1] === ' ' || i + 1 === lineEnd)) {
      // A block-sequence item.
      if (i + 1 === lineEnd) bail();
      if (pending && indent >= pending.indent && (stack[stack.length - 1]?.indent ?? -1) <= pending.indent) {
        const seq = new YAMLSeq();
        seq.range = [i, i, i];
        const js: unknown[] = [];
        pending.pair.value = seq;
        pending.parent[pending.key] = js;
        pending = undefined;
        stack.push({ indent, node: seq, js });
      } else {
        resolvePending();
        popTo((l) => l.indent <= indent);
      }
      const top = stack[stack.length - 1];
      if (!top || !(top.node instanceof YAMLSeq) || top.indent !== indent) bail();
      const v = skipSpaces(text, i + 1, lineEnd);
      if (text[v] === '[' || text[v] === '{') bail();
      const s = blockScalar(text, v, lineEnd);
      top.node.items.push(s.node);
      (top.js as unknown[]).push(s.node.value);
      lineStart = lineEnd + 1;
      continue;
    }

    // A `key: value` line.
    const colon = find(text, ':', i, lineEnd);
    if (colon < 0 || (colon + 1 < lineEnd && text[colon + 1] !== ' ')) bail();
    const key = text.slice(i, colon);
    if (!KEY.test(key) || resolvePlain(key) !== key) bail();
    let parent: Level;
    if (pending && indent > pending.indent) {
      const map = new YAMLMap();
      map.range = [i, i, i];
      const js: Record<string, unknown> = {};
      pending.pair.value = map;
      pending.parent[pending.key] = js;
      pending = undefined;
      parent = { indent, node: map, js };
      stack.push(parent);
    } else {
      resolvePending();
      if (stack.length === 0) {
        if (indent !== 0) bail();
        root = new YAMLMap();
        root.range = [i, i, i];
        rootValue = {};
        stack.push({ indent: 0, node: root, js: rootValue });
      }
      popTo((l) => l.indent < indent || (l.indent === indent && l.node instanceof YAMLMap));
      parent = stack[stack.length - 1];
      if (!parent || parent.indent !== indent || !(parent.node instanceof YAMLMap)) bail();
    }
    const js = parent.js as Record<string, unknown>;
    if (Object.prototype.hasOwnProperty.call(js, key)) bail();
    const keyNode = scalar(key, i, colon, colon, 'PLAIN', key);
    const pair = new Pair<Scalar, unknown>(keyNode, null);
    (parent.node as YAMLMap).items.push(pair);
    const v = skipSpaces(text, colon + 1, lineEnd);
    if (v === lineEnd || text[v] === '#') {
      if (text[v] === '#') bail(); // where an empty value's comment ends is the full parser's call
      pending = { indent, pair, parent: js, key, nullStart: v, nullNodeEnd: v };
    } else if (text[v] === '[') {
      const f = flowSeq(text, v, lineEnd);
      pair.value = f.node;
      js[key] = f.js;
    } else if (text[v] === '{') {
      const f = flowMap(text, v, lineEnd);
      pair.value = f.node;
      js[key] = f.js;
    } else {
      const s = blockScalar(text, v, lineEnd);
      pair.value = s.node;
      js[key] = s.node.value;
    }
    lineStart = lineEnd + 1;
  }
  if (commentIndent !== undefined) bail();
  resolvePending();
  popTo(() => false);
  if (!root || !rootValue) bail();
  const doc = new Document();
  doc.contents = root;
  return { doc: doc as unknown as Document.Parsed, value: rootValue };
}
