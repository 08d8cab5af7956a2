// Completion from the text around the cursor (it must work while the document is half typed and
// does not parse): keys of the enclosing section with their docs, enum values, booleans, file
// paths, and a section snippet filled with the LLaVA-RLHF reference values.
import * as nodePath from 'node:path';
import type { Analysis } from './analyze';
import { isObjectSchema, keyDocumentation, referenceLines, schemaAt, typeLabel } from './schema';
import type { SchemaNode } from './schema';
import { expandPath, pathKeyAt } from './paths';

export type CompletionKind = 'property' | 'section' | 'value' | 'file' | 'folder' | 'snippet';

export interface CompletionEntry {
  label: string;
  kind: CompletionKind;
  detail?: string;
  documentation?: string;
  insertText: string;
  isSnippet: boolean;
  replaceStart: number;
  replaceEnd: number;
  sortText?: string;
}

const KEY_LINE = /^(\s*)([A-Za-z_][\w.-]*)\s*:\s*(#.*)?$/;

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

function isBlank(line: string): boolean {
  return /^\s*(#.*)?$/.test(line);
}

/** Section path that owns a line at `indent`, from the lines above it; undefined inside lists. */
function parentPath(above: readonly string[], indent: number, allowSameIndent = false): { path: string[]; line: number } | undefined {
  const path: string[] = [];
  let cur = indent;
  let ownerLine = -1;
  for (let i = above.length - 1; i >= 0 && (cur > 0 || allowSameIndent); i--) {
    const line = above[i];
    if (isBlank(line)) continue;
    const ind = indentOf(line);
    const same = allowSameIndent && ind === cur && path.length === 0;
    if (ind >= cur && !same) continue;
    const m = KEY_LINE.exec(line);
    if (!m) return undefined;
    path.unshift(m[2]);
    if (ownerLine < 0) ownerLine = i;
    cur = ind;
    allowSameIndent = false;
  }
  return { path, line: ownerLine };
}

function snippetEscape(s: string): string {
  return s.replace(/[$}\\]/g, (c) => `\\${c}`);
}

function scalarText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function keyInsert(key: string, node: SchemaNode): string {
  if (isObjectSchema(node)) return `${key}:\n  $0`;
  const choices = node.enum ?? (node.type === 'boolean' ? [true, false] : undefined);
  if (choices) return `${key}: \${1|${choices.map((c) => scalarText(c).replace(/[,|]/g, '')).join(',')}|}`;
  if (node.type === 'array') return `${key}:\n  - $0`;
  if (node.default !== undefined && node.default !== null && typeof node.default !== 'object')
    return `${key}: \${1:${snippetEscape(scalarText(node.default))}}`;
  return `${key}: $0`;
}

function siblingKeys(lines: readonly string[], lineIndex: number, indent: number): Set<string> {
  const keys = new Set<string>();
  const scan = (from: number, step: number): void => {
    for (let i = from; i >= 0 && i < lines.length; i += step) {
      const line = lines[i];
      if (isBlank(line)) continue;
      const ind = indentOf(line);
      if (ind < indent) break;
      if (ind === indent) {
        const m = /^\s*([A-Za-z_][\w.-]*)\s*:/.exec(line);
        if (m) keys.add(m[1]);
      }
    }
  };
  scan(lineIndex - 1, -1);
  scan(lineIndex + 1, 1);
  return keys;
}

function keyCompletions(parent: string[], present: Set<string>, start: number, end: number): CompletionEntry[] {
  const node = schemaAt(parent);
  if (!node?.properties) return [];
  const out: CompletionEntry[] = [];
  Object.entries(node.properties).forEach(([key, child], i) => {
    if (present.has(key)) return;
    out.push({
      label: key,
      kind: isObjectSchema(child) ? 'section' : 'property',
      detail: typeLabel(child),
      documentation: keyDocumentation(child),
      insertText: keyInsert(key, child),
      isSnippet: true,
      replaceStart: start,
      replaceEnd: end,
      sortText: String(i).padStart(3, '0'),
    });
    if (parent.length === 0 && child.properties) {
      const block = referenceLines(child, '  ');
      if (block.length > 0) {
        out.push({
          label: `${key} (LLaVA-RLHF reference)`,
          kind: 'snippet',
          detail: `\`${key}\` section with the reference recipe's values`,
          documentation: `${child.description ?? ''}\n\n\`\`\`yaml\n${key}:\n${block.join('\n')}\n\`\`\``,
          insertText: snippetEscape(`${key}:\n${block.join('\n')}\n`),
          isSnippet: true,
          replaceStart: start,
          replaceEnd: end,
          sortText: `${String(i).padStart(3, '0')}z`,
        });
      }
    }
  });
  return out;
}

function valueCompletions(a: Analysis, keyPath: string[], node: SchemaNode, prefix: string, start: number, end: number): CompletionEntry[] {
  const out: CompletionEntry[] = [];
  const add = (v: unknown, doc?: string): void => {
    const text = scalarText(v);
    out.push({
      label: text,
      kind: 'value',
      detail: typeLabel(node),
      documentation: doc,
      insertText: text,
      isSnippet: false,
      replaceStart: start,
      replaceEnd: end,
    });
  };
  const doc = keyDocumentation(node);
  if (node.enum) node.enum.forEach((v) => add(v, doc));
  else if (node.const !== undefined) add(node.const, doc);
  else if (node.type === 'boolean') [true, false].forEach((v) => add(v, doc));
  else if (typeof node.default === 'string' && node.default !== '') add(node.default, doc);
  const pathKey = pathKeyAt(keyPath);
  const isExtends = keyPath.length === 1 && keyPath[0] === 'extends';
  if ((pathKey || isExtends) && nodePath.isAbsolute(a.file.path) && a.host.listDir) {
    const slash = prefix.lastIndexOf('/');
    const dirPart = slash >= 0 ? prefix.slice(0, slash + 1) : '';
    const expanded = expandPath(dirPart === '' ? '.' : dirPart, nodePath.dirname(a.file.path), a.host.env);
    const entries = expanded.absolute ? (a.host.listDir(expanded.absolute) ?? []) : [];
    const wantDirs = pathKey?.kind === 'dir';
    for (const e of entries.slice(0, 500)) {
      if (e.name.startsWith('.') && !prefix.slice(slash + 1).startsWith('.')) continue;
      if (!e.isDirectory) {
        if (wantDirs) continue;
        if (isExtends ? !/\.ya?ml$/i.test(e.name) : !/\.jsonl?$/i.test(e.name)) continue;
      }
      out.push({
        label: e.isDirectory ? `${e.name}/` : e.name,
        kind: e.isDirectory ? 'folder' : 'file',
        insertText: e.isDirectory ? `${e.name}/` : e.name,
        isSnippet: false,
        replaceStart: start + dirPart.length,
        replaceEnd: end,
      });
    }
  }
  return out;
}

export function complete(a: Analysis, offset: number): CompletionEntry[] {
  const text = a.file.text;
  if (offset < 0 || offset > text.length) return [];
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const before = text.slice(lineStart, offset).replace(/\r$/, '');
  if (/(^|\s)#/.test(before)) return [];
  let wordEnd = offset;
  while (wordEnd < text.length && /[\w.-]/.test(text[wordEnd])) wordEnd++;
  const above = text.slice(0, lineStart).split('\n');
  if (above.length > 0 && above[above.length - 1] === '') above.pop();
  const lineIndex = above.length;

  const item = /^(\s*)-\s+(\S*)$/.exec(before);
  if (item) {
    const owner = parentPath(above, item[1].length, true);
    if (!owner || owner.path.length === 0) return [];
    const node = schemaAt(owner.path)?.items;
    return node ? valueCompletions(a, owner.path, node, item[2], offset - item[2].length, wordEnd) : [];
  }
  const value = /^(\s*)([A-Za-z_][\w.-]*)\s*:\s+(.*)$/.exec(before);
  if (value) {
    const parent = parentPath(above, value[1].length);
    if (!parent) return [];
    const keyPath = [...parent.path, value[2]];
    const node = schemaAt(keyPath);
    if (!node) return [];
    let prefix = value[3];
    const flow = /^\[(?:[^\]]*,)?\s*([^,\]\s]*)$/.exec(prefix);
    if (flow && node.items) return valueCompletions(a, keyPath, node.items, flow[1], offset - flow[1].length, wordEnd);
    if (prefix.startsWith('"') || prefix.startsWith("'")) prefix = prefix.slice(1);
    if (/\s/.test(prefix.trim())) return [];
    return valueCompletions(a, keyPath, node, prefix, offset - prefix.length, wordEnd);
  }
  const key = /^(\s*)([A-Za-z_][\w.-]*)?$/.exec(before);
  if (key) {
    const indent = key[1].length;
    const parent = parentPath(above, indent);
    if (!parent) return [];
    const lines = text.split('\n');
    const present = siblingKeys(lines, lineIndex, indent);
    return keyCompletions(parent.path, present, offset - (key[2]?.length ?? 0), wordEnd);
  }
  return [];
}
