// Code actions (the fixes attached to diagnostics, plus "add a missing section"), document links
// on paths, and code lenses that run a stage.
import * as nodePath from 'node:path';
import { isMap } from 'yaml';
import type { Analysis } from './analyze';
import { EXPERIMENT_SCHEMA, referenceLines } from './schema';
import { findPath, editAt } from './yamlFile';
import { configPath, statOf } from './dataFiles';
import { expandPath, isBuiltinRef, pathKeys } from './paths';
import { estimatePpoMemory, gib } from './memory';
import type { EngineDiagnostic, Fix } from './types';

export interface CodeActionEntry {
  fix: Fix;
  kind: 'quickfix' | 'refactor';
  /** The diagnostic it fixes, if any. */
  diagnostic?: EngineDiagnostic;
}

export function codeActions(a: Analysis, start: number, end: number): CodeActionEntry[] {
  const out: CodeActionEntry[] = [];
  for (const d of a.diagnostics) {
    if (d.file !== a.file.path || d.end < start || d.start > end) continue;
    for (const fix of d.fixes) out.push({ fix, kind: 'quickfix', diagnostic: d });
  }
  const pf = a.file;
  const contents = pf.doc.contents;
  const blockRoot = contents === null || (isMap(contents) && !contents.flow);
  if (!pf.hasErrors && a.resolved && blockRoot) {
    for (const [section, node] of Object.entries(EXPERIMENT_SCHEMA.properties ?? {})) {
      if (!node.properties || a.resolved.isSet([section])) continue;
      const lines = referenceLines(node, '  ');
      if (lines.length === 0) continue;
      const text = pf.text;
      const prefix = text === '' || text.endsWith('\n') ? '' : '\n';
      const edit = editAt(pf, text.length, text.length, `${prefix}${section}:\n${lines.join('\n')}\n`);
      out.push({
        fix: { title: `Add section \`${section}\` with the LLaVA-RLHF reference values`, file: pf.path, edits: [edit] },
        kind: 'refactor',
      });
    }
  }
  return out;
}

export interface DocumentLinkEntry {
  start: number;
  end: number;
  target: string;
}

export function documentLinks(a: Analysis): DocumentLinkEntry[] {
  const out: DocumentLinkEntry[] = [];
  const r = a.resolved;
  if (!r || !nodePath.isAbsolute(a.file.path)) return out;
  const keys = [...pathKeys().map((k) => k.path), ['extends'], ['output_dir']];
  for (const key of keys) {
    const here = findPath(a.file, key);
    if (!here) continue;
    let target: string | undefined;
    if (key[0] === 'extends' || key[0] === 'output_dir') {
      const v = r.raw(key);
      if (typeof v === 'string') target = expandPath(v, nodePath.dirname(a.file.path), a.host.env).absolute;
    } else {
      const cp = configPath(r, key, a.host);
      if (cp && !isBuiltinRef(cp.raw) && cp.origin.pf.path === a.file.path) target = cp.expanded.absolute;
    }
    const st = target ? statOf(a.host, target) : undefined;
    if (target && st !== undefined && st !== 'pending') out.push({ start: here.valueRange[0], end: here.valueRange[1], target });
  }
  return out;
}

export interface CodeLensEntry {
  offset: number;
  title: string;
  command: string;
}

const STAGE_LENSES: Record<string, { title: string; command: string }> = {
  sft: { title: '▶ Start SFT', command: 'factRlhf.startSft' },
  reward_model: { title: '▶ Train Reward Model', command: 'factRlhf.trainRewardModel' },
  ppo: { title: '▶ Start PPO', command: 'factRlhf.startPpo' },
  eval: { title: '▶ Evaluate', command: 'factRlhf.evaluate' },
};

export function codeLenses(a: Analysis): CodeLensEntry[] {
  const out: CodeLensEntry[] = [];
  for (const [section, lens] of Object.entries(STAGE_LENSES)) {
    const here = findPath(a.file, [section]);
    if (!here) continue;
    out.push({ offset: here.keyRange[0], ...lens });
    if (section === 'ppo' && a.resolved) {
      const est = estimatePpoMemory(a.resolved, a.host);
      if (est)
        out.push({
          offset: here.keyRange[0],
          title: `≈ ${gib(est.totalBytes)} per GPU (estimate; hover a batch key for the arithmetic)`,
          command: '',
        });
    }
  }
  return out;
}
