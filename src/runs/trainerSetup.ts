// Runs the project's own scripts/setup-python.sh to create the trainer's virtual environment: an
// argument array (`bash SCRIPT`), the target passed as FACT_RLHF_VENV, the output streamed line by
// line, and cancellation ending the whole process group (pip and the venv module included).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';

export interface TrainerSetupOptions {
  /** scripts/setup-python.sh of the extension (or repository). */
  script: string;
  /** The virtual environment folder to create or update. */
  venv: string;
  /** The interpreter that creates the venv (the Python extension's choice); default: the script's python3. */
  basePython?: string;
  env?: NodeJS.ProcessEnv;
  onLine?: (line: string) => void;
  signal?: AbortSignal;
}

export interface TrainerSetupResult {
  ok: boolean;
  cancelled: boolean;
  exitCode: number | null;
  /** The venv's interpreter (what factRlhf.pythonPath should name). */
  python: string;
  /** The last lines of output (an error's explanation). */
  tail: string[];
}

export function venvInterpreter(venv: string): string {
  return process.platform === 'win32' ? join(venv, 'Scripts', 'python.exe') : join(venv, 'bin', 'python');
}

export function runTrainerSetup(o: TrainerSetupOptions): Promise<TrainerSetupResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...o.env, FACT_RLHF_VENV: o.venv };
  if (o.basePython) env.PYTHON = o.basePython;
  const tail: string[] = [];
  return new Promise((resolveResult) => {
    if (o.signal?.aborted) {
      resolveResult({ ok: false, cancelled: true, exitCode: null, python: venvInterpreter(o.venv), tail });
      return;
    }
    const child = spawn('bash', [o.script], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: process.platform !== 'win32' });
    let cancelled = false;
    const onAbort = (): void => {
      cancelled = true;
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGTERM'); // its own group: pip and the venv module stop too
      } catch {
        child.kill('SIGTERM');
      }
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });
    const emit = (line: string): void => {
      tail.push(line);
      if (tail.length > 40) tail.shift();
      o.onLine?.(line);
    };
    for (const stream of [child.stdout, child.stderr]) {
      const decoder = new StringDecoder('utf8');
      let rest = '';
      stream.on('data', (chunk: Buffer) => {
        const lines = (rest + decoder.write(chunk)).split(/\r?\n/);
        rest = lines.pop() ?? '';
        for (const l of lines) if (l.trim()) emit(l);
      });
      stream.on('end', () => {
        const last = rest + decoder.end();
        if (last.trim()) emit(last);
      });
    }
    let spawnError: string | undefined;
    child.on('error', (err) => (spawnError = `could not run bash: ${err.message}`));
    child.on('close', (code) => {
      o.signal?.removeEventListener('abort', onAbort);
      if (spawnError) tail.push(spawnError);
      resolveResult({ ok: code === 0 && !cancelled, cancelled, exitCode: code, python: venvInterpreter(o.venv), tail });
    });
  });
}
