// The documents of a config's `extends` chain, parent first, for the run machinery's few key reads
// (where runs go, what eval evaluates). Lighter than the language server's engine (language-server/
// src/engine/chain.ts), which keeps positions and diagnostics: here a file that cannot be read or
// parsed just ends the chain, because the engine and the trainer report it with file and line.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';

/** One file of the chain: its path and its top-level mapping. */
export interface ChainDocument {
  path: string;
  doc: Record<string, unknown>;
}

/** Depth at which a chain is cut (as the trainer's MAX_EXTENDS_DEPTH); a cycle ends it too. */
const MAX_DEPTH = 16;

export function readConfigChain(configPath: string): ChainDocument[] {
  const chain: ChainDocument[] = [];
  const seen = new Set<string>();
  let path: string | undefined = resolve(configPath);
  while (path && !seen.has(path) && seen.size <= MAX_DEPTH) {
    seen.add(path);
    let doc: unknown;
    try {
      doc = parse(readFileSync(path, 'utf8'));
    } catch {
      break;
    }
    if (!doc || typeof doc !== 'object') break;
    const d = doc as Record<string, unknown>;
    chain.unshift({ path, doc: d });
    path = typeof d.extends === 'string' ? resolve(dirname(path), d.extends) : undefined;
  }
  return chain;
}
