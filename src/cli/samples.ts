// `fact-rlhf samples RUN_DIR|FILE [--step N] [--sort KEY] [--asc] [--grep TEXT] [--hallucinated]
// [--limit K] [--json]`: a run's sample records (or another trainer's sample files) read through the
// same sample source as the inspector. Per record: step, prompt id, reward parts (— where the source
// has none), advantage, the response with its hallucinated spans marked (colour on a terminal,
// [[…]] otherwise, so a pipe or a log keeps the marks) and the spans list. --json prints the
// InspectorRecord list. Exit 0, or 2 on bad input (with what was wrong).
import { MAX_PAGE, type InspectorRecord, type QueryParams, type RewardParts, type SortKey } from '../protocol/webviews/sampleInspector';
import { segmentSpans } from '../protocol/spans';
import { SourceError, openSampleSource, type SampleSource } from '../runs/samples';

export interface SamplesArgs {
  path: string;
  step: number | null;
  sort: SortKey;
  descending: boolean;
  text: string;
  hallucinatedOnly: boolean;
  limit: number;
  json: boolean;
}

const SORTS: readonly SortKey[] = ['total', 'rm', 'halluc', 'length'];
const DEFAULT_LIMIT = 10;

export function parseSamplesArgs(argv: string[]): SamplesArgs | string {
  let path: string | undefined;
  let sort: SortKey = 'index';
  let ascending = false;
  const out = { step: null as number | null, limit: DEFAULT_LIMIT, text: '', hallucinatedOnly: false, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string | undefined => argv[++i];
    if (a === '--json') out.json = true;
    else if (a === '--asc') ascending = true;
    else if (a === '--hallucinated') out.hallucinatedOnly = true;
    else if (a === '--step' || a === '--limit') {
      const v = value();
      const n = v === undefined ? NaN : Number(v);
      if (!Number.isInteger(n) || n < 0) return `samples: ${a} needs a whole number ≥ 0${v === undefined ? '' : ` (got "${v}")`}`;
      if (a === '--step') out.step = n;
      else out.limit = n;
    } else if (a === '--sort') {
      const v = value();
      if (!SORTS.includes(v as SortKey)) return `samples: --sort needs one of ${SORTS.join(', ')}${v === undefined ? '' : ` (got "${v}")`}`;
      sort = v as SortKey;
    } else if (a === '--grep') {
      const v = value();
      if (v === undefined) return 'samples: --grep needs a TEXT';
      out.text = v;
    } else if (a.startsWith('-')) return `samples: unknown option ${a}`;
    else if (path === undefined) path = a;
    else return `samples: unexpected argument ${a}`;
  }
  if (path === undefined) return "samples needs a RUN_DIR or FILE (a run folder, samples/step-N.jsonl, or another trainer's sample files)";
  // Sorted lists read best-first (highest reward, most spans, longest); --asc turns them round.
  return { path, sort, descending: sort !== 'index' && !ascending, ...out };
}

async function collect(
  source: SampleSource,
  base: Omit<QueryParams, 'offset' | 'limit'>,
  limit: number,
): Promise<{ matching: number; records: InspectorRecord[] }> {
  const records: InspectorRecord[] = [];
  let matching = 0;
  while (records.length < limit) {
    const page = await source.query({ ...base, offset: records.length, limit: Math.min(MAX_PAGE, limit - records.length) });
    matching = page.matching;
    records.push(...page.records);
    if (!page.records.length || records.length >= page.matching) break;
  }
  return { matching, records };
}

const PARTS: [keyof RewardParts, string][] = [
  ['total', 'total'],
  ['rm', 'rm'],
  ['eos_penalty', 'eos'],
  ['length', 'length'],
  ['symbolic', 'symbolic'],
  ['kl', 'kl'],
];

/**
 * Text from a sample file, safe on a terminal: control characters (ESC and the rest of C0/C1, which a
 * file could use to move the cursor or retitle the window) are shown as \u escapes; \n and \t stay.
 */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
export const printable = (text: string): string => text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

const num = (v: number | null | undefined): string => (v === null || v === undefined ? '—' : String(Number(v.toPrecision(4))));

