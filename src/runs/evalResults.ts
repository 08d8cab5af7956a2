// An eval run's results.json as a Markdown table for people: MMHal-style score and hallucination
// rate with the per-type scores, POPE, CHAIR. VS Code-free: the editor shows it as a read-only
// document, and the same text is what a test reads.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readManifest } from './runDirectory';

export const RESULTS_FILE = 'results.json';

type Metrics = Record<string, unknown>;
export type EvalResults = Record<string, Metrics>;

export function readEvalResults(runDir: string): EvalResults | undefined {
  try {
    const data = JSON.parse(readFileSync(join(runDir, RESULTS_FILE), 'utf8')) as unknown;
    return data && typeof data === 'object' ? (data as EvalResults) : undefined;
  } catch {
    return undefined; // a stopped or failed eval writes none
  }
}

function num(value: unknown, digits: number): string {
  return typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : '–';
}

function pct(value: unknown): string {
  return typeof value === 'number' && Number.isFinite(value) ? `${(100 * value).toFixed(1)} %` : '–';
}

function table(header: string[], rows: string[][]): string[] {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
}

const TITLES: Record<string, string> = {
  shapes: 'Built-in MMHal-style set (shapes world, exact judge)',
  mmhal: 'MMHal-Bench',
  pope: 'POPE',
  chair: 'CHAIR',
};

function mmhalSection(m: Metrics): string[] {
  const out = table(
    ['MMHal score (0–6)', 'Hallucination rate', 'Questions'],
    [[num(m.score, 2), pct(m.hallucination_rate), num(m.count, 0)]],
  );
  const perType = m.per_type && typeof m.per_type === 'object' ? (m.per_type as Record<string, unknown>) : {};
  const counts = m.per_type_count && typeof m.per_type_count === 'object' ? (m.per_type_count as Record<string, unknown>) : {};
  const types = Object.keys(perType);
  if (types.length) {
    out.push(
      '',
      ...table(
        ['Question type', 'Score', 'Questions'],
        types.map((t) => [t, num(perType[t], 2), num(counts[t], 0)]),
      ),
    );
  }
  return out;
}

function popeSection(m: Metrics): string[] {
  const row = (name: string, s: Metrics): string[] => [
    name,
    num(s.f1, 3),
    num(s.accuracy, 3),
    num(s.precision, 3),
    num(s.recall, 3),
    pct(s.yes_ratio),
  ];
  const rows = [row('all', m)];
  for (const [k, v] of Object.entries(m)) if (v && typeof v === 'object' && 'f1' in v) rows.push(row(k, v as Metrics));
  return table(['POPE split', 'F1', 'Accuracy', 'Precision', 'Recall', 'Yes ratio'], rows);
}

function chairSection(m: Metrics): string[] {
  return table(['CHAIR-i (objects)', 'CHAIR-s (sentences)'], [[num(m.chair_i, 3), num(m.chair_s, 3)]]);
}

function otherSection(m: Metrics): string[] {
  const rows = Object.entries(m)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => [k, num(v, 4)]);
  return table(['Metric', 'Value'], rows);
}

/** The results as Markdown, headed by what was evaluated (the run's eval.checkpoint, else its policy). */
export function formatEvalResults(runDir: string, results: EvalResults): string {
  let evaluated = 'unknown model';
  let runId = runDir;
  try {
    const m = readManifest(runDir);
    const config = (m?.config ?? {}) as { eval?: { checkpoint?: string }; model?: { policy?: string } };
    evaluated =
      config.eval?.checkpoint ??
      `${config.model?.policy ?? 'unknown model'}${config.model?.policy?.startsWith('builtin:') ? ' (random initialisation)' : ''}`;
    runId = m?.id ?? runDir;
  } catch {
    // the table still helps without the manifest
  }
  const lines = [`# Evaluation ${runId}`, '', `Model: \`${evaluated}\``, '', `Run folder: \`${runDir}\``];
  for (const [name, metrics] of Object.entries(results)) {
    if (!metrics || typeof metrics !== 'object') continue;
    lines.push('', `## ${TITLES[name] ?? name}`, '');
    if (name === 'shapes' || name === 'mmhal') lines.push(...mmhalSection(metrics));
    else if (name === 'pope') lines.push(...popeSection(metrics));
    else if (name === 'chair') lines.push(...chairSection(metrics));
    else lines.push(...otherSection(metrics));
    if (typeof metrics.mean_response_length === 'number')
      lines.push('', `Mean response length: ${num(metrics.mean_response_length, 1)} tokens`);
  }
  return `${lines.join('\n')}\n`;
}
