// Edits that set a key to a value in a block-style YAML file: replace the value where the key is
// written, otherwise insert the key (and any missing sections) after the nearest existing section,
// matching its indentation. Flow-style maps (`{a: 1}`) are left alone.
import { isMap, isScalar } from 'yaml';
import type { Node } from 'yaml';
import { editAt, findPath, lineEnd } from './yamlFile';
import type { ParsedFile } from './yamlFile';
import type { Fix, TextEditSpec } from './types';

const INDENT = '  ';

function column(pf: ParsedFile, offset: number): number {
  return pf.lineCounter.linePos(offset).col - 1;
}

function nestedText(segments: readonly string[], value: string, indent: string): string {
  return segments.map((seg, i) => `${indent}${INDENT.repeat(i)}${seg}:${i === segments.length - 1 ? ` ${value}` : ''}`).join('\n');
}

export function setValueEdit(pf: ParsedFile, path: readonly string[], value: string): TextEditSpec | undefined {
  const text = pf.text;
  const here = findPath(pf, path);
  if (here) {
    if (here.valueRange !== here.keyRange) return editAt(pf, here.valueRange[0], here.valueRange[1], value);
    const colon = text.indexOf(':', here.keyRange[1]);
    if (colon < 0) return undefined;
    const end = lineEnd(text, colon);
    if (
      text
        .slice(colon + 1, end)
        .replace(/#.*$/, '')
        .trim() !== ''
    )
      return undefined;
    return editAt(pf, colon + 1, colon + 1, ` ${value}`);
  }
  for (let i = path.length - 1; i >= 0; i--) {
    const missing = path.slice(i);
    if (i === 0) {
      const contents = pf.doc.contents as Node | null;
      if (contents === null || (isScalar(contents) && contents.value === null)) {
        const prefix = text === '' || text.endsWith('\n') ? '' : '\n';
        return editAt(pf, text.length, text.length, `${prefix}${nestedText(missing, value, '')}\n`);
      }
      return insertInto(pf, contents, missing, value, 0);
    }
    const parent = findPath(pf, path.slice(0, i));
    if (!parent) continue;
    const node = parent.valueNode;
    if (node && isMap(node)) return insertInto(pf, node, missing, value, column(pf, parent.keyRange[0]) + INDENT.length);
    if (!node || (isScalar(node) && node.value === null && parent.valueRange === parent.keyRange)) {
      // `section:` with nothing under it yet.
      const colon = text.indexOf(':', parent.keyRange[1]);
      if (colon < 0) return undefined;
      const end = lineEnd(text, colon);
      if (
        text
          .slice(colon + 1, end)
          .replace(/#.*$/, '')
          .trim() !== ''
      )
        return undefined;
      const indent = ' '.repeat(column(pf, parent.keyRange[0]) + INDENT.length);
      return editAt(pf, end, end, `\n${nestedText(missing, value, indent)}`);
    }
    return undefined;
  }
  return undefined;
}

function insertInto(
  pf: ParsedFile,
  map: Node,
  missing: readonly string[],
  value: string,
  fallbackIndent: number,
): TextEditSpec | undefined {
  if (!isMap(map) || map.flow) return undefined;
  const items = map.items;
  if (items.length === 0) return undefined;
  const firstKey = items[0].key as Node | null;
  const last = items[items.length - 1];
  const lastNode = (last.value ?? last.key) as Node | null;
  const at = lastNode?.range ? lastNode.range[1] : undefined;
  if (!firstKey?.range || at === undefined) return undefined;
  const indent = ' '.repeat(firstKey.range ? column(pf, firstKey.range[0]) : fallbackIndent);
  // After the whole line, so a trailing comment stays with its own key.
  let end = lineEnd(pf.text, Math.max(at - 1, firstKey.range[0]));
  if (at > 0 && pf.text[at - 1] === '\n') end = at - 1;
  return editAt(pf, end, end, `\n${nestedText(missing, value, indent)}`);
}

export function setValueFix(pf: ParsedFile, path: readonly string[], value: string, title: string, preferred = false): Fix | undefined {
  const edit = setValueEdit(pf, path, value);
  return edit ? { title, file: pf.path, edits: [edit], preferred } : undefined;
}
