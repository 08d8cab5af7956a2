// `extends` chains: load the files a config inherits from, merge them (a child's keys override its
// parent's; sections merge key by key), and answer "which file set this key, where".
import * as nodePath from 'node:path';
import { parseConfigText, findPath, makeDiagnostic } from './yamlFile';
import type { Located, ParsedFile } from './yamlFile';
import { displayPath, expandPath } from './paths';
import { schemaAt } from './schema';
import type { EngineDiagnostic, EngineHost, KeyPath } from './types';

const MAX_CHAIN = 16; // as the trainer's loader
/** A config another one extends is read whole and parsed: past this size it is refused, not read. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

export interface Chain {
  /** Root first, then its parent, grandparent, ... */
  files: ParsedFile[];
  diagnostics: EngineDiagnostic[];
  /** The merged config, or undefined when the root itself cannot be read as a mapping. */
  merged: Record<string, unknown> | undefined;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? deepMerge(b, v) : v;
  }
  return out;
}

export function resolveChain(root: ParsedFile, host: EngineHost): Chain {
  const chain: Chain = { files: [root], diagnostics: [], merged: undefined };
  const seen = new Set<string>([root.path]);
  let current = root;
  while (chain.files.length <= MAX_CHAIN) {
    if (current.hasErrors || !isPlainObject(current.value)) break;
    const ext = current.value.extends;
    if (typeof ext !== 'string') break;
    const loc = findPath(current, ['extends']);
    const where = loc?.valueRange ?? [0, 0];
    const diag = (code: string, message: string, severity: 'error' | 'warning' | 'information' = 'error'): void => {
      chain.diagnostics.push(makeDiagnostic(current, where[0], where[1], severity, code, message));
    };
    if (!nodePath.isAbsolute(current.path)) break; // an unsaved document has no folder to resolve against
    const expanded = expandPath(ext, nodePath.dirname(current.path), host.env);
    if (!expanded.absolute) {
      diag('extends-unresolved', `extends: cannot resolve "${ext}": $${expanded.unset.join(', $')} is not set`, 'warning');
      break;
    }
    const target = expanded.absolute;
    if (seen.has(target)) {
      diag('extends-cycle', `extends: "${ext}" forms a cycle (${[...seen, target].map((p) => nodePath.basename(p)).join(' → ')})`);
      break;
    }
    const size = host.sizeOf?.(target);
    if (size !== undefined && size > MAX_CONFIG_BYTES) {
      diag(
        'extends-too-large',
        `extends: "${ext}" is ${(size / 1024 / 1024).toFixed(1)} MB; a config file is at most ${MAX_CONFIG_BYTES / 1024 / 1024} MB, so it is not read`,
      );
      break;
    }
    const text = host.readFile(target);
    if (text === undefined && host.untrusted) {
      diag(
        'untrusted-workspace',
        `extends: "${ext}" is not read in an untrusted workspace (trust the workspace to check inherited keys)`,
        'information',
      );
      break;
    }
    if (text === undefined) {
      diag(
        'extends-not-found',
        `extends: file "${ext}" does not exist (looked for ${displayPath(ext, nodePath.dirname(current.path), expanded)})`,
      );
      break;
    }
    seen.add(target);
    const parent = parseConfigText(text, target);
    chain.files.push(parent);
    chain.diagnostics.push(...parent.syntax);
    if (parent.hasErrors) {
      diag('extends-invalid', `extends: "${ext}" has YAML errors; its keys are not inherited`);
      break;
    }
    if (!isPlainObject(parent.value) && parent.value !== null && parent.value !== undefined) {
      diag('extends-invalid', `extends: "${ext}" is not a mapping of config keys`);
      break;
    }
    current = parent;
  }
  if (chain.files.length > MAX_CHAIN) {
    const last = chain.files[chain.files.length - 1];
    chain.diagnostics.push(makeDiagnostic(last, 0, 0, 'error', 'extends-cycle', `extends: chain longer than ${MAX_CHAIN} files`));
  }
  if (!root.hasErrors && (isPlainObject(root.value) || root.value === null || root.value === undefined)) {
    let merged: Record<string, unknown> = {};
    for (let i = chain.files.length - 1; i >= 0; i--) {
      const v = chain.files[i].value;
      if (isPlainObject(v) && !chain.files[i].hasErrors) merged = deepMerge(merged, v);
    }
    chain.merged = merged;
  }
  return chain;
}

export interface Origin {
  pf: ParsedFile;
  loc: Located;
}

/** The file (nearest first) that sets `path`, with the source ranges. */
export function originOf(chain: Chain, path: KeyPath): Origin | undefined {
  for (const pf of chain.files) {
    if (pf.hasErrors) continue;
    const loc = findPath(pf, path);
    if (loc) return { pf, loc };
  }
  return undefined;
}

/** The merged config with schema defaults filled in on read. */
export class ResolvedConfig {
  constructor(
    readonly chain: Chain,
    readonly merged: Record<string, unknown>,
  ) {}

  get root(): ParsedFile {
    return this.chain.files[0];
  }

  raw(path: KeyPath): unknown {
    let node: unknown = this.merged;
    for (const seg of path) {
      if (typeof seg === 'number') node = Array.isArray(node) ? node[seg] : undefined;
      else node = isPlainObject(node) ? node[seg] : undefined;
      if (node === undefined) return undefined;
    }
    return node;
  }

  isSet(path: KeyPath): boolean {
    return this.raw(path) !== undefined;
  }

  /** The configured value, else the schema default. */
  get(path: KeyPath): unknown {
    const v = this.raw(path);
    return v === undefined ? schemaAt(path)?.default : v;
  }

  /** A number only when the value is a finite number (wrong types are the schema rules' business). */
  num(path: KeyPath): number | undefined {
    const v = this.get(path);
    return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  }

  bool(path: KeyPath): boolean | undefined {
    const v = this.get(path);
    return typeof v === 'boolean' ? v : undefined;
  }

  str(path: KeyPath): string | undefined {
    const v = this.get(path);
    return typeof v === 'string' ? v : undefined;
  }

  where(path: KeyPath): Origin | undefined {
    return originOf(this.chain, path);
  }
}
