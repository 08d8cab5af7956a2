// `fact-rlhf`: the terminal front end over src/runs (the same module the extension uses).
import { dirname, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { phaseLabel, type Stage } from '../protocol';
import { RunManager } from '../runs/runManager';
import { RunSeries } from '../runs/runSeries';
import { resolveCliPython } from '../runs/pythonResolver';
import { summarize, formatSummary, KL_KEY, PRIMARY_METRIC } from '../runs/runSummary';
import { ProgressReporter } from './progressBar';
import { runValidate } from './validate';
import { commandHelp, wantsHelp } from './help';
import { preflightConfig } from './preflight';
import { chooseResumeRun, ResumeError } from './resume';
import { runScore } from './score';
import { runHealth } from './health';
import { runMetrics } from './metrics';
import { runSamples } from './samples';
import { chooseEvalTarget, EvalTargetError, type EvalChoice } from '../runs/evalTarget';
import { runRuns } from './runs';
import { planResume } from './resumeRun';
import { runLaunchScript } from './launchScriptCmd';
import { runPipeline } from './pipeline';
import { runLabels } from './labels';

const USAGE = `usage: fact-rlhf <command> [options]

commands:
  ppo CONFIG        run PPO (Fact-RLHF) on an experiment config (*.rlhf.yaml)
  sft CONFIG        run supervised fine-tuning
  rm CONFIG         train the reward model
  rl_init CONFIG    initialise the PPO policy (a fresh LoRA on the SFT model)
  eval CONFIG       evaluate a checkpoint (eval.checkpoint) on hallucination benchmarks
  validate FILE     check a config; --json prints one object per diagnostic; exit 1 on errors
  help COMMAND      what COMMAND reads and writes (also: fact-rlhf COMMAND --help)
  score --rm RM --samples FILE [--json]
                    score sample records with a reward model, with and without their facts
  health PATH       training-health rules on a run folder or log; --json; --config FILE (its monitor:
                    thresholds); exit 1 on an alarm, 0 healthy, 2 bad input
  metrics PATH      each metric's count, first and last value (run folder, TensorBoard log, JSONL); --json
  samples PATH      sample records of a run (or LLaVA-RLHF, veRL, TRL sample files) with reward parts
                    and hallucinated spans marked; --step N, --sort total|rm|halluc|length, --limit K, --json
  runs [DIR]        the runs under DIR (a run folder, an output folder, or a folder of configs) with
                    status, stage, progress, headline figure and age; --json
  resume RUN_DIR    continue a run from its latest checkpoint (stage and config from its run.json)
  pipeline CONFIG   the config's pipeline SFT → reward model → rl_init → PPO → eval: each stage's
                    state from its runs, progress, headline figure or error; --json
  launch-script CONFIG --backend torchrun|slurm [--gpus N] [--stage S] [--run-dir DIR]
                    print the torchrun command line or sbatch script a launch would run (runs nothing)
  labels export RUN_DIR [--out FILE]
                    the human labels of a run's samples as a preference file for the rm stage

run options:
  --python PATH     Python interpreter (default: $FACT_RLHF_PYTHON, the tool's .venv, ./.venv, python3)
  --run-dir DIR     run directory (default: <config dir>/<output_dir>/<name>-<stage>-<time>)
  --output-dir DIR  folder for run directories
  --resume          continue a run from its last checkpoint: --run-dir, else the newest one of the config
  --checkpoint PATH eval: the model to evaluate (default: eval.checkpoint, else the newest finished
                    ppo, rl_init or sft run under the output folder)
  --allow-random    eval: allow a randomly initialised builtin: model when nothing trained is found

\`fact-rlhf COMMAND --help\` says what a command reads and writes.
`;

const STAGES: Record<string, Stage> = { ppo: 'ppo', sft: 'sft', rm: 'rm', rl_init: 'rl_init', eval: 'eval' };

/** The folder that holds dist/, trainer/ and schema/ (the repo or the installed extension). */
function toolRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 4; i++) {
    if (existsSync(join(dir, 'schema')) && existsSync(join(dir, 'trainer'))) return dir;
    dir = dirname(dir);
  }
  return dirname(__dirname);
}

interface RunArgs {
  config?: string;
  python?: string;
  runDir?: string;
  outputDir?: string;
  resume: boolean;
  /** eval: --checkpoint and --allow-random. */
  checkpoint?: string;
  allowRandom: boolean;
}

function parseRunArgs(argv: string[], stage: Stage): RunArgs {
  const args: RunArgs = { resume: false, allowRandom: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--python') args.python = value();
    else if (a === '--run-dir') args.runDir = value();
    else if (a === '--output-dir') args.outputDir = value();
    else if (a === '--resume') args.resume = true;
    else if (stage === 'eval' && a === '--checkpoint') args.checkpoint = value();
    else if (stage === 'eval' && a === '--allow-random') args.allowRandom = true;
    else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
    else if (!args.config) args.config = a;
    else throw new UsageError(`unexpected argument ${a}`);
  }
  return args;
}

class UsageError extends Error {}

