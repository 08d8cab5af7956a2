// The smallest text edit that sets or removes one key of a config: what the experiment form turns a
// field change into, so the file keeps its comments, key order and formatting everywhere else.
// The `yaml` Document gives each node's source range; only the value's characters are replaced, a
// missing key is inserted as one line under its section (in the section's own indentation), and a
// reset deletes the key's line(s). No `vscode` here: the provider maps the result to a WorkspaceEdit.
import { isMap, isScalar, isSeq, parseDocument, stringify } from 'yaml';
import type { Document, Node, Pair, Scalar, YAMLMap } from 'yaml';

export interface TextChange {
  /** UTF-16 offset into the original text. */
  offset: number;
  /** Characters replaced. */
  length: number;
  newText: string;
}

/** A value a form field can write: YAML scalars and lists of them. */
export type FieldValue = string | number | boolean | null | Array<string | number | boolean>;

/** Why an edit could not be made (the form shows it at the field). */
export class ConfigEditError extends Error {}

/**
 * The changes that make `text` set `path` to `value`, or remove `path` when `value` is undefined
 * (the form's "reset": the value then comes from an `extends` parent or the schema default).
 * Returns [] when nothing needs to change. Throws ConfigEditError when the file cannot take the edit
 * (YAML errors, a section that is not a mapping).
 */
export function editField(text: string, path: readonly string[], value: FieldValue | undefined): TextChange[] {
  if (path.length === 0) throw new ConfigEditError('editField: empty key path');
  const doc = parseDocument(text, { keepSourceTokens: false, uniqueKeys: false });
  if (doc.errors.length > 0) {
    throw new ConfigEditError(`the file has YAML errors (${doc.errors[0].message.split('\n')[0]}): fix them in the text first`);
  }
  const style = detectStyle(text, doc);
  return value === undefined ? removeKey(text, doc, path) : setKey(text, doc, path, value, style);
}

interface Style {
  /** Spaces per nesting level for new sections. */
  unit: number;
  eol: string;
}

/** The file's indentation unit (the first nested block key's column) and line ending. */
function detectStyle(text: string, doc: Document.Parsed): Style {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  let unit = 2;
  const root = doc.contents;
  if (isMap(root)) {
    for (const pair of root.items) {
      const v = pair.value as Node | null;
      if (isMap(v) && !v.flow && v.items.length > 0) {
        const col = columnOf(text, (v.items[0].key as Node).range?.[0] ?? 0);
        if (col > 0) {
          unit = col;
          break;
        }
      }
    }
  }
  return { unit, eol };
}

