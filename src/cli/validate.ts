// `fact-rlhf validate FILE [--json]`: the language server's engine, from a terminal.
import { resolve, relative } from 'node:path';
import { existsSync } from 'node:fs';
import { validateFile } from '../../language-server/src/engine';
import type { ValidationDiagnostic } from '../protocol/lsp';

/** `file:line:col: severity [code] message`, the file relative to the working folder. */
export function formatDiagnostic(d: ValidationDiagnostic): string {
  const shown = relative(process.cwd(), d.file) || d.file;
  return `${shown}:${d.line}:${d.column}: ${d.severity} [${d.code}] ${d.message}`;
}

/**
 * A reader that leaves early (`validate --json | head`) closes the pipe: further output has nowhere
 * to go, which is no error of ours. Without this, Node prints an EPIPE stack trace.
 */
function quietOnClosedPipe(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

export function runValidate(argv: string[]): number {
  quietOnClosedPipe();
  const json = argv.includes('--json');
  // An unknown flag is an error, not silently ignored (the habit of the reference scripts this tool replaces).
  const unknown = argv.filter((a) => a.startsWith('-') && a !== '--json');
  if (unknown.length > 0) {
    process.stderr.write(`error: validate: unknown option ${unknown.join(', ')} (usage: fact-rlhf validate FILE... [--json])\n`);
    return 2;
  }
  const files = argv.filter((a) => !a.startsWith('-'));
  if (files.length === 0) {
    process.stderr.write('error: validate needs a FILE\n');
    return 2;
  }
  let errors = 0;
  const all = [];
  for (const file of files) {
    const path = resolve(file);
    if (!existsSync(path)) {
      process.stderr.write(`error: file not found: ${path}\n`);
      return 2;
    }
    const diagnostics = validateFile(path);
    for (const d of diagnostics) {
      if (d.severity === 'error') errors++;
      all.push(d);
      if (!json) process.stdout.write(`${formatDiagnostic(d)}\n`);
    }
  }
  if (json) {
    for (const d of all) process.stdout.write(`${JSON.stringify(d)}\n`);
  } else if (all.length === 0) {
    process.stdout.write(`no problems in ${files.length} file(s)\n`);
  }
  return errors > 0 ? 1 : 0;
}
