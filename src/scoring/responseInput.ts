// What "Score Response" scores, taken from where the user is: a selection is the response; when it
// lies on a sample-record line of a run's samples/*.jsonl, that record supplies the prompt, facts
// and image (relative to its run folder), so nothing has to be typed.
import { isSamplesFile, parseScoreRecordLine, runFolder, type ScoreRecord } from './samples';

/** The sample record on line `lineNumber` (1-based) of `file`, or undefined when `file` is not a
 *  samples/*.jsonl file or the line is blank. A malformed record throws ScoringError (file:line: field). */
export function sampleRecordAt(file: string, lineText: string, lineNumber: number): ScoreRecord | undefined {
  if (!isSamplesFile(file)) return undefined;
  return parseScoreRecordLine(lineText, file, lineNumber, runFolder(file)) ?? undefined;
}

/**
 * The response a selection stands for. Inside a sample-record line the text is JSON source: an
 * empty selection means the record's own response, and a selection within a string (or a whole
 * quoted string) is unescaped, so `\n` or `\"` are scored as the characters they encode.
 */
export function selectedResponse(selected: string, record?: ScoreRecord): string {
  if (!record) return selected;
  if (selected === '') return record.response;
  for (const candidate of [selected, `"${selected}"`]) {
    try {
      const value: unknown = JSON.parse(candidate);
      if (typeof value === 'string') return value;
    } catch {
      // not a JSON string this way: try the next reading, else the raw text
    }
  }
  return selected;
}

/** Facts typed into one input box: `;`-separated (or one per line when pasted); blanks dropped. */
export function splitFacts(text: string): string[] {
  return text
    .split(/[;\r\n]+/)
    .map((f) => f.trim())
    .filter((f) => f.length > 0);
}

/** The input box's value for facts remembered from the last use. */
export function joinFacts(facts: readonly string[]): string {
  return facts.join('; ');
}