function columnOf(text: string, offset: number): number {
  return offset - (text.lastIndexOf('\n', offset - 1) + 1);
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

/** Offset just past the line break that ends the line holding `offset` (or the text's end). */
function nextLineStart(text: string, offset: number): number {
  const nl = text.indexOf('\n', offset);
  return nl < 0 ? text.length : nl + 1;
}

/** The map's own pair for `key` (not one reached through a `<<` merge: setting a key here overrides it). */
function ownPair(map: YAMLMap, key: string): Pair | undefined {
  for (let i = map.items.length - 1; i >= 0; i--) {
    const k = map.items[i].key;
    if (isScalar(k) && String(k.value) === key) return map.items[i] as Pair;
  }
  return undefined;
}

/** A YAML scalar both readers (this editor's YAML 1.2 and the trainer's PyYAML) read as `value`. */
export function formatScalar(value: string | number | boolean | null, like?: Scalar): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return Number.isNaN(value) ? '.nan' : value > 0 ? '.inf' : '-.inf';
    return String(value);
  }
  // Keep the quote style the file already uses for this value.
  if (like?.type === 'QUOTE_DOUBLE' || like?.type === 'QUOTE_SINGLE') {
    return stringify(value, { defaultStringType: like.type, lineWidth: 0 }).trimEnd();
  }
  // A value on one line whatever it holds: a multi-line string as a double-quoted scalar (`\n`), not a
  // block scalar, whose lines would have to be indented under the key.
  if (value.includes('\n') || value.includes('\r')) return stringify(value, { defaultStringType: 'QUOTE_DOUBLE', lineWidth: 0 }).trimEnd();
  const plain = stringify(value, { version: '1.2', lineWidth: 0 }).trimEnd();
  if (/^["'|>]/.test(plain)) return plain;
  // A plain scalar PyYAML's 1.1 rules would read differently (timestamps, `010`, `1_000`): quoted.
  const v11 = stringify(value, { version: '1.1', lineWidth: 0 }).trimEnd();
  return /^["']/.test(v11) ? v11 : plain;
}

/** An item of a flow list: quoted when a flow indicator in it would end the item or the list. */
function formatFlowItem(value: string | number | boolean | null): string {
  const text = formatScalar(value);
  if (typeof value !== 'string' || /^["']/.test(text) || !/[,[\]{}#]/.test(text)) return text;
  return stringify(value, { defaultStringType: 'QUOTE_DOUBLE', lineWidth: 0 }).trimEnd();
}

function formatValue(value: FieldValue, like?: Node | null): string {
  if (Array.isArray(value)) return `[${value.map((v) => formatFlowItem(v)).join(', ')}]`;
  return formatScalar(value, isScalar(like) ? like : undefined);
}

function setKey(text: string, doc: Document.Parsed, path: readonly string[], value: FieldValue, style: Style): TextChange[] {
  let node: unknown = doc.contents;
  if (node === null || node === undefined || (isScalar(node) && node.value === null && !node.source)) {
    return [appendTopLevel(text, path, value, style)];
  }
  for (let depth = 0; depth < path.length; depth++) {
    if (!isMap(node))
      throw new ConfigEditError(`cannot set ${path.join('.')}: ${path.slice(0, depth).join('.') || 'the document'} is not a mapping`);
    const map: YAMLMap = node;
    const pair = ownPair(map, path[depth]);
    const rest = path.slice(depth);
    if (!pair) return [insertInto(text, map, depth, rest, value, style)];
    const v = pair.value as Node | null;
    if (depth === path.length - 1) return replaceValue(text, pair, v, value);
    if (v === null || (isScalar(v) && v.value === null)) return [fillEmpty(text, pair, v, path.slice(depth + 1), value, style)];
    node = v;
  }
  return [];
}

/** Replaces only the value's characters (a trailing comment and the line break stay). */
function replaceValue(text: string, pair: Pair, v: Node | null, value: FieldValue): TextChange[] {
  const newText = formatValue(value, v);
  if (!v || !v.range || v.range[1] === v.range[0]) {
    // `key:` with nothing after it: the value goes after the colon.
    const keyEnd = (pair.key as Node).range?.[1] ?? 0;
    const colon = text.indexOf(':', keyEnd);
    return [{ offset: colon + 1, length: 0, newText: ` ${newText}` }];
  }
  if (isMap(v)) throw new ConfigEditError('cannot replace a section with a value');
  const [start, end] = v.range;
  // A block value (`- item` lines, a `|` or `>` scalar) starts on the lines below the key and its range
  // ends with their line break: the new one-line value goes right after the colon, and the break stays.
  const block = (isSeq(v) && !v.flow) || (isScalar(v) && (v.type === 'BLOCK_LITERAL' || v.type === 'BLOCK_FOLDED'));
  if (block) {
    const keyEnd = (pair.key as Node).range?.[1] ?? start;
    const colon = text.indexOf(':', keyEnd);
    const tail = /\r?\n$/.exec(text.slice(colon, end))?.[0] ?? '';
    // A comment on the key's line (`key: # why` or `key: | # why`) moves after the new value.
    const lineEnd = text.slice(colon + 1).search(/\r?\n/);
    const keyLine = lineEnd < 0 ? text.slice(colon + 1) : text.slice(colon + 1, colon + 1 + lineEnd);
    const comment = /(^|\s)(#.*)$/.exec(keyLine)?.[2];
    return [{ offset: colon + 1, length: end - tail.length - (colon + 1), newText: ` ${newText}${comment ? ` ${comment}` : ''}` }];
  }
  const old = text.slice(start, end);
  if (old === newText) return [];
  return [{ offset: start, length: end - start, newText }];
}

/** Lines `key: value` (or nested `key:` lines ending in one) at `indent`. */
function blockLines(rest: readonly string[], value: FieldValue, indent: number, style: Style): string[] {
  const lines: string[] = [];
  rest.forEach((key, i) => {
    const pad = ' '.repeat(indent + i * style.unit);
    lines.push(i === rest.length - 1 ? `${pad}${formatKey(key)}: ${formatValue(value)}` : `${pad}${formatKey(key)}:`);
  });
  return lines;
}

function flowText(rest: readonly string[], value: FieldValue): string {
  let out = formatValue(value);
  for (let i = rest.length - 1; i >= 1; i--) out = `{ ${formatKey(rest[i])}: ${out} }`;
  return `${formatKey(rest[0])}: ${out}`;
}

function formatKey(key: string): string {
  return formatScalar(key);
}

/** Appends `rest` (not yet in `map`, at nesting `depth`) as the map's last entry. */
function insertInto(text: string, map: YAMLMap, depth: number, rest: readonly string[], value: FieldValue, style: Style): TextChange {
  const range = map.range ?? [text.length, text.length, text.length];
  if (map.flow) {
    // `{ r: 8, alpha: 16 }` → `{ r: 8, alpha: 16, dropout: 0.1 }`: before the closing brace.
    const close = text.lastIndexOf('}', range[1] - 1);
    if (close < 0) throw new ConfigEditError('cannot find the end of a flow mapping');
    const last = map.items[map.items.length - 1] as Pair | undefined;
    if (!last) return { offset: close, length: 0, newText: `${flowText(rest, value)}` };
    const lastEnd = endOf(last);
    return { offset: lastEnd, length: 0, newText: `, ${flowText(rest, value)}` };
  }
  const first = map.items[0] as Pair | undefined;
  const indent = first ? columnOf(text, (first.key as Node).range?.[0] ?? 0) : depth * style.unit;
  const lines = blockLines(rest, value, indent, style);
  const last = map.items[map.items.length - 1] as Pair | undefined;
  // After the last entry's last line (its trailing comment included), so nothing moves; a new
  // top-level section goes at the end of the file.
  const after = depth === 0 ? text.length : last ? endOf(last, true) : range[1];
  return insertLines(text, after, lines, style);
}

/** `ppo:` with nothing under it gets its first key on the next line. */
function fillEmpty(text: string, pair: Pair, v: Node | null, rest: readonly string[], value: FieldValue, style: Style): TextChange {
  const keyStart = (pair.key as Node).range?.[0] ?? 0;
  const indent = columnOf(text, keyStart) + style.unit;
  const lines = blockLines(rest, value, indent, style);
  if (v && v.range && v.range[1] > v.range[0]) {
    // `ppo: null` / `ppo: ~`: the scalar gives way to the mapping.
    const colon = text.indexOf(':', (pair.key as Node).range?.[1] ?? keyStart);
    return { offset: colon + 1, length: v.range[1] - colon - 1, newText: `${style.eol}${lines.join(style.eol)}` };
  }
  const colon = text.indexOf(':', (pair.key as Node).range?.[1] ?? keyStart);
  return insertLines(text, colon + 1, lines, style);
}

function appendTopLevel(text: string, path: readonly string[], value: FieldValue, style: Style): TextChange {
  return insertLines(text, text.length, blockLines(path, value, 0, style), style);
}

/**
 * Inserts whole lines at the end of the line holding `offset`: the result differs from `text` by
 * exactly those lines.
 */
function insertLines(text: string, offset: number, lines: string[], style: Style): TextChange {
  const body = lines.join(style.eol);
  // `offset` may be at a line start already (a block node's range ends past its line break).
  if (offset > 0 && text[offset - 1] === '\n') return { offset, length: 0, newText: `${body}${style.eol}` };
  const nl = text.indexOf('\n', offset);
  // The last line has no break: the new lines go after one, and the file still ends without one.
  if (nl < 0) return { offset: text.length, length: 0, newText: text.length > 0 ? `${style.eol}${body}` : `${body}${style.eol}` };
  return { offset: nl + 1, length: 0, newText: `${body}${style.eol}` };
}

/** End of a pair's value (with its trailing comment when `withComment`). */
function endOf(pair: Pair, withComment = false): number {
  const v = pair.value as Node | null;
  const k = pair.key as Node;
  const r = v?.range ?? k.range;
  if (!r) return 0;
  return withComment ? r[2] : r[1];
}

function removeKey(text: string, doc: Document.Parsed, path: readonly string[]): TextChange[] {
  const maps: YAMLMap[] = [];
  const pairs: Pair[] = [];
  let node: unknown = doc.contents;
  for (const key of path) {
    if (!isMap(node)) return [];
    const pair = ownPair(node, key);
    if (!pair) return [];
    maps.push(node);
    pairs.push(pair);
    node = pair.value;
  }
  // Removing a section's only key removes the section too (an empty `ppo:` would read as null).
  let level = path.length - 1;
  while (level > 0 && maps[level].items.length === 1) level--;
  return [deletePair(text, maps[level], pairs[level])];
}

function deletePair(text: string, map: YAMLMap, pair: Pair): TextChange {
  const index = map.items.indexOf(pair);
  const keyStart = (pair.key as Node).range?.[0] ?? 0;
  if (map.flow) {
    const next = map.items[index + 1] as Pair | undefined;
    if (next) {
      const nextStart = (next.key as Node).range?.[0] ?? keyStart;
      return { offset: keyStart, length: nextStart - keyStart, newText: '' };
    }
    const prev = map.items[index - 1] as Pair | undefined;
    const from = prev ? endOf(prev) : keyStart;
    return { offset: from, length: endOf(pair) - from, newText: '' };
  }
  // Whole lines: from the key's line start to past the value's last line (comment and break included).
  const start = lineStart(text, keyStart);
  const valueEnd = endOf(pair, true);
  const end = valueEnd > 0 && text[valueEnd - 1] === '\n' ? valueEnd : nextLineStart(text, valueEnd);
  return { offset: start, length: end - start, newText: '' };
}

/** Applies changes (non-overlapping) to `text`: what the editor does with the WorkspaceEdit. */
export function applyChanges(text: string, changes: readonly TextChange[]): string {
  let out = text;
  for (const c of [...changes].sort((a, b) => b.offset - a.offset))
    out = out.slice(0, c.offset) + c.newText + out.slice(c.offset + c.length);
  return out;
}
