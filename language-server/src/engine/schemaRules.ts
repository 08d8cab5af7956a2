// Schema diagnostics: ajv validates the merged config against schema/experiment.schema.json and
// each error is mapped to the source range of the offending key or value, in the file that set it.
import Ajv from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { isScalar } from 'yaml';
import { EXPERIMENT_SCHEMA, allKeyPaths, propertyNames, schemaAt } from './schema';
import { originOf } from './chain';
import type { Chain } from './chain';
import { closest } from './suggest';
import { makeDiagnostic, replaceFix } from './yamlFile';
import type { EngineDiagnostic, Fix, PathSegment } from './types';
import { pathToString } from './types';

let validator: ValidateFunction | undefined;

/** Compiles the schema validator now (a server calls this while idle after start-up). */
export function warmUp(): void {
  getValidator();
}

function getValidator(): ValidateFunction {
  // strict: false so annotation keywords (`x-reference`, future `x-*`) are accepted as they are.
  validator ??= new Ajv({ allErrors: true, strict: false, allowUnionTypes: true }).compile(EXPERIMENT_SCHEMA);
  return validator;
}

function parsePointer(pointer: string, root: unknown): PathSegment[] {
  if (pointer === '') return [];
  const out: PathSegment[] = [];
  let node: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      const i = Number(seg);
      out.push(i);
      node = node[i];
    } else {
      out.push(seg);
      node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[seg] : undefined;
    }
  }
  return out;
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a section (mapping)';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${JSON.stringify(v)}`;
}

function expectedType(params: Record<string, unknown>): string {
  const t = params.type;
  const list = Array.isArray(t) ? t : [String(t)];
  return list.map((x) => (x === 'object' ? 'a section (mapping)' : x === 'array' ? 'a list' : x)).join(' or ');
}

const BOOLEAN_WORDS: Record<string, boolean> = { yes: true, no: false, on: true, off: false, y: true, n: false, true: true, false: false };

function valueAt(root: unknown, path: PathSegment[]): unknown {
  let node = root;
  for (const seg of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[seg];
  }
  return node;
}

/** Where a key name that is unknown in its section exists elsewhere in the schema (by name or `x-aliases`). */
function elsewhere(name: string): string[] {
  return allKeyPaths()
    .filter((k) => k.path[k.path.length - 1] === name || k.node['x-aliases']?.includes(name))
    .map((k) => k.path.join('.'));
}

/**
 * Schema problems of the merged config; past `limit` they are only counted (`omitted`), not
 * described, so a document of 25,000 unknown keys costs no more than one of `limit`.
 */
