// Chooses the Python interpreter that runs the trainer: the user's setting, then the Python
// extension's choice, then a `.venv` (in the order of the roots given), then `python3` on PATH.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface PythonChoice {
  path: string;
  source: 'setting' | 'python-extension' | 'venv' | 'path';
}

export interface PythonResolveOptions {
  configured?: string;
  fromPythonExtension?: string;
  /** Folders that may hold a `.venv` (the workspace, the extension's own root). */
  venvRoots?: string[];
}

export function venvPython(root: string): string {
  return process.platform === 'win32' ? join(root, '.venv', 'Scripts', 'python.exe') : join(root, '.venv', 'bin', 'python');
}

export function resolvePython(opts: PythonResolveOptions): PythonChoice {
  if (opts.configured && opts.configured.trim()) return { path: opts.configured.trim(), source: 'setting' };
  if (opts.fromPythonExtension) return { path: opts.fromPythonExtension, source: 'python-extension' };
  for (const root of opts.venvRoots ?? []) {
    const candidate = venvPython(root);
    if (existsSync(candidate)) return { path: candidate, source: 'venv' };
  }
  return { path: process.platform === 'win32' ? 'python' : 'python3', source: 'path' };
}

export interface CliPythonOptions {
  /** --python or $FACT_RLHF_PYTHON. */
  configured?: string;
  /** The folder the CLI was installed with (holds dist/, trainer/, schema/ and its `.venv`). */
  toolRoot: string;
  /** The current folder: its `.venv` is only a fallback. */
  cwd: string;
}

/**
 * The CLI's choice: the interpreter it was installed with comes before a `.venv` that happens to be
 * in the current folder (a cloned repository's `.venv/bin/python` is that repository's program).
 */
export function resolveCliPython(opts: CliPythonOptions): PythonChoice {
  return resolvePython({ configured: opts.configured, venvRoots: [opts.toolRoot, opts.cwd] });
}
