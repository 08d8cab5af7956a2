// One config file parsed with positions: the YAML document, its line index, its syntax
// diagnostics, its plain value, and lookups between key paths and source ranges.
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, YAMLParseError } from 'yaml';
import type { Document, Node, Pair } from 'yaml';
import { fastParse } from './fastYaml';
import { MAX_NESTING, nestingExcess } from './nesting';
import type { EngineDiagnostic, Fix, KeyPath, PathSegment, RelatedLocation, Severity, TextEditSpec } from './types';

export interface ParsedFile {
  path: string;
  text: string;
  doc: Document.Parsed;
  lineCounter: LineCounter;
  /** YAML errors and warnings, already as diagnostics. */
  syntax: EngineDiagnostic[];
  hasErrors: boolean;
  /** The plain value when the document parsed without errors. */
  value: unknown;
  /** Which parser read it: the fast path for plain configs, or the `yaml` package. */
  parser: 'fast' | 'yaml';
}

export interface Located {
  pair?: Pair<unknown, unknown>;
  keyNode?: Node;
  valueNode?: Node;
  /** [start, end) of the key, or of the value for sequence items and the document root. */
  keyRange: [number, number];
  /** [start, end) of the value; equals keyRange when the value is empty. */
  valueRange: [number, number];
}

const MAX_SYNTAX_DIAGNOSTICS = 100;

/** Line starts of `text`, as the `yaml` parser records them. */
function countLines(text: string): LineCounter {
  const lc = new LineCounter();
  lc.addNewLine(0);
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lc.addNewLine(i + 1);
  return lc;
}

export function parseConfigText(text: string, path: string): ParsedFile {
  const tooDeep = nestingExcess(text);
  if (tooDeep >= 0) return refuseDeep(text, path, tooDeep);
  const fast = fastParse(text);
  if (fast)
    return { path, text, doc: fast.doc, lineCounter: countLines(text), syntax: [], hasErrors: false, value: fast.value, parser: 'fast' };
  return parseWithYaml(text, path);
}

/** A document nested past MAX_NESTING: not parsed at all (parsers and rules recurse per level). */
function refuseDeep(text: string, path: string, at: number): ParsedFile {
  const pf: ParsedFile = {
    path,
    text,
    doc: parseDocument(''),
    lineCounter: countLines(text),
    syntax: [],
    hasErrors: true,
    value: undefined,
    parser: 'yaml',
  };
  pf.syntax.push(
    makeDiagnostic(
      pf,
      at,
      at + 1,
      'error',
      'too-deep',
      `Nested more than ${MAX_NESTING} levels deep here; a config nests a few levels (sections, lists), so this one is not read further`,
    ),
  );
  return pf;
}

/** The full parser (the `yaml` package), for everything the fast path leaves alone. */
export function parseWithYaml(text: string, path: string): ParsedFile {
  const lineCounter = new LineCounter();
  // The parser's errors carry messages and positions; their stack traces would cost more than the
  // parse itself on a broken document.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, {
      lineCounter,
      prettyErrors: false,
      logLevel: 'error', // warnings are diagnostics here, not process warnings
      // The package's own duplicate-key check compares each key with every earlier one (40,000
      // keys: 31 s); duplicateKeyErrors does the same check with one set per map.
      uniqueKeys: false,
      merge: true, // `<<: *anchor` works as in PyYAML, which the trainer reads configs with
    });
    const dups = duplicateKeyErrors(doc);
    if (dups.length > 0) doc.errors = [...doc.errors, ...dups].sort((x, y) => x.pos[0] - y.pos[0]);
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
  const pf: ParsedFile = { path, text, doc, lineCounter, syntax: [], hasErrors: doc.errors.length > 0, value: undefined, parser: 'yaml' };
  // After the first hundred, more syntax errors in one file tell nobody anything.
  for (const err of doc.errors.slice(0, MAX_SYNTAX_DIAGNOSTICS)) {
    const [start, end] = widen(text, err.pos);
    pf.syntax.push(makeDiagnostic(pf, start, end, 'error', 'yaml-syntax', `YAML syntax: ${firstLine(err.message)}`));
  }
  for (const warn of doc.warnings.slice(0, MAX_SYNTAX_DIAGNOSTICS)) {
    const [start, end] = warn.pos;
    pf.syntax.push(makeDiagnostic(pf, start, end, 'warning', 'yaml-warning', `YAML: ${firstLine(warn.message)}`));
  }
  if (!pf.hasErrors) {
    try {
      pf.value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      // Alias bombs and similar: report instead of expanding.
      pf.hasErrors = true;
      pf.syntax.push(
        makeDiagnostic(
          pf,
          0,
          Math.min(text.length, lineEnd(text, 0)),
          'error',
          'yaml-syntax',
          `YAML: ${e instanceof Error ? e.message : String(e)}`,
        ),
      );
    }
  }
  return pf;
}

