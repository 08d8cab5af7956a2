// File and folder checks: every path key must name something that exists (relative to the config
// that wrote it), of the right kind, and data files must start with records that carry the fields
// their stage needs (FACT_RLHF.md §2).
import * as nodePath from 'node:path';
import type { ResolvedConfig } from './chain';
import { isPlainObject } from './chain';
import { configPath, firstFact, firstRecords, readHead, statOf } from './dataFiles';
import { displayPath, isBuiltinRef, pathKeys } from './paths';
import { makeDiagnostic } from './yamlFile';
import type { EngineDiagnostic, EngineHost } from './types';
import { pathToString } from './types';

/** Fields each data file's records need, and the stage that reads them (by dotted key). */
const RECORD_FIELDS: Record<string, { fields: string[]; stage: string }> = {
  'data.sft': { fields: ['conversations'], stage: 'SFT' },
  'data.preference': { fields: ['conversations', 'output_1', 'output_2', 'preference'], stage: 'reward-model training' },
  'data.ppo_prompts': { fields: ['conversations'], stage: 'PPO' },
  'data.eval': { fields: ['question', 'gt_answer'], stage: 'evaluation (MMHal-Bench format)' },
  'eval.mmhal_file': { fields: ['question', 'gt_answer'], stage: 'evaluation (MMHal-Bench format)' },
};
const RECORDS_CHECKED = 3;

/** Whether `path` is a file / folder; 'pending' while a background host is still looking. */
function kindAt(host: EngineHost, path: string): 'file' | 'dir' | 'missing' | 'unknown' | 'pending' {
  const st = statOf(host, path);
  if (st === 'pending' || st === 'unknown') return st;
  if (st === undefined) return 'missing';
  return st.isDirectory ? 'dir' : 'file';
}

/**
 * Why a folder cannot be `model.policy`, as the trainer resolves it (trainer/fact_rlhf/stages/
 * sources.py): a run directory (run.json) or a stage checkpoint (base.json) is taken as it is (the
 * trainer's preflight checks their insides); otherwise it must be a Hugging Face LLaVA folder.
 */
function policyFolderProblem(host: EngineHost, folder: string): string | undefined {
  const markers = ['run.json', 'base.json', 'config.json'].map((f) => kindAt(host, nodePath.join(folder, f)));
  if (markers.includes('pending')) return undefined; // asked again once the host has looked
  if (markers[0] === 'file' || markers[1] === 'file') return undefined;
  if (markers[2] === 'missing')
    return 'has no config.json; a Hugging Face LLaVA checkpoint folder, an `sft` or `rl_init` run directory, or a stage checkpoint is expected';
  const text = readHead(host, nodePath.join(folder, 'config.json'));
  if (text === undefined) return undefined;
  let cfg: unknown;
  try {
    cfg = JSON.parse(text);
  } catch {
    return 'has a config.json that is not valid JSON';
  }
  const type = isPlainObject(cfg) ? cfg.model_type : undefined;
  if (typeof type === 'string' && !type.toLowerCase().includes('llava'))
    return `holds a "${type}" model; a LLaVA-family checkpoint is expected`;
  return undefined;
}

/** Why a folder cannot be `model.reward_model`: neither a run directory nor a reward checkpoint. */
function rewardFolderProblem(host: EngineHost, folder: string): string | undefined {
  const markers = ['run.json', 'reward', 'heads.safetensors'].map((f) => kindAt(host, nodePath.join(folder, f)));
  if (markers.includes('pending') || markers.includes('unknown')) return undefined;
  if (markers[0] === 'file' || (markers[1] === 'dir' && markers[2] === 'file')) return undefined;
  return 'is neither a run directory (run.json) nor a reward-model checkpoint (`reward/` and `heads.safetensors`)';
}

/** In an untrusted workspace no path is read: one note, at the first path the config names. */
function untrustedNote(r: ResolvedConfig, host: EngineHost): EngineDiagnostic[] {
  for (const key of pathKeys()) {
    const cp = configPath(r, key.path, host);
    if (!cp || isBuiltinRef(cp.raw)) continue;
    const range = cp.origin.loc.valueRange;
    return [
      makeDiagnostic(
        cp.origin.pf,
        range[0],
        range[1],
        'information',
        'untrusted-workspace',
        'File checks are off in an untrusted workspace: the files and folders this config names are not read (trust the workspace to check them)',
      ),
    ];
  }
  return [];
}

export function pathDiagnostics(r: ResolvedConfig, host: EngineHost): EngineDiagnostic[] {
  if (host.untrusted) return untrustedNote(r, host);
  const out: EngineDiagnostic[] = [];
  for (const key of pathKeys()) {
    const cp = configPath(r, key.path, host);
    if (!cp || isBuiltinRef(cp.raw)) continue;
    const abs = cp.expanded.absolute;
    if (!abs) continue; // names an unset variable: meant for another machine
    const { pf, loc } = cp.origin;
    const name = pathToString(key.path);
    const range = loc.valueRange;
    const st = statOf(host, abs);
    if (st === 'pending') continue; // checked when the background read lands
    if (st === undefined) {
      const what = key.kind === 'dir' ? 'folder' : 'file';
      out.push(
        makeDiagnostic(
          pf,
          range[0],
          range[1],
          'warning',
          'path-not-found',
          `\`${name}\`: ${what} "${cp.raw}" does not exist (resolved to ${displayPath(cp.raw.trim(), nodePath.dirname(pf.path), cp.expanded)})`,
        ),
      );
      continue;
    }
    if (st !== 'unknown') {
      if (key.kind === 'dir' && !st.isDirectory) {
        out.push(
          makeDiagnostic(pf, range[0], range[1], 'warning', 'path-kind', `\`${name}\`: "${cp.raw}" is a file; a folder is expected`),
        );
        continue;
      }
      if (key.kind === 'file' && !st.isFile) {
        out.push(
          makeDiagnostic(pf, range[0], range[1], 'warning', 'path-kind', `\`${name}\`: "${cp.raw}" is a folder; a file is expected`),
        );
        continue;
      }
    }
    const modelProblem =
      name === 'model.policy' ? policyFolderProblem(host, abs) : name === 'model.reward_model' ? rewardFolderProblem(host, abs) : undefined;
    if (modelProblem)
      out.push(makeDiagnostic(pf, range[0], range[1], 'warning', 'model-folder', `\`${name}\`: "${cp.raw}" ${modelProblem}`));
    if (name === 'data.facts') {
      const first = firstFact(host, abs);
      if (!first) continue;
      if (!first.ok)
        out.push(
          makeDiagnostic(
            pf,
            range[0],
            range[1],
            'warning',
            'data-format',
            `\`${name}\`: "${cp.raw}" ${first.error}; expected a JSON map image key → list of fact strings`,
          ),
        );
      else if (first.entry && !(Array.isArray(first.entry[1]) && first.entry[1].every((f) => typeof f === 'string'))) {
        out.push(
          makeDiagnostic(
            pf,
            range[0],
            range[1],
            'warning',
            'data-record',
            `\`${name}\`: entry "${first.entry[0]}" is not a list of fact strings`,
          ),
        );
      }
      continue;
    }
    const need = RECORD_FIELDS[name];
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
        out.push(
          makeDiagnostic(
            pf,
            range[0],
            range[1],
            'warning',
            'data-record',
            `\`${name}\`: record ${i} lacks ${missing.map((m) => `\`${m}\``).join(', ')}, needed for ${need.stage} (FACT_RLHF.md §2)`,
          ),
        );
        break;
      }
    }
  }
  return out;
}
