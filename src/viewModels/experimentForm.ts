// The experiment form's model, VS Code-free: sections and fields straight from
// schema/experiment.schema.json (nothing listed by hand), every field's value and where it comes
// from (this file at a line, an `extends` parent, the schema default), and the language server's
// diagnostics placed at the field their key path names.
import { basename, dirname, resolve } from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import type { Node, Pair } from 'yaml';
import type { ValidationDiagnostic } from '../protocol/lsp';
import type {
  FieldKind,
  FieldState,
  FormDiagnostic,
  FormField,
  FormGroup,
  FormSection,
  FormValue,
  ValueOrigin,
} from '../protocol/webviews/experimentForm';
import { fieldId } from '../protocol/webviews/experimentForm';
import { readConfigChain, type ChainDocument } from '../runs/configChain';

/** The part of a JSON Schema node the form reads. */
export interface SchemaNode {
  type?: string | string[];
  enum?: Array<string | number>;
  const?: string | number;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  description?: string;
  default?: unknown;
  'x-reference'?: unknown;
  'x-aliases'?: string[];
  'x-path'?: unknown;
}

const GENERAL = 'general';

function isObjectNode(node: SchemaNode): boolean {
  return node.properties !== undefined;
}

function kindOf(node: SchemaNode): { kind: FieldKind; nullable: boolean; choices?: Array<string | number> } {
  const types = Array.isArray(node.type) ? node.type : node.type ? [node.type] : [];
  const nullable = types.includes('null');
  if (node.enum) return { kind: 'enum', nullable, choices: node.enum };
  if (node.const !== undefined) return { kind: 'enum', nullable, choices: [node.const] };
  if (types.includes('array')) return { kind: 'list', nullable, choices: node.items?.enum };
  if (types.includes('integer')) return { kind: 'integer', nullable };
  if (types.includes('number')) return { kind: 'number', nullable };
  if (types.includes('boolean')) return { kind: 'boolean', nullable };
  return { kind: 'string', nullable };
}

function asFormValue(v: unknown): FormValue | undefined {
  if (v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'boolean' || (typeof x === 'number' && Number.isFinite(x))))
    return v as FormValue;
  return undefined;
}

function makeField(path: string[], node: SchemaNode): FormField {
  const { kind, nullable, choices } = kindOf(node);
  const f: FormField = { id: fieldId(path), path, kind };
  if (choices) f.choices = choices;
  if (nullable) f.nullable = true;
  for (const k of ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'] as const) if (node[k] !== undefined) f[k] = node[k];
  if (node.description) f.description = node.description;
  const def = asFormValue(node.default);
  if (def !== undefined) f.default = def;
  const ref = asFormValue(node['x-reference']);
  if (ref !== undefined) f.reference = ref;
  if (node['x-aliases']?.length) f.aliases = node['x-aliases'];
  if (node['x-path'] !== undefined) f.isPath = true;
  return f;
}

/** Groups of one object node: its own leaves first, then each nested object, depth first. */
function groupsOf(path: string[], node: SchemaNode): FormGroup[] {
  const own: FormField[] = [];
  const nested: FormGroup[] = [];
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    if (isObjectNode(child)) nested.push(...groupsOf([...path, key], child));
    else own.push(makeField([...path, key], child));
  }
  const groups: FormGroup[] = [];
  if (own.length > 0) groups.push({ id: fieldId(path), path, description: node.description, fields: own });
  return [...groups, ...nested];
}

/** The form's sections: top-level leaves under "general", then one section per top-level object. */
export function formSections(schema: SchemaNode): FormSection[] {
  const general: FormField[] = [];
  const sections: FormSection[] = [];
  for (const [key, node] of Object.entries(schema.properties ?? {})) {
    if (isObjectNode(node)) sections.push({ id: key, title: key, description: node.description, groups: groupsOf([key], node) });
    else general.push(makeField([key], node));
  }
  const head: FormSection = {
    id: GENERAL,
    title: 'general',
    description: schema.description,
    groups: [{ id: GENERAL, path: [], fields: general }],
  };
  return [head, ...sections];
}

/** Every field of the sections, by id. */
export function fieldIndex(sections: readonly FormSection[]): Map<string, FormField> {
  const out = new Map<string, FormField>();
  for (const s of sections) for (const g of s.groups) for (const f of g.fields) out.set(f.id, f);
  return out;
}

