// File and folder checks: every path key must name something that exists (relative to the config
// that wrote it), of the right kind, and data files must start with records that carry the fields
// their stage needs (FACT_RLHF.md §2).
import * as nodePath from 'node:path';
import type { ResolvedConfig } from './chain';
import { isPlainObject } from './chain';
import { configPath, firstFact, firstRecords, readHead, statOf } from './dataFiles';
import { PATH_KEYS, isBuiltinRef } from './paths';
import { makeDiagnostic } from './yamlFile';
import type { EngineDiagnostic, EngineHost } from './types';
import { pathToString } from './types';

/** Fields each data file's records need, and the stage that reads them. */
const RECORD_FIELDS: Record<string, { fields: string[]; stage: string }> = {
  sft: { fields: ['conversations'], stage: 'SFT' },
  preference: { fields: ['conversations', 'output_1', 'output_2', 'preference'], stage: 'reward-model training' },
  ppo_prompts: { fields: ['conversations'], stage: 'PPO' },
  eval: { fields: ['question', 'gt_answer'], stage: 'evaluation (MMHal-Bench format)' },
};
const RECORDS_CHECKED = 3;

/** Why a folder is not a LLaVA-family Hugging Face checkpoint, judged from its config.json. */
function policyFolderProblem(host: EngineHost, folder: string): string | undefined {
  const configPath = nodePath.join(folder, 'config.json');
  if (!host.exists(configPath)) return 'has no config.json; a Hugging Face LLaVA checkpoint folder is expected';
  const text = readHead(host, configPath);
  if (text === undefined) return undefined;
  let cfg: unknown;
  try {
    cfg = JSON.parse(text);
  } catch {
    return 'has a config.json that is not valid JSON';
  }
  const type = isPlainObject(cfg) ? cfg.model_type : undefined;
  if (typeof type === 'string' && !type.toLowerCase().includes('llava')) return `holds a "${type}" model; a LLaVA-family checkpoint is expected`;
  return undefined;
}

export function pathDiagnostics(r: ResolvedConfig, host: EngineHost): EngineDiagnostic[] {
  const out: EngineDiagnostic[] = [];
  for (const key of PATH_KEYS) {
    const cp = configPath(r, key.path, host);
    if (!cp || isBuiltinRef(cp.raw)) continue;
    const abs = cp.expanded.absolute;
    if (!abs) continue; // names an unset variable: meant for another machine
    const { pf, loc } = cp.origin;
    const name = pathToString(key.path);
    const range = loc.valueRange;
    const st = statOf(host, abs);
    if (st === undefined) {
      const what = key.kind === 'dir' ? 'folder' : 'file';
      out.push(makeDiagnostic(pf, range[0], range[1], 'warning', 'path-not-found', `\`${name}\`: ${what} "${cp.raw}" does not exist (resolved to ${abs})`));
      continue;
    }
    if (st !== 'unknown') {
      if (key.kind === 'dir' && !st.isDirectory) {
        out.push(makeDiagnostic(pf, range[0], range[1], 'warning', 'path-kind', `\`${name}\`: "${cp.raw}" is a file; a folder is expected`));
        continue;
      }
      if (key.kind === 'file' && !st.isFile) {
        out.push(makeDiagnostic(pf, range[0], range[1], 'warning', 'path-kind', `\`${name}\`: "${cp.raw}" is a folder; a file is expected`));
        continue;
      }
    }
    if (key.path[0] === 'model' && key.path[1] === 'policy') {
      const problem = policyFolderProblem(host, abs);
      if (problem) out.push(makeDiagnostic(pf, range[0], range[1], 'warning', 'model-folder', `\`${name}\`: "${cp.raw}" ${problem}`));
      continue;
    }
    if (key.path[0] !== 'data') continue;
    const field = key.path[1];
    if (field === 'facts') {
      const first = firstFact(host, abs);
      if (!first) continue;
      if (!first.ok) out.push(makeDiagnostic(pf, range[0], range[1], 'warning', 'data-format', `\`${name}\`: "${cp.raw}" ${first.error}; expected a JSON map image key → list of fact strings`));
      else if (first.entry && !(Array.isArray(first.entry[1]) && first.entry[1].every((f) => typeof f === 'string'))) {
        out.push(makeDiagnostic(pf, range[0], range[1], 'warning', 'data-record', `\`${name}\`: entry "${first.entry[0]}" is not a list of fact strings`));
      }
      continue;
    }
    const need = RECORD_FIELDS[field];
    if (!need) continue;
    const recs = firstRecords(host, abs, RECORDS_CHECKED);
    if (!recs) continue;
    if (!recs.ok) {
      out.push(makeDiagnostic(pf, range[0], range[1], 'warning', 'data-format', `\`${name}\`: "${cp.raw}" ${recs.error}`));
      continue;
    }
    for (let i = 0; i < recs.records.length; i++) {
      const rec = recs.records[i];
      if (!isPlainObject(rec)) {
        out.push(makeDiagnostic(pf, range[0], range[1], 'warning', 'data-record', `\`${name}\`: record ${i} is not an object`));
        break;
      }
      const missing = need.fields.filter((f) => !(f in rec));
      if (missing.length > 0) {
        out.push(makeDiagnostic(pf, range[0], range[1], 'warning', 'data-record', `\`${name}\`: record ${i} lacks ${missing.map((m) => `\`${m}\``).join(', ')}, needed for ${need.stage} (FACT_RLHF.md §2)`));
        break;
      }
    }
  }
  return out;
}
