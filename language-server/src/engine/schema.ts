// Read-only view of schema/experiment.schema.json, the single source of keys, types, ranges,
// defaults, documentation and LLaVA-RLHF reference values (`x-reference`).
import experimentSchemaJson from '../../../schema/experiment.schema.json';
import type { KeyPath } from './types';

export interface SchemaNode {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  'x-reference'?: unknown;
  /** Other spellings of a key (e.g. the reference code's flag names); used for "did you mean". */
  'x-aliases'?: string[];
  /** The value is a path relative to the config that must name an existing file or folder. */
  'x-path'?: 'file' | 'dir';
  /** On a global batch size: its per-device sibling key, the pair's name and the stage that splits it. */
  'x-batch-pair'?: { name: string; per_device: string; stage: string };
  /** On `ppo`: how the iteration count follows from the prompts (see `IterationRule`). */
  'x-iterations'?: IterationRule;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean | SchemaNode;
  items?: SchemaNode;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  $ref?: string;
  definitions?: Record<string, SchemaNode>;
}

/**
 * PPO iterations = max(minimum, rounding(epochs × prompts / batch)), then at most `cap` when set.
 * `prompts` is a dotted key from the root (the data file whose records are counted); `batch`,
 * `epochs` and `cap` are keys of the annotated section.
 */
export interface IterationRule {
  prompts: string;
  batch: string;
  epochs: string;
  rounding: 'floor' | 'ceil' | 'round';
  minimum: number;
  cap: string;
}

export const EXPERIMENT_SCHEMA: SchemaNode = experimentSchemaJson as unknown as SchemaNode;

function deref(node: SchemaNode | undefined): SchemaNode | undefined {
  // Only local `#/definitions/x` references; the experiment schema is self-contained.
  let current = node;
  for (let hops = 0; current?.$ref !== undefined && hops < 8; hops++) {
    const m = /^#\/definitions\/(.+)$/.exec(current.$ref);
    current = m ? EXPERIMENT_SCHEMA.definitions?.[m[1]] : undefined;
  }
  return current;
}

const schemaCache = new Map<string, SchemaNode | undefined>();

/** The sub-schema that describes the value at `path`, or undefined for an unknown path. */
export function schemaAt(path: KeyPath): SchemaNode | undefined {
  const cacheKey = path.join('\u0000');
  if (schemaCache.has(cacheKey)) return schemaCache.get(cacheKey);
  let node: SchemaNode | undefined = deref(EXPERIMENT_SCHEMA);
  for (const seg of path) {
    if (!node) break;
    if (typeof seg === 'number') node = deref(node.items);
    else node = deref(node.properties?.[seg]);
  }
  schemaCache.set(cacheKey, node);
  return node;
}

export function propertyNames(node: SchemaNode | undefined): string[] {
  return node?.properties ? Object.keys(node.properties) : [];
}

export function isObjectSchema(node: SchemaNode | undefined): boolean {
  return node?.properties !== undefined || node?.type === 'object';
}

/** The value the trainer uses when the key is absent (schema `default`). */
export function defaultAt(path: KeyPath): unknown {
  return schemaAt(path)?.default;
}

let keyPaths: Array<{ path: string[]; node: SchemaNode }> | undefined;

/** Every dotted key path of the schema with its node (sections and leaves). */
export function allKeyPaths(): ReadonlyArray<{ path: string[]; node: SchemaNode }> {
  if (keyPaths) return keyPaths;
  const out: Array<{ path: string[]; node: SchemaNode }> = [];
  const walk = (node: SchemaNode, prefix: string[]): void => {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      const resolved = deref(child) ?? child;
      out.push({ path: [...prefix, key], node: resolved });
      if (resolved.properties) walk(resolved, [...prefix, key]);
    }
  };
  walk(EXPERIMENT_SCHEMA, []);
  keyPaths = out;
  return out;
}

/** A global batch and the per-device micro-batch it splits into, from an `x-batch-pair` annotation. */
export interface BatchPair {
  /** `ppo.rollout`, `ppo.step`, `sft`, `rl_init`, `reward_model`. */
  name: string;
  stage: string;
  global: string[];
  perDevice: string[];
}

let batchPairCache: readonly BatchPair[] | undefined;

/** Every batch pair the schema declares, in schema order (the one list the engine and the trainer share). */
export function batchPairs(): readonly BatchPair[] {
  batchPairCache ??= allKeyPaths().flatMap(({ path, node }): BatchPair[] => {
    const a = node['x-batch-pair'];
    return a ? [{ name: a.name, stage: a.stage, global: path, perDevice: [...path.slice(0, -1), a.per_device] }] : [];
  });
  return batchPairCache;
}