/** The response with its spans marked: ANSI bold red on a terminal, [[text]] otherwise. */
export function markedResponse(r: InspectorRecord, colour: boolean): { text: string; ignored: number } {
  const { segments, ignored } = segmentSpans(r.response, r.hallucination?.spans ?? []);
  const text = segments
    .map((s) => {
      const t = printable(r.response.slice(s.start, s.end));
      if (!s.labels.length) return t;
      return colour ? `\x1b[1;31m${t}\x1b[0m` : `[[${t}]]`;
    })
    .join('');
  return { text, ignored };
}

const indent = (text: string): string => text.replace(/\n/g, '\n            ');

export function formatRecord(r: InspectorRecord, colour: boolean): string {
  const lines: string[] = [];
  const head = [`#${r.index}`, `step ${r.step ?? '—'}`, `prompt ${printable(r.promptId ?? '—')}`];
  if (r.captionType !== null) head.push(`caption type ${r.captionType}`);
  lines.push(head.join('  '));
  const reward = PARTS.map(([k, label]) => `${label} ${num(r.reward[k])}`).join('  ');
  lines.push(`  reward    ${reward}  advantage ${num(r.advantage)}`);
  const extra = Object.entries(r.extra);
  if (extra.length) lines.push(`  extra     ${extra.map(([k, v]) => `${printable(k)} ${num(v)}`).join('  ')}`);
  if (r.prompt !== null) lines.push(`  prompt    ${indent(printable(r.prompt))}`);
  const marked = markedResponse(r, colour);
  lines.push(`  response  ${indent(marked.text)}`);
  if (r.hallucination) {
    const spans = r.hallucination.spans.map(([s, e, label]) => `[${s},${e}) ${printable(label)} ${JSON.stringify(r.response.slice(s, e))}`);
    const note = marked.ignored ? `  (${marked.ignored} out of range, not marked)` : '';
    lines.push(`  spans     ${spans.length ? spans.join('; ') : 'none'} (${printable(r.hallucination.source)})${note}`);
  } else lines.push('  spans     — (not judged)');
  return lines.join('\n');
}

type Out = NodeJS.WritableStream & { isTTY?: boolean };

export async function runSamples(argv: string[], out: Out = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const args = parseSamplesArgs(argv);
  if (typeof args === 'string') {
    err.write(`error: ${args}\n`);
    return 2;
  }
  let source: SampleSource;
  try {
    source = await openSampleSource(args.path);
  } catch (e) {
    if (!(e instanceof SourceError)) throw e;
    err.write(`error: samples: ${e.message}\n`);
    return 2;
  }
  try {
    let step: number | null = null;
    if (args.step !== null) {
      step = source.nearestStep(args.step);
      if (step === null) {
        err.write(`error: samples: ${source.info().path} holds no samples yet\n`);
        return 2;
      }
      if (step !== args.step) err.write(`fact-rlhf: no step ${args.step} in ${source.info().path}; showing the nearest, step ${step}\n`);
    }
    const { matching, records } = await collect(
      source,
      {
        step,
        sort: args.sort,
        descending: args.descending,
        filter: { captionType: null, hallucinatedOnly: args.hallucinatedOnly, text: args.text },
      },
      args.limit,
    );
    const info = source.info();
    if (info.corrupt) err.write(`fact-rlhf: ${info.corrupt} corrupt line(s) skipped, first: ${info.corruptAt[0] ?? '?'}\n`);
    if (args.json) {
      out.write(`${JSON.stringify(records)}\n`);
      return 0;
    }
    const steps = info.steps.length ? `steps ${info.steps[0]}–${info.steps[info.steps.length - 1]}` : 'no steps';
    const scope = step === null ? 'all steps' : `step ${step}`;
    out.write(
      `${info.path} (${info.format}): ${info.total} records, ${steps}; ${scope}: ${matching} matching, showing ${records.length}\n`,
    );
    const colour = out.isTTY === true && !process.env.NO_COLOR;
    for (const r of records) out.write(`\n${formatRecord(r, colour)}\n`);
    return 0;
  } finally {
    source.close();
  }
}
