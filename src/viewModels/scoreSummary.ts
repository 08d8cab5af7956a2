// What "Score Response" shows: the reward with the facts, without them and the difference (the
// fact-augmented RM's sensitivity to its facts, the sign of reward hacking), as a notification line,
// an inline note and the output channel's details; and which workspace runs can serve as the RM.
import type { RunInfo } from '../runs/runCatalog';

export interface ScoreInputs {
  prompt: string;
  response: string;
  facts: string[];
  /** Absolute image path. */
  image: string;
  /** Where prompt, facts and image came from: a sample-record line, or what was typed / passed. */
  source: 'sample' | 'input';
  sample?: { file: string; line: number; promptId: string; step: number | null };
}

export interface ScoreResponseResult extends ScoreInputs {
  /** The reward model as given (an export folder or an rm run folder). */
  model: string;
  /** The export folder that was loaded. */
  exportDir?: string;
  provider?: 'cpu' | 'cuda';
  withFacts: number;
  withoutFacts: number;
  difference: number;
  /** The notification text shown. */
  message: string;
}

/** What the command answers when it could not score (the error it showed). */
export interface ScoreResponseFailure {
  error: string;
}

/** Digits enough that a non-zero difference never prints as 0 (3 at least, 6 at most). */
export function digitsFor(difference: number): number {
  const d = Math.abs(difference);
  if (!Number.isFinite(d) || d === 0 || d >= 0.01) return 3;
  return Math.min(6, Math.max(3, Math.ceil(-Math.log10(d)) + 1));
}

export function signed(x: number, digits: number): string {
  const s = x.toFixed(digits);
  return /^-/.test(s) ? s : `+${s}`;
}

interface Scores {
  withFacts: number;
  withoutFacts: number;
  difference: number;
  facts: readonly string[];
}

/** The notification: "Fact-RLHF: reward 1.234 with facts, 0.456 without (Δ +0.778)". */
export function scoreMessage(s: Scores): string {
  const n = digitsFor(s.difference);
  const line = `Fact-RLHF: reward ${s.withFacts.toFixed(n)} with facts, ${s.withoutFacts.toFixed(n)} without (Δ ${signed(s.difference, n)})`;
  // Without facts the critique is the same text both times: say so rather than let 0 look like a finding.
  return s.facts.length ? line : `${line}; no facts were given, so both inputs are the same`;
}

/** The note shown after the selection. */
export function inlineNote(s: Scores): string {
  const n = digitsFor(s.difference);
  return `reward ${s.withFacts.toFixed(n)} with facts · ${s.withoutFacts.toFixed(n)} without · Δ ${signed(s.difference, n)}`;
}

/** "Details": every input and number, unrounded, for the output channel. */
export function scoreDetails(r: ScoreResponseResult): string[] {
  const source = r.sample
    ? `sample record ${r.sample.file}:${r.sample.line}${r.sample.promptId ? ` (prompt_id ${r.sample.promptId}${r.sample.step !== null ? `, step ${r.sample.step}` : ''})` : ''}`
    : 'typed in (or passed to the command)';
  return [
    `Score Response: ${r.model}${r.exportDir && r.exportDir !== r.model ? ` (export ${r.exportDir})` : ''}, onnxruntime-node ${r.provider === 'cuda' ? 'CUDA' : 'CPU'}`,
    `  inputs: ${source}`,
    `  prompt: ${JSON.stringify(r.prompt)}`,
    `  response: ${JSON.stringify(r.response)}`,
    `  facts (${r.facts.length}):${r.facts.length ? '' : ' none'}`,
    ...r.facts.map((f) => `    - ${f}`),
    `  image: ${r.image}`,
    `  reward with facts:    ${r.withFacts}`,
    `  reward without facts: ${r.withoutFacts}`,
    `  difference:           ${r.difference}`,
  ];
}

const NATIVE_MODULE = /Cannot find module '(onnxruntime-node|tokenizers)'/;

/** The scorer's own message, plus the way out when its native modules are not installed. */
export function explainScoringFailure(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const missing = NATIVE_MODULE.exec(message);
  if (!missing) return message;
  return (
    `${message}. Reward scoring loads the native packages onnxruntime-node and tokenizers, which the VSIX does not ship: ` +
    'run the extension from a clone after `npm ci` (see the README)'
  );
}

/** Finished rm runs with a checkpoint: the reward models to choose from, newest first. */
export function rewardModelRuns(runs: readonly RunInfo[]): RunInfo[] {
  return runs
    .filter((r) => r.stage === 'rm' && r.state === 'finished' && r.checkpoint !== undefined)
    .sort((a, b) => (b.started ?? 0) - (a.started ?? 0) || b.dir.localeCompare(a.dir));
}
