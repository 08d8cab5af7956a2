// What the experiment form asks the server (src/protocol/lsp.ts): each diagnostic with the key path
// it sits on (the server knows it; the form must not guess it from a line), and the derived figures
// with the GPU-memory verdict. Everything here reads the one analysis the text editor uses too.
import type { DerivedResult, ValidationDiagnostic } from '../../../src/protocol/lsp';
import type { Analysis } from './analyze';
import { memoryAdvice } from './crossRules';
import { derivedEntries } from './inlayHints';
import { estimatePpoMemory, gib } from './memory';
import type { EngineDiagnostic } from './types';
import { locate } from './yamlFile';

/** The wire diagnostics of an analysis, each with its key path (and its fixes when asked). */
export function diagnosticsWithPaths(a: Analysis, withFixes = false): ValidationDiagnostic[] {
  const files = new Map((a.chain?.files ?? [a.file]).map((f) => [f.path, f]));
  return a.diagnostics.map((d) => withPath(d, files.get(d.file), withFixes));
}

/** An engine diagnostic as it goes on the wire (the validate request, the CLI's JSON). */
export function toValidationDiagnostic(d: EngineDiagnostic): ValidationDiagnostic {
  return {
    line: d.line,
    column: d.column,
    endLine: d.endLine,
    endColumn: d.endColumn,
    severity: d.severity,
    code: d.code,
    message: d.message,
    file: d.file,
  };
}

function withPath(d: EngineDiagnostic, pf: Parameters<typeof locate>[0] | undefined, withFixes: boolean): ValidationDiagnostic {
  const out = toValidationDiagnostic(d);
  const at = pf && !pf.hasErrors ? locate(pf, d.start) : undefined;
  if (at) out.path = at.path;
  if (withFixes && d.fixes.length > 0) {
    out.fixes = d.fixes.map((f) => ({
      title: f.title,
      file: f.file,
      preferred: f.preferred,
      edits: f.edits.map((e) => ({ line: e.line, column: e.column, endLine: e.endLine, endColumn: e.endColumn, newText: e.newText })),
    }));
  }
  return out;
}

export interface GpuFacts {
  memoryGiB?: number;
  count?: number;
  source: 'nvidia-smi' | 'setting';
}

/** Derived figures at their keys and the PPO memory estimate against the GPUs found. */
export function derivedInfo(a: Analysis, gpu: GpuFacts | undefined): DerivedResult {
  const r = a.resolved;
  const figures = derivedEntries(a, (p) => r?.isSet(p) ?? false).map((e) => ({ path: e.path, label: e.label, detail: e.tooltip }));
  const gpuOut = gpu?.memoryGiB ? { memoryGiB: gpu.memoryGiB, count: gpu.count, source: gpu.source } : undefined;
  if (!r) return { figures, gpu: gpuOut, verdict: 'unknown', summary: 'No estimate: the config cannot be read' };
  const est = estimatePpoMemory(r, a.host);
  const memory = est ? { totalBytes: est.totalBytes, terms: est.terms, assumptions: est.assumptions } : undefined;
  const base = { figures, memory, gpu: gpuOut };
  if (r.get(['launch', 'device']) === 'cpu') {
    return { ...base, verdict: 'cpu', summary: '`launch.device: cpu`: runs on the CPU, no GPU memory needed' };
  }
  if (!est)
    return {
      ...base,
      verdict: 'unknown',
      summary: 'No memory estimate: the model shape is not known (no config.json, no size in the name)',
    };
  const need = gib(est.totalBytes);
  if (!gpuOut) return { ...base, verdict: 'no-gpu', summary: `No GPU found: CPU. PPO would need about ${need} per GPU` };
  const have = `${gpuOut.memoryGiB.toFixed(0)} GiB`;
  const gpus = gpuOut.count && gpuOut.count > 1 ? `${gpuOut.count} GPUs, smallest ${have}` : `GPU ${have}`;
  if (est.totalBytes <= gpuOut.memoryGiB * 1024 ** 3) return { ...base, verdict: 'fits', summary: `Fits: about ${need} per GPU (${gpus})` };
  return { ...base, verdict: 'does-not-fit', summary: `Does not fit: about ${need} per GPU (${gpus}): ${memoryAdvice(r)}` };
}