/**
 * "Map keys must be unique" where a map repeats a scalar key, as the `yaml` package's `uniqueKeys`
 * reports it (same code, message and position), in linear time. Walks with its own stack: a deeply
 * nested document must not exhaust the call stack here.
 */
function duplicateKeyErrors(doc: Document.Parsed): YAMLParseError[] {
  const out: YAMLParseError[] = [];
  const todo: unknown[] = [doc.contents];
  while (todo.length > 0) {
    const node = todo.pop();
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        const key = pair.key;
        if (isScalar(key)) {
          // The package compares values with ===: NaN never equals itself, 1 and "1" differ.
          const v = key.value;
          if (!(typeof v === 'number' && Number.isNaN(v))) {
            if (seen.has(v)) {
              const at = key.range?.[0] ?? 0;
              out.push(new YAMLParseError([at, at + 1], 'DUPLICATE_KEY', 'Map keys must be unique'));
            } else seen.add(v);
          }
        }
        todo.push(pair.key, pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) todo.push(item);
    }
  }
  return out;
}

/** YAML errors often point at one character; cover the word there so the squiggle is visible. */
function widen(text: string, [start, end]: [number, number]): [number, number] {
  if (end - start > 1) return [start, end];
  let e = start;
  while (e < text.length && /[\w.-]/.test(text[e])) e++;
  return [start, Math.max(end, e)];
}

function firstLine(message: string): string {
  const nl = message.indexOf('\n');
  return (nl < 0 ? message : message.slice(0, nl)).trim();
}

export function lineEnd(text: string, offset: number): number {
  const nl = text.indexOf('\n', offset);
  const end = nl < 0 ? text.length : nl;
  return end > offset && text[end - 1] === '\r' ? end - 1 : end;
}

export function makeDiagnostic(
  pf: ParsedFile,
  start: number,
  end: number,
  severity: Severity,
  code: string,
  message: string,
  fixes: Fix[] = [],
  related: RelatedLocation[] = [],
): EngineDiagnostic {
  const s = Math.max(0, Math.min(start, pf.text.length));
  // A zero-width range is invisible in most editors: widen it to one character where possible.
  let e = Math.max(s, Math.min(end, pf.text.length));
  if (e === s && s < pf.text.length && pf.text[s] !== '\n') e = s + 1;
  const a = pf.lineCounter.linePos(s);
  const b = pf.lineCounter.linePos(e);
  return {
    file: pf.path,
    line: a.line,
    column: a.col,
    endLine: b.line,
    endColumn: b.col,
    severity,
    code,
    message,
    start: s,
    end: e,
    fixes,
    related,
  };
}

export function relatedAt(pf: ParsedFile, range: [number, number], message: string): RelatedLocation {
  const a = pf.lineCounter.linePos(range[0]);
  const b = pf.lineCounter.linePos(range[1]);
  return { file: pf.path, start: range[0], end: range[1], line: a.line, column: a.col, endLine: b.line, endColumn: b.col, message };
}

function rangeOf(node: Node | null | undefined): [number, number] | undefined {
  const r = node?.range;
  return r ? [r[0], r[1]] : undefined;
}

function deAlias(node: unknown, doc: Document.Parsed): unknown {
  let current = node;
  for (let hops = 0; isAlias(current) && hops < 16; hops++) current = current.resolve(doc);
  return current;
}

function keyText(pair: Pair<unknown, unknown>): string | undefined {
  const key = pair.key;
  if (isScalar(key)) return String(key.value);
  return undefined;
}

interface PairIndex {
  /** The last pair per key text, as a lookup by name finds it. */
  byName: Map<string, Pair<unknown, unknown>>;
  merges: Pair<unknown, unknown>[];
}

// Parsed documents are never edited in place, so a map's index stays right for its life. Without
// it every key lookup scanned the whole map: 25,000 unknown keys took a minute.
const pairIndexes = new WeakMap<object, PairIndex>();

function pairIndex(map: { items: Pair<unknown, unknown>[] }): PairIndex {
  let idx = pairIndexes.get(map);
  if (!idx) {
    idx = { byName: new Map(), merges: [] };
    for (const item of map.items) {
      const name = keyText(item);
      if (name === undefined) continue;
      idx.byName.set(name, item);
      if (name === '<<') idx.merges.push(item);
    }
    pairIndexes.set(map, idx);
  }
  return idx;
}