export function schemaDiagnostics(chain: Chain, limit = Infinity): { diagnostics: EngineDiagnostic[]; omitted: number } {
  const merged = chain.merged;
  const out: EngineDiagnostic[] = [];
  if (merged === undefined) return { diagnostics: out, omitted: 0 };
  const validate = getValidator();
  if (validate(merged)) return { diagnostics: out, omitted: 0 };
  const seen = new Set<string>();
  let omitted = 0;
  for (const err of validate.errors ?? []) {
    if (out.length >= limit) {
      // One per offending key or value, as the described ones are deduplicated.
      const key = `${err.instancePath}\u0000${err.keyword}\u0000${String((err.params as Record<string, unknown>).additionalProperty ?? '')}`;
      if (!seen.has(key)) omitted++;
      seen.add(key);
      continue;
    }
    const basePath = parsePointer(err.instancePath, merged);
    const d = toDiagnostic(err, basePath, chain, merged);
    if (!d) continue;
    const key = `${d.file}:${d.start}:${d.code}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
  }
  return { diagnostics: out, omitted };
}

function toDiagnostic(err: ErrorObject, basePath: PathSegment[], chain: Chain, merged: unknown): EngineDiagnostic | undefined {
  const params = err.params as Record<string, unknown>;
  if (err.keyword === 'additionalProperties') {
    const name = String(params.additionalProperty);
    const path = [...basePath, name];
    const origin = originOf(chain, path);
    if (!origin) return undefined;
    const siblings = propertyNames(schemaAt(basePath));
    const aliasHits = siblings.filter((s) => schemaAt([...basePath, s])?.['x-aliases']?.includes(name));
    // A reference-code name is a certain match; spelling neighbours would only be noise beside it.
    const suggestions = aliasHits.length > 0 ? aliasHits : closest(name, siblings);
    let message = `Unknown key \`${pathToString(path)}\``;
    if (suggestions.length > 0) {
      message += `; did you mean ${suggestions.map((s) => `\`${s}\``).join(', ')}?`;
      if (aliasHits.length > 0) message += ` (\`${name}\` is the LLaVA-RLHF reference code's name for it)`;
    } else {
      const other = elsewhere(name).filter((p) => p !== pathToString(path));
      if (other.length > 0) message += `; it belongs in ${other.map((p) => `\`${p}\``).join(', ')}`;
      else if (siblings.length > 0)
        message += ` (${basePath.length ? `section \`${pathToString(basePath)}\`` : 'top level'} keys: ${siblings.join(', ')})`;
    }
    const fixes: Fix[] = suggestions.map((s, i) =>
      replaceFix(origin.pf, origin.loc.keyRange, s, `Change \`${name}\` to \`${s}\``, i === 0),
    );
    return makeDiagnostic(origin.pf, origin.loc.keyRange[0], origin.loc.keyRange[1], 'error', 'unknown-key', message, fixes);
  }

  const origin = originOf(chain, basePath);
  if (!origin) return undefined;
  const pf = origin.pf;
  const range = origin.loc.valueRange;
  const name = pathToString(basePath);
  const value = valueAt(merged, basePath);
  const node = schemaAt(basePath);
  switch (err.keyword) {
    case 'type': {
      const fixes: Fix[] = [];
      const vn = origin.loc.valueNode;
      const expected = Array.isArray(params.type) ? params.type.map(String) : [String(params.type)];
      let hint = '';
      if (typeof value === 'string' && isScalar(vn)) {
        const trimmed = value.trim();
        if ((expected.includes('number') || expected.includes('integer')) && trimmed !== '' && Number.isFinite(Number(trimmed))) {
          const num = Number(trimmed);
          if (expected.includes('number') || Number.isInteger(num)) {
            const text = /^[-+]?\d+([eE][-+]?\d+)?$/.test(trimmed) && /[eE]/.test(trimmed) ? String(num) : trimmed;
            fixes.push(replaceFix(pf, range, text, `Write ${text} as a number`, true));
            hint = ' (quoted numbers are strings)';
          }
        } else if (expected.includes('boolean') && trimmed.toLowerCase() in BOOLEAN_WORDS) {
          const b = BOOLEAN_WORDS[trimmed.toLowerCase()];
          fixes.push(replaceFix(pf, range, String(b), `Write ${String(b)}`, true));
          hint = ' (YAML 1.2 booleans are true/false)';
        }
      }
      return makeDiagnostic(
        pf,
        range[0],
        range[1],
        'error',
        'wrong-type',
        `\`${name}\` must be ${expectedType(params)}, got ${describeValue(value)}${hint}`,
        fixes,
      );
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const limit = Number(params.limit);
      const op = { minimum: '≥', maximum: '≤', exclusiveMinimum: '>', exclusiveMaximum: '<' }[err.keyword];
      let why = '';
      if (err.keyword === 'maximum' && limit === 0) why = ' (it is a penalty)';
      else if (err.keyword === 'exclusiveMinimum' && limit === 0) why = ' (it must be positive)';
      else if (node?.minimum === 0 && node.maximum === 1) why = ' (a probability or share)';
      const fixes: Fix[] = [];
      if (err.keyword === 'maximum' && limit === 0 && typeof value === 'number' && value > 0)
        fixes.push(replaceFix(pf, range, String(-value), `Change to ${-value}`, true));
      else if (err.keyword === 'minimum' || err.keyword === 'maximum')
        fixes.push(replaceFix(pf, range, String(limit), `Change to ${limit}`));
      return makeDiagnostic(
        pf,
        range[0],
        range[1],
        'error',
        'out-of-range',
        `\`${name}\` must be ${op} ${limit}${why}, got ${JSON.stringify(value)}`,
        fixes,
      );
    }
    case 'enum':
    case 'const': {
      const allowed = err.keyword === 'enum' ? (params.allowedValues as unknown[]) : [params.allowedValue];
      const words = allowed.map((a) => String(a));
      const near = typeof value === 'string' ? closest(value, words, 1) : [];
      const fixes = (near.length ? near : words.length <= 4 ? words : []).map((w, i) =>
        replaceFix(pf, range, w, `Change to \`${w}\``, i === 0 && near.length > 0),
      );
      const mean = near.length ? `; did you mean \`${near[0]}\`?` : '';
      const list = allowed.map((a) => `\`${String(a)}\``).join(', ');
      return makeDiagnostic(
        pf,
        range[0],
        range[1],
        'error',
        'enum',
        `\`${name}\` must be ${allowed.length === 1 ? list : `one of ${list}`}, got ${describeValue(value)}${mean}`,
        fixes,
      );
    }
    default:
      return makeDiagnostic(pf, range[0], range[1], 'error', 'schema', `\`${name}\` ${err.message ?? 'is invalid'}`);
  }
}