/** The PPO iteration rule (`x-iterations` on `ppo`). */
export function iterationRule(): IterationRule {
  const rule = schemaAt(['ppo'])?.['x-iterations'];
  if (!rule) throw new Error('schema/experiment.schema.json: `ppo` has no x-iterations annotation');
  return rule;
}

function fmt(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Short type label: "integer ≥ 1", "number in (0, 1]", "`k1` | `k3`", "list of string". */
export function typeLabel(node: SchemaNode | undefined): string {
  if (!node) return 'unknown';
  if (node.const !== undefined) return `\`${fmt(node.const)}\``;
  if (node.enum) return node.enum.map((v) => `\`${fmt(v)}\``).join(' | ');
  const types = Array.isArray(node.type) ? node.type : node.type ? [node.type] : node.properties ? ['object'] : [];
  const base = types
    .map((t) => (t === 'array' ? `list of ${node.items ? typeLabel(node.items) : 'values'}` : t === 'object' ? 'section' : t))
    .join(' | ');
  const range = rangeLabel(node);
  return range ? `${base} ${range}` : base || 'any';
}

/** "≥ 0", "> 0", "≤ 0", "in [0, 1]", "in (0, 1]", or undefined when unbounded. */
export function rangeLabel(node: SchemaNode): string | undefined {
  const lo = node.minimum ?? node.exclusiveMinimum;
  const hi = node.maximum ?? node.exclusiveMaximum;
  const loOpen = node.minimum === undefined && node.exclusiveMinimum !== undefined;
  const hiOpen = node.maximum === undefined && node.exclusiveMaximum !== undefined;
  if (lo !== undefined && hi !== undefined) return `in ${loOpen ? '(' : '['}${lo}, ${hi}${hiOpen ? ')' : ']'}`;
  if (lo !== undefined) return `${loOpen ? '>' : '≥'} ${lo}`;
  if (hi !== undefined) return `${hiOpen ? '<' : '≤'} ${hi}`;
  return undefined;
}

/** Whether a value fits a schema node's type/enum/range (used for reference-value snippets). */
export function valueFits(node: SchemaNode, value: unknown): boolean {
  if (node.const !== undefined) return node.const === value;
  if (node.enum) return node.enum.includes(value);
  const types = Array.isArray(node.type) ? node.type : node.type ? [node.type] : [];
  const typeOk = types.some((t) => {
    switch (t) {
      case 'integer':
        return typeof value === 'number' && Number.isInteger(value);
      case 'number':
        return typeof value === 'number' && Number.isFinite(value);
      case 'string':
        return typeof value === 'string';
      case 'boolean':
        return typeof value === 'boolean';
      case 'null':
        return value === null;
      default:
        return false;
    }
  });
  if (!typeOk || typeof value !== 'number') return typeOk;
  if (node.minimum !== undefined && value < node.minimum) return false;
  if (node.exclusiveMinimum !== undefined && value <= node.exclusiveMinimum) return false;
  if (node.maximum !== undefined && value > node.maximum) return false;
  if (node.exclusiveMaximum !== undefined && value >= node.exclusiveMaximum) return false;
  return true;
}

/** Markdown documentation of a key: meaning, type, default and reference value. */
export function keyDocumentation(node: SchemaNode): string {
  const lines: string[] = [];
  if (node.description) lines.push(node.description);
  const facts: string[] = [`Type: ${typeLabel(node)}`];
  if (node.default !== undefined) facts.push(`Default: \`${fmt(node.default)}\``);
  if (node['x-reference'] !== undefined) facts.push(`LLaVA-RLHF reference: \`${fmt(node['x-reference'])}\``);
  if (node['x-aliases']?.length) facts.push(`Reference code's name: ${node['x-aliases'].map((n) => `\`${n}\``).join(', ')}`);
  lines.push(facts.join(' · '));
  return lines.join('\n\n');
}

function referenceFits(node: SchemaNode, ref: unknown): boolean {
  // A string reference is often a description ("LLaVA-SFT+ 7B/13B"), not a value: only enum values count.
  if (typeof ref === 'string' && !node.enum && node.const === undefined) return false;
  return valueFits(node, ref);
}

/** YAML lines `key: reference` for every key of a section whose reference value is a valid value. */
export function referenceLines(node: SchemaNode, indent: string): string[] {
  const lines: string[] = [];
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    if (child.properties) {
      const inner = referenceLines(child, `${indent}  `);
      if (inner.length > 0) lines.push(`${indent}${key}:`, ...inner);
      continue;
    }
    const ref = child['x-reference'];
    if (ref !== undefined && referenceFits(child, ref))
      lines.push(`${indent}${key}: ${typeof ref === 'string' ? ref : JSON.stringify(ref)}`);
  }
  return lines;
}
