// The one line a failure notification shows. A failed run's error text comes in two shapes:
// the trainer's own (`ValueError: boom` then `  at file.py:12 in f` frames, trainer/fact_rlhf/cli.py
// _error_text), and the run manager's for a trainer that died without a status (`trainer exited
// with code 1:` then the tail of its stderr, often a Python traceback ending in the exception).
// The old toast took the last line, which for the first shape is the innermost stack frame.

const FRAME = /^\s*(at \S+:\d+|File "[^"]*", line \d+)/;
const EXCEPTION = /^([A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit|Warning)|error)(:|$)/;

export function errorHeadline(text: string | undefined, max = 300): string {
  const lines = (text ?? '').split('\n').map((l) => l.trimEnd()).filter((l) => l.trim() !== '');
  if (lines.length === 0) return 'unknown error';
  const clip = (s: string): string => (s.length > max ? `${s.slice(0, max - 1)}…` : s);
  const tb = lines.findIndex((l) => l.startsWith('Traceback (most recent call last)'));
  if (tb >= 0) {
    // A Python traceback: the exception is the last unindented line after it.
    const after = lines.slice(tb + 1).filter((l) => !/^\s/.test(l));
    const exc = after.filter((l) => EXCEPTION.test(l)).pop() ?? after.pop();
    const lead = tb > 0 && lines[0].endsWith(':') ? `${lines[0]} ` : '';
    if (exc) return clip(`${lead}${exc.trim()}`);
  }
  const first = lines.find((l) => !FRAME.test(l)) ?? lines[0];
  if (first.endsWith(':')) {
    // "trainer exited with code 1:" says little alone: add the first error line that follows.
    const rest = lines.slice(lines.indexOf(first) + 1).find((l) => EXCEPTION.test(l.trim()));
    if (rest) return clip(`${first} ${rest.trim()}`);
  }
  return clip(first.trim());
}
