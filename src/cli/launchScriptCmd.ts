// `fact-rlhf launch-script CONFIG --backend torchrun|slurm [--gpus N] [--stage S] [--run-dir DIR]`:
// prints the script a multi-GPU or Slurm launch would run, for review (it runs nothing). GPUs and
// nodes default to the config's `launch:` section (`extends` resolved).
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { analyze, createNodeHost } from '../../language-server/src/engine';
import type { Stage } from '../protocol';
import { LaunchScriptError, launchScript, type LaunchBackend } from '../runs/launchScript';
import { resolveCliPython } from '../runs/pythonResolver';
import { defaultRunDirectory } from '../runs/runNaming';
import { ShellQuoteError } from '../runs/shellQuote';

const STAGES: readonly Stage[] = ['sft', 'rm', 'rl_init', 'ppo', 'eval'];

function launchValue(configPath: string, key: string): number | undefined {
  try {
    const a = analyze(readFileSync(configPath, 'utf8'), configPath, createNodeHost({ env: process.env }));
    const v = a.resolved?.get(['launch', key]);
    return typeof v === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}

export function runLaunchScript(argv: string[], toolRoot: string, out = process.stdout, err = process.stderr): number {
  let config: string | undefined;
  let backend: string | undefined;
  let gpusArg: string | undefined;
  let stage: string = 'ppo';
  let runDir: string | undefined;
  let python: string | undefined;
  const fail = (message: string): number => {
    err.write(`error: launch-script: ${message}\n`);
    return 2;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string | undefined => argv[++i];
    if (a === '--backend') backend = value();
    else if (a === '--gpus') gpusArg = value();
    else if (a === '--stage') stage = value() ?? '';
    else if (a === '--run-dir') runDir = value();
    else if (a === '--python') python = value();
    else if (a.startsWith('-')) return fail(`unknown option ${a}`);
    else if (config === undefined) config = a;
    else return fail(`unexpected argument ${a}`);
    if (argv[i] === undefined) return fail(`${a} needs a value`);
  }
  if (!config) return fail('needs a CONFIG file');
  if (backend !== 'torchrun' && backend !== 'slurm') return fail('--backend must be torchrun or slurm');
  if (!STAGES.includes(stage as Stage)) return fail(`--stage must be one of ${STAGES.join(', ')}`);
  const configPath = resolve(config);
  if (!existsSync(configPath)) return fail(`config file not found: ${configPath}`);
  let gpus: number;
  if (gpusArg !== undefined) {
    if (!/^\d+$/.test(gpusArg) || Number(gpusArg) < 1)
      return fail(`--gpus must be a whole number of at least 1, got ${JSON.stringify(gpusArg)}`);
    gpus = Number(gpusArg);
  } else {
    gpus = Math.max(1, launchValue(configPath, 'gpus') ?? 1);
  }
  const nodes = backend === 'slurm' ? Math.max(1, launchValue(configPath, 'nodes') ?? 1) : 1;
  const interpreter = resolveCliPython({ configured: python ?? process.env.FACT_RLHF_PYTHON, toolRoot, cwd: process.cwd() });
  try {
    out.write(
      launchScript({
        backend: backend as LaunchBackend,
        stage: stage as Stage,
        configPath,
        runDir: runDir ? resolve(runDir) : defaultRunDirectory(configPath, stage as Stage),
        python: isAbsolute(interpreter.path) ? interpreter.path : undefined,
        trainerRoot: join(toolRoot, 'trainer'),
        schemaDir: join(toolRoot, 'schema'),
        gpus,
        nodes,
        jobName: `fact-rlhf-${stage}`,
      }),
    );
  } catch (e) {
    if (e instanceof LaunchScriptError || e instanceof ShellQuoteError) return fail(e.message);
    throw e;
  }
  return 0;
}