async function runStage(stage: Stage, argv: string[]): Promise<number> {
  const args = parseRunArgs(argv, stage);
  if (!args.config) throw new UsageError(`${stage} needs a CONFIG file`);
  const configPath = resolve(args.config);
  if (!existsSync(configPath)) {
    process.stderr.write(`error: config file not found: ${configPath}\n`);
    return 2;
  }
  // Nothing is created or started before the config and the run to resume check out.
  if (!preflightConfig(configPath, stage, process.stderr).ok) return 1;
  let runDir = args.runDir && resolve(args.runDir);
  if (args.resume) {
    try {
      const choice = chooseResumeRun({ configPath, stage, runDir, outputDir: args.outputDir && resolve(args.outputDir) });
      runDir = choice.runDir;
      process.stderr.write(`fact-rlhf: ${choice.note}\n`);
    } catch (err) {
      if (!(err instanceof ResumeError)) throw err;
      process.stderr.write(`error: ${err.message}\n`);
      return 2;
    }
  }
  let evalChoice: EvalChoice | undefined;
  if (stage === 'eval') {
    // The same rule the trainer applies, decided here so a refusal creates nothing and starts nothing.
    try {
      evalChoice = chooseEvalTarget(configPath, {
        checkpoint: args.checkpoint,
        allowRandom: args.allowRandom || undefined,
        outputDir: args.outputDir && resolve(args.outputDir),
      });
    } catch (err) {
      if (!(err instanceof EvalTargetError)) throw err;
      process.stderr.write(`error: eval: ${err.message}
  (nothing was started; \`fact-rlhf eval --help\` says how to choose a checkpoint)
`);
      return 2;
    }
    process.stderr.write(`fact-rlhf: ${evalChoice.note}
`);
  }
  const root = toolRoot();
  const python = resolveCliPython({ configured: args.python ?? process.env.FACT_RLHF_PYTHON, toolRoot: root, cwd: process.cwd() });
  const manager = new RunManager();
  const started = Date.now();
  const handle = manager.start({
    stage,
    configPath,
    python: python.path,
    trainerRoot: join(root, 'trainer'),
    schemaDir: join(root, 'schema'),
    runDir,
    outputDir: args.outputDir && resolve(args.outputDir),
    resume: args.resume,
    evalCheckpoint: evalChoice?.checkpoint,
    allowRandom: evalChoice?.allowRandom,
  });
  process.stderr.write(
    `fact-rlhf: ${stage} run ${handle.runId}\n  config: ${configPath}\n  python: ${python.path} (${python.source})\n  run folder: ${handle.runDir}\n`,
  );

  const series = new RunSeries();
  const progress = new ProgressReporter(process.stderr);
  let corrupt = 0;
  let phase: string | undefined;
  handle.on('events', (events) => {
    series.apply(events);
    for (const e of events) {
      if (e.type === 'progress' && e.phase) {
        // A phase before the main steps: one line when it begins (a warm-up's own count follows on a TTY).
        if (e.phase !== phase) {
          phase = e.phase;
          progress.clear();
          process.stderr.write(`fact-rlhf: ${phaseLabel(e.phase)}${e.total > 0 ? ` (${e.total} steps)` : ''}…\n`);
        }
      } else if (e.type === 'progress') {
        phase = undefined;
        progress.update({
          step: e.step,
          total: e.total,
          eta: e.eta ?? null,
          label: PRIMARY_METRIC[stage].label,
          reward: series.last(PRIMARY_METRIC[stage].key),
          kl: stage === 'ppo' ? series.last(KL_KEY) : undefined,
        });
      } else if (e.type === 'log' && (e.level === 'warning' || e.level === 'error')) {
        progress.clear();
        process.stderr.write(`${e.level}: ${e.message}\n`);
      }
    }
  });
  handle.on('corrupt', (lines) => (corrupt += lines.length));
  const verbose = process.env.FACT_RLHF_VERBOSE === '1';
  if (verbose)
    handle.on('output', (line) => {
      progress.clear();
      process.stderr.write(`  ${line}\n`);
    });

  let interrupted = false;
  const onSigint = (): void => {
    if (interrupted) return;
    interrupted = true;
    progress.clear();
    process.stderr.write('stopping (the trainer checkpoints first; Ctrl-C again is ignored)...\n');
    void handle.stop();
  };
  process.on('SIGINT', onSigint);
  const result = await handle.done;
  process.off('SIGINT', onSigint);
  progress.clear();

  const figures = summarize(series, result, (Date.now() - started) / 1000, corrupt, stage);
  process.stdout.write(`${formatSummary(figures).join('\n')}\n`);
  if (result.status === 'failed') {
    process.stderr.write(`\nerror: the ${stage} run failed:\n${result.error ?? 'unknown error'}\n`);
    return 1;
  }
  return result.status === 'stopped' ? 130 : 0;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    const topic = command === 'help' && rest[0] ? commandHelp(rest[0]) : undefined;
    if (topic) {
      process.stdout.write(topic);
      return 0;
    }
    if (!command || command === '-h' || command === '--help' || command === 'help') {
      process.stdout.write(USAGE);
      return command ? 0 : 2;
    }
    if (command === '--version') {
      process.stdout.write('fact-rlhf 0.1.0\n');
      return 0;
    }
    const help = wantsHelp(rest) ? commandHelp(command) : undefined;
    if (help) {
      process.stdout.write(help);
      return 0;
    }
    if (command === 'validate') return runValidate(rest);
    if (command === 'score') return await runScore(rest, toolRoot());
    if (command === 'health') return runHealth(rest);
    if (command === 'metrics') return runMetrics(rest);
    if (command === 'runs') return runRuns(rest);
    if (command === 'samples') return await runSamples(rest);
    if (command === 'launch-script') return runLaunchScript(rest, toolRoot());
    if (command === 'pipeline') return runPipeline(rest);
    if (command === 'labels') return runLabels(rest);
    if (command === 'resume') {
      let plan;
      try {
        plan = planResume(rest);
      } catch (err) {
        if (!(err instanceof ResumeError)) throw err;
        process.stderr.write(`error: ${err.message}\n`);
        return 2;
      }
      return await runStage(plan.stage, plan.argv);
    }
    const stage = STAGES[command];
    if (!stage) throw new UsageError(`unknown command "${command}"`);
    return await runStage(stage, rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`fact-rlhf: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
