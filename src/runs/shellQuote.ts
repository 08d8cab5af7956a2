// The one quoting function for text that goes into a POSIX sh script (launch scripts, sbatch files).
// Single quotes make the shell take every byte literally ($, `, ;, ", \, newlines, spaces); a single
// quote itself is closed, escaped and reopened. Nothing is ever left unquoted.
export class ShellQuoteError extends Error {}

export function shQuote(value: string): string {
  // A NUL cannot be passed through argv at all: refuse rather than silently truncate a path.
  if (value.includes('\u0000')) throw new ShellQuoteError('a value for a shell script contains a NUL character');
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A command line of quoted words. */
export function shCommand(words: readonly string[]): string {
  return words.map(shQuote).join(' ');
}
