// Checks, before a run folder exists, that an interpreter can import the trainer's heavy packages.
// No `vscode` import: the editor calls it before every launch; tests call it directly.
import { spawn } from 'node:child_process';
import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** The packages whose absence makes every stage fail; the trainer's own check lists the rest. */
export const PROBED_MODULES = ['torch', 'transformers', 'peft'] as const;

export type ProbeResult =
  | { ok: true; python: string }
  | {
      ok: false;
      python: string;
      /** not-found: no such interpreter; missing: a package fails to import; broken: the probe itself failed. */
      reason: 'not-found' | 'missing' | 'broken';
      /** The first error, as Python printed it (e.g. "ModuleNotFoundError: No module named 'torch'"). */
      firstError: string;
      /** Every probed module that failed to import. */
      missing: string[];
    };

// Imports each module in turn so one missing package does not hide the others; prints one JSON line.
const PROBE_SCRIPT = `
import json, sys
errors = []
for name in ${JSON.stringify(PROBED_MODULES)}:
    try:
        __import__(name)
    except BaseException as e:
        errors.append([name, type(e).__name__ + ": " + str(e)])
print("@@probe@@" + json.dumps(errors))
`;

/** Successful probes, keyed by the interpreter's real path and modification time. */
const okCache = new Map<string, true>();

/** Finds `command` on PATH the way a spawn would (absolute and relative paths are taken as they are). */
export function whichPython(command: string, envPath = process.env.PATH ?? ''): string | undefined {
  const candidates =
    isAbsolute(command) || command.includes('/')
      ? [command]
      : envPath
          .split(delimiter)
          .filter(Boolean)
          .map((d) => join(d, command));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      if (statSync(c).isFile()) return c;
    } catch {
      // not here
    }
  }
  return undefined;
}

function cacheKey(path: string): string | undefined {
  try {
    const real = realpathSync(path);
    return `${real}@${statSync(real).mtimeMs}`;
  } catch {
    return undefined;
  }
}

/**
 * Runs `python -c "import torch, transformers, peft"` (each separately) with a timeout.
 * Only successes are cached: after `pip install torch` the interpreter's mtime does not change,
 * and a failure must be re-checked on the next launch.
 */
export async function probeInterpreter(python: string, opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ProbeResult> {
  const env = opts.env ?? process.env;
  const found = whichPython(python, env.PATH ?? '');
  if (!found) {
    return {
      ok: false,
      python,
      reason: 'not-found',
      firstError: `no interpreter "${python}" (not an executable file${isAbsolute(python) ? '' : ' on PATH'})`,
      missing: [...PROBED_MODULES],
    };
  }
  const key = cacheKey(found);
  if (key && okCache.has(key)) return { ok: true, python };

  const { code, stdout, stderr, timedOut, spawnError } = await runProbe(found, env, opts.timeoutMs ?? 60_000);
  if (spawnError) return { ok: false, python, reason: 'not-found', firstError: spawnError, missing: [...PROBED_MODULES] };
  const line = stdout.split('\n').find((l) => l.startsWith('@@probe@@'));
  if (!line) {
    const why = timedOut
      ? `the check "import ${PROBED_MODULES.join(', ')}" did not finish in ${Math.round((opts.timeoutMs ?? 60_000) / 1000)} s`
      : (firstErrorLine(stderr) ?? `exited with code ${code}`);
    return { ok: false, python, reason: 'broken', firstError: why, missing: [] };
  }
  const errors = JSON.parse(line.slice('@@probe@@'.length)) as [string, string][];
  if (errors.length === 0) {
    if (key) okCache.set(key, true);
    return { ok: true, python };
  }
  return { ok: false, python, reason: 'missing', firstError: errors[0][1], missing: errors.map(([name]) => name) };
}

/** Forgets cached successes (tests; a changed environment). */
export function clearProbeCache(): void {
  okCache.clear();
}

function runProbe(
  python: string,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean; spawnError?: string }> {
  return new Promise((resolve) => {
    const child = spawn(python, ['-c', PROBE_SCRIPT], { env: { ...env, PYTHONUNBUFFERED: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-16_384)));
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr, timedOut, spawnError: `cannot start ${python}: ${err.message}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

/**
 * The first error in a trainer's error text, in the order it was printed: the trainer's own
 * message, or the exception line of the FIRST traceback (a chained second traceback, e.g. from the
 * shutdown, is a consequence). Wrapper headers ("trainer exited with code 1:") and warnings are skipped.
 */
export function firstErrorLine(text: string | undefined): string | undefined {
  if (!text) return undefined;
  let inTraceback = false;
  for (const line of text.split(/\r?\n/)) {
    if (/^Traceback \(most recent call last\):/.test(line)) {
      inTraceback = true;
      continue;
    }
    // Frames are indented; the first unindented line ends the traceback with its exception.
    if (inTraceback && (/^\s/.test(line) || line === '')) continue;
    const trimmed = line.trim();
    if (!trimmed || /^trainer (exited with code|was killed by)/.test(trimmed)) continue;
    if (!inTraceback && /\w*Warning:|^warnings\.warn/.test(trimmed)) continue;
    return trimmed.replace(/^error:\s*/, '');
  }
  // Nothing but the run manager's own line ("trainer was killed by SIGKILL …"): that is the news.
  const own = text.split(/\r?\n/).find((l) => l.trim() !== '');
  return own?.trim();
}
