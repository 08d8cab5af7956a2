// One full analysis of a config: parse, follow `extends`, then every rule. The editor features
// (hover, completion, inlay hints, code actions) read the same analysis.
import { parseConfigText, lineEnd, makeDiagnostic } from './yamlFile';
import type { ParsedFile } from './yamlFile';
import { resolveChain, isPlainObject, ResolvedConfig } from './chain';
import type { Chain } from './chain';
import { schemaDiagnostics } from './schemaRules';
import { crossDiagnostics } from './crossRules';
import { pathDiagnostics } from './pathRules';
import { judgeDiagnostics } from './judgeRules';
import { portabilityDiagnostics } from './portability';
import { deriveFigures } from './derived';
import type { Derived } from './derived';
import type { EngineDiagnostic, EngineHost } from './types';

export interface Analysis {
  file: ParsedFile;
  host: EngineHost;
  chain?: Chain;
  resolved?: ResolvedConfig;
  derived?: Derived;
  diagnostics: EngineDiagnostic[];
  /** Other files this analysis read (the `extends` chain), for re-validation when they change. */
  dependencies: string[];
  /** Some file facts were still being read (a background host): analyse again once they land. */
  incomplete: boolean;
}

/** Diagnostics published per document at most (then one "N more" note). */
export const MAX_DIAGNOSTICS = 1000;

const NO_FILES: EngineHost = { readFile: () => undefined, exists: () => false };

function describeRoot(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'string' ? 'a string' : typeof v;
}

export function analyze(text: string, filePath: string, host: EngineHost = NO_FILES): Analysis {
  const placeholdersBefore = host.placeholderCount?.() ?? 0;
  const a: Analysis = { file: parseConfigText(text, filePath), host, diagnostics: [], dependencies: [], incomplete: false };
  analyzeInto(a);
  a.incomplete = (host.placeholderCount?.() ?? 0) !== placeholdersBefore;
  return a;
}

function analyzeInto(a: Analysis): void {
  const pf = a.file;
  const host = a.host;
  const text = pf.text;
  a.diagnostics.push(...pf.syntax);
  if (pf.hasErrors) return;
  if (!isPlainObject(pf.value) && pf.value !== null && pf.value !== undefined) {
    const start = pf.doc.contents?.range?.[0] ?? 0;
    a.diagnostics.push(
      makeDiagnostic(
        pf,
        start,
        lineEnd(text, start),
        'error',
        'wrong-type',
        `A config must be a mapping of keys (\`ppo:\`, \`model:\`, ...), got ${describeRoot(pf.value)}`,
      ),
    );
    return;
  }
  const guard = (rule: string, fn: () => EngineDiagnostic[]): void => {
    // A rule that throws must not take the others (or the server) down with it; it shows up as a
    // diagnostic, which the fuzz test treats as a failure.
    try {
      a.diagnostics.push(...fn());
    } catch (e) {
      a.diagnostics.push(
        makeDiagnostic(pf, 0, 0, 'error', 'internal-error', `Internal error in ${rule}: ${e instanceof Error ? e.message : String(e)}`),
      );
    }
  };
  guard('extends', () => {
    a.chain = resolveChain(pf, host);
    a.dependencies = a.chain.files.slice(1).map((f) => f.path);
    return a.chain.diagnostics;
  });
  const chain = a.chain;
  if (!chain?.merged) return;
  const resolved = new ResolvedConfig(chain, chain.merged);
  a.resolved = resolved;
  let schemaOmitted = 0;
  guard('schema', () => {
    // Messages cost (spelling suggestions per unknown key): build no more than can be shown.
    const r = schemaDiagnostics(chain, MAX_DIAGNOSTICS);
    schemaOmitted = r.omitted;
    return r.diagnostics;
  });
  guard('yaml-1.1', () => chain.files.filter((f) => !f.hasErrors).flatMap((f) => portabilityDiagnostics(f)));
  guard('derived', () => {
    a.derived = deriveFigures(resolved, host);
    return [];
  });
  const derived = a.derived;
  if (derived) guard('cross-field', () => crossDiagnostics(resolved, derived, host));
  guard('paths', () => pathDiagnostics(resolved, host));
  guard('judge', () => judgeDiagnostics(resolved, host));
  const order = new Map(chain.files.map((f, i) => [f.path, i]));
  a.diagnostics.sort((x, y) => (order.get(x.file) ?? 0) - (order.get(y.file) ?? 0) || x.start - y.start);
  capDiagnostics(a, schemaOmitted);
}

/**
 * Past MAX_DIAGNOSTICS, more problems in one document tell nobody anything and cost the editor
 * (VS Code's JSON server caps its computed items the same way): keep the first ones in document
 * order and say how many were left out, in one diagnostic at the last one kept.
 */
function capDiagnostics(a: Analysis, alreadyOmitted: number): void {
  if (a.diagnostics.length <= MAX_DIAGNOSTICS && alreadyOmitted === 0) return;
  const kept = a.diagnostics.slice(0, MAX_DIAGNOSTICS);
  const omitted = a.diagnostics.length - kept.length + alreadyOmitted;
  const last = kept.filter((d) => d.file === a.file.path).pop();
  const at = last ? last.start : 0;
  kept.push(
    makeDiagnostic(
      a.file,
      at,
      at,
      'information',
      'too-many-problems',
      `${omitted} more problem${omitted === 1 ? '' : 's'} not shown (at most ${MAX_DIAGNOSTICS} per document)`,
    ),
  );
  a.diagnostics = kept;
}