/** Reads a config file's parents; the default follows `extends` on disk (src/runs/configChain.ts). */
export type ParentReader = (parentPath: string) => ChainDocument[];

export interface FormValues {
  values: Record<string, FieldState>;
  parseError?: string;
}

function getIn(node: unknown, path: readonly string[]): unknown {
  let cur = node;
  for (const key of path) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
    if (cur === undefined) return undefined;
  }
  return cur;
}

/** 1-based line of the key at `path` in the parsed document, when this file sets it. */
function ownLine(contents: unknown, path: readonly string[], lines: LineCounter): number | undefined {
  let node = contents;
  let keyNode: Node | undefined;
  for (const key of path) {
    if (!isMap(node)) return undefined;
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === key) as Pair | undefined;
    if (!pair) return undefined;
    keyNode = pair.key as Node;
    node = pair.value;
  }
  const at = keyNode?.range?.[0];
  return at === undefined ? undefined : lines.linePos(at).line;
}

/**
 * Each field's value and origin for the document `text` of `filePath`: the file itself first, then
 * its `extends` parents (nearest first), then the schema default.
 */
export function formValues(
  fields: ReadonlyMap<string, FormField>,
  text: string,
  filePath: string,
  readParents: ParentReader = readConfigChain,
): FormValues {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false });
  if (doc.errors.length > 0) return { values: {}, parseError: `${doc.errors[0].message.split('\n')[0]}` };
  const own = doc.toJS({ maxAliasCount: 100 }) as unknown;
  if (own !== null && own !== undefined && (typeof own !== 'object' || Array.isArray(own))) {
    return { values: {}, parseError: 'the file is not a mapping of config keys' };
  }
  const ext = (own as Record<string, unknown> | null)?.extends;
  const root = resolve(filePath);
  const parents =
    typeof ext === 'string'
      ? readParents(resolve(dirname(root), ext))
          .filter((d) => d.path !== root)
          .reverse()
      : [];
  const values: Record<string, FieldState> = {};
  for (const [id, f] of fields) {
    const mine = getIn(own, f.path);
    if (mine !== undefined) {
      values[id] = { value: mine as FieldState['value'], origin: { kind: 'file', line: ownLine(doc.contents, f.path, lines) ?? 1 } };
      continue;
    }
    const parent = parents.find((p) => getIn(p.doc, f.path) !== undefined);
    if (parent) {
      values[id] = { value: getIn(parent.doc, f.path) as FieldState['value'], origin: parentOrigin(parent.path) };
      continue;
    }
    values[id] = f.default !== undefined ? { value: f.default, origin: { kind: 'default' } } : { origin: { kind: 'unset' } };
  }
  return { values };
}

function parentOrigin(path: string): ValueOrigin {
  return { kind: 'parent', file: path, name: basename(path) };
}

/** The field id a key path belongs to: the longest prefix that is a field or group, else none. */
export function fieldOfPath(
  fields: ReadonlyMap<string, FormField>,
  groups: ReadonlySet<string>,
  path: readonly (string | number)[],
): string | undefined {
  const keys = path.filter((p): p is string => typeof p === 'string');
  for (let n = keys.length; n > 0; n--) {
    const id = fieldId(keys.slice(0, n));
    if (fields.has(id) || groups.has(id)) return id;
  }
  return undefined;
}

export function groupIds(sections: readonly FormSection[]): Set<string> {
  const out = new Set<string>();
  for (const s of sections) for (const g of s.groups) if (g.path.length > 0) out.add(g.id);
  return out;
}

/** The language server's diagnostics, each at its field (the server gives the key path). */
export function formDiagnostics(
  diagnostics: readonly ValidationDiagnostic[],
  fields: ReadonlyMap<string, FormField>,
  groups: ReadonlySet<string>,
  filePath: string,
): FormDiagnostic[] {
  const root = resolve(filePath);
  return diagnostics.map((d, id) => {
    const out: FormDiagnostic = {
      id,
      severity: d.severity,
      code: d.code,
      message: d.message,
      line: d.line,
      column: d.column,
      file: d.file,
      inherited: resolve(d.file) !== root,
      fixes: (d.fixes ?? []).map((f) => ({ title: f.title })),
    };
    if (d.path) {
      out.path = d.path;
      const field = fieldOfPath(fields, groups, d.path);
      if (field) out.field = field;
    }
    return out;
  });
}
