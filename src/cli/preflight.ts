// Before a stage command starts anything: the config goes through the same engine as
// `fact-rlhf validate` (the language server's). Errors refuse the run with every problem listed,
// before a run folder exists or Python starts (the trainer's own preflight knows fewer rules and
// costs seconds of imports); warnings are printed and the run goes on.
import type { Writable } from 'node:stream';
import { validateFile } from '../../language-server/src/engine';
import { formatDiagnostic } from './validate';

export interface PreflightOutcome {
  /** False: the config has errors and nothing may be started. */
  ok: boolean;
  errors: number;
  warnings: number;
}

export function preflightConfig(configPath: string, command: string, out: Writable): PreflightOutcome {
  const diagnostics = validateFile(configPath, { env: process.env });
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.filter((d) => d.severity === 'warning').length;
  for (const d of diagnostics) out.write(`${formatDiagnostic(d)}\n`);
  if (errors > 0) {
    const counts = `${errors} error${errors === 1 ? '' : 's'}${warnings ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}`;
    out.write(
      `error: ${command}: the config has ${counts}; nothing was started (no run folder, no trainer). Fix them and run again (\`fact-rlhf validate\` checks without running).\n`,
    );
  }
  return { ok: errors === 0, errors, warnings };
}