/** The pair of `map` whose key is `name`, looking through `<<` merge keys like YAML does. */
function findPair(map: unknown, name: string, doc: Document.Parsed, depth = 0): Pair<unknown, unknown> | undefined {
  if (!isMap(map) || depth > 8) return undefined;
  const idx = pairIndex(map as { items: Pair<unknown, unknown>[] });
  const found = idx.byName.get(name);
  if (found) return found;
  for (const item of idx.merges) {
    const src = deAlias(item.value, doc);
    const sources = isSeq(src) ? src.items.map((i) => deAlias(i, doc)) : [src];
    for (const s of sources) {
      const p = findPair(s, name, doc, depth + 1);
      if (p) return p;
    }
  }
  return undefined;
}

/** Source ranges of the key and value at `path`, or undefined when the file does not set it. */
export function findPath(pf: ParsedFile, path: KeyPath): Located | undefined {
  let node: unknown = pf.doc.contents;
  if (path.length === 0) {
    const r = rangeOf(node as Node | null) ?? [0, 0];
    return { valueNode: (node as Node | null) ?? undefined, keyRange: r, valueRange: r };
  }
  let located: Located | undefined;
  for (const seg of path) {
    node = deAlias(node, pf.doc);
    if (typeof seg === 'string') {
      const pair = findPair(node, seg, pf.doc);
      if (!pair || !isScalar(pair.key)) return undefined;
      const keyRange = rangeOf(pair.key) ?? [0, 0];
      const valueNode = isPair(pair) && pair.value && typeof pair.value === 'object' ? (pair.value as Node) : undefined;
      const valueRange = rangeOf(valueNode);
      located = {
        pair,
        keyNode: pair.key,
        valueNode,
        keyRange,
        valueRange: valueRange && valueRange[1] > valueRange[0] ? valueRange : keyRange,
      };
      node = pair.value;
    } else {
      if (!isSeq(node)) return undefined;
      const item = node.items[seg] as Node | undefined;
      const r = rangeOf(item);
      if (!item || !r) return undefined;
      located = { valueNode: item, keyRange: r, valueRange: r };
      node = item;
    }
  }
  return located;
}

export interface PositionInfo {
  path: PathSegment[];
  /** `key`: on a mapping key; `value`: on a scalar value or sequence item. */
  on: 'key' | 'value';
  range: [number, number];
}

/** Which key path the offset is on (inclusive of the end, so a cursor right after a word counts). */
export function locate(pf: ParsedFile, offset: number): PositionInfo | undefined {
  const visit = (node: unknown, path: PathSegment[], depth: number): PositionInfo | undefined => {
    if (depth > 64) return undefined;
    if (isMap(node)) {
      for (const pair of node.items) {
        const name = keyText(pair);
        const kr = rangeOf(pair.key as Node | null);
        if (name === undefined || !kr) continue;
        if (offset >= kr[0] && offset <= kr[1]) return { path: [...path, name], on: 'key', range: kr };
        const v = pair.value as Node | null;
        const vr = rangeOf(v);
        if (vr && offset >= vr[0] && offset <= vr[1]) {
          if (isMap(v) || isSeq(v)) return visit(v, [...path, name], depth + 1);
          return { path: [...path, name], on: 'value', range: vr };
        }
      }
      return undefined;
    }
    if (isSeq(node)) {
      for (let i = 0; i < node.items.length; i++) {
        const item = node.items[i] as Node | null;
        const r = rangeOf(item);
        if (!r || offset < r[0] || offset > r[1]) continue;
        if (isMap(item) || isSeq(item)) return visit(item, [...path, i], depth + 1);
        return { path: [...path, i], on: 'value', range: r };
      }
    }
    return undefined;
  };
  return visit(pf.doc.contents, [], 0);
}

/** Keys set at the top of each section of the file, for "is this set here" questions. */
export function hasPath(pf: ParsedFile, path: KeyPath): boolean {
  return findPath(pf, path) !== undefined;
}

export function editAt(pf: ParsedFile, start: number, end: number, newText: string): TextEditSpec {
  const a = pf.lineCounter.linePos(start);
  const b = pf.lineCounter.linePos(end);
  return { start, end, line: a.line, column: a.col, endLine: b.line, endColumn: b.col, newText };
}

export function replaceFix(pf: ParsedFile, range: [number, number], newText: string, title: string, preferred = false): Fix {
  return { title, file: pf.path, edits: [editAt(pf, range[0], range[1], newText)], preferred };
}
