// `fact-rlhf pipeline CONFIG [--json]`: the experiment form's pipeline strip in a terminal. Each
// stage SFT → reward model → rl_init → PPO → eval with its state from the runs of this config
// (src/runs/pipeline.ts), its progress while running, its headline figure and its error.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { formatPipeline, pipelineState } from '../runs/pipeline';

export function runPipeline(
  argv: string[],
  out: Pick<NodeJS.WritableStream, 'write'> = process.stdout,
  err: Pick<NodeJS.WritableStream, 'write'> = process.stderr,
): number {
  let config: string | undefined;
  let json = false;
  const fail = (message: string): number => {
    err.write(`error: pipeline: ${message}\n`);
    return 2;
  };
  for (const a of argv) {
    if (a === '--json') json = true;
    else if (a.startsWith('-')) return fail(`unknown option ${a}`);
    else if (config === undefined) config = a;
    else return fail(`unexpected argument ${a}`);
  }
  if (!config) return fail('needs a CONFIG file');
  const configPath = resolve(config);
  if (!existsSync(configPath) || !statSync(configPath).isFile()) return fail(`config file not found: ${configPath}`);
  const state = pipelineState(configPath);
  if (json) out.write(`${JSON.stringify(state)}\n`);
  else out.write(`${formatPipeline(state).join('\n')}\n`);
  return 0;
}
