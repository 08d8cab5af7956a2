// `fact-rlhf COMMAND --help`: what each command reads, what it writes and its options. The stage
// texts follow the trainer (trainer/fact_rlhf/*/stage.py, eval/policy.py) and the config schema.

const RUN_OPTIONS = `options:
  --python PATH     Python interpreter (default: $FACT_RLHF_PYTHON, ./.venv, the tool's .venv, python3)
  --run-dir DIR     run folder (default: <config dir>/<output_dir>/<name>-<stage>-<time>)
  --output-dir DIR  folder for run folders (default: the config's output_dir)
  --resume          continue a run from its latest checkpoint (checkpoints/latest): the run in
                    --run-dir, else the newest run of this config and stage that has one
  -h, --help        this help

Before anything starts, the config is checked as \`fact-rlhf validate\` checks it: errors refuse the
run (every problem listed, no run folder made, no trainer started); warnings are printed.`;

const RUN_FOLDER = `  run.json, events.jsonl  the manifest (resolved config, status, pids) and the event stream
                          (metrics, progress, logs, status)`;

function stageHelp(stage: string, summary: string, reads: string, writes: string, extra = ''): string {
  return `usage: fact-rlhf ${stage} CONFIG [options]

${summary}

reads:
${reads}

writes a run folder, <config dir>/<output_dir>/<name>-${stage}-<time>/ unless --run-dir names one:
${RUN_FOLDER}
${writes}
${extra ? `\n${extra}\n` : ''}
${RUN_OPTIONS}
`;
}

const HELP: Record<string, string> = {
  sft: stageHelp(
    'sft',
    'Supervised fine-tuning of the LLaVA model on conversations (loss on the assistant turns only).',
    `  model.policy            the model to fine-tune (a LLaVA folder, or builtin:tiny-llava)
  data.sft                conversations (LLaVA JSON) with data.image_folder, or data.builtin: shapes
  sft.*                   batch sizes, learning rate, epochs, sft.use_lora`,
    `  checkpoints/step-N/     the fine-tuned model; checkpoints/latest names the newest
                          (later stages use it through model.policy: <this run folder>)`,
  ),
  rl_init: stageHelp(
    'rl_init',
    'Initialises the PPO policy: a fresh LoRA trained with the SFT loss on top of the SFT model.',
    `  model.policy            the SFT model (an sft run folder, a LLaVA folder, or builtin:tiny-llava)
  data.sft                conversations (LLaVA JSON), or data.builtin: shapes
  rl_init.*               batch sizes, learning rate, epochs`,
    `  checkpoints/step-N/     the policy LoRA; checkpoints/latest names the newest
                          (a ppo config starts from it through model.policy: <this run folder>)`,
  ),
  rm: stageHelp(
    'rm',
    'Trains the (fact-augmented) reward model: the SFT model + a reward LoRA + a head, on preference pairs.',
    `  model.policy            the SFT model the reward model is built on
  data.preference         preference pairs (LLaVA JSON), with data.facts (image → facts) when
                          reward_model.fact_augmentation is on; or data.builtin: shapes
  reward_model.*          batch sizes, held-out pairs, eval_every`,
    `  checkpoints/step-N/     reward adapter and head; checkpoints/latest names the newest and
  checkpoints/best        the best by held-out accuracy (ppo uses it through model.reward_model)`,
  ),
  ppo: stageHelp(
    'ppo',
    'Fact-RLHF PPO: rollouts on the prompts, rewards from the reward model plus the symbolic, length and\nEOS terms, per-token KL to the reference, GAE, clipped policy and value updates.',
    `  model.policy            the policy start (an rl_init or sft run folder, a LLaVA folder, builtin:tiny-llava)
  model.reward_model      an rm run folder or checkpoint; unset: one is trained first from
                          data.preference for ppo.reward_warmup_steps steps
  data.ppo_prompts        prompts with caption_type (LLaVA JSON), or data.builtin: shapes
  ppo.*                   batch sizes, KL, epochs, iterations`,
    `  samples/                each step's responses with their reward terms
  checkpoints/step-N/     policy, value and reward adapters, optimiser state; checkpoints/latest
                          names the newest (--resume continues from it; eval.checkpoint can name it)`,
  ),
  eval: stageHelp(
    'eval',
    'Evaluates one model on the hallucination benchmarks in eval.benchmarks (shapes, pope, chair, mmhal),\nanswering every prompt greedily. The first line printed says which model and why that one.',
    `  eval.checkpoint         the model to evaluate (see below). Unset: the newest finished policy run with
                          a checkpoint under output_dir — ppo, else rl_init, else sft; with none,
                          model.policy, unless that is builtin:tiny-llava (a randomly initialised
                          model): that is refused unless eval.allow_random: true or --allow-random
  eval.benchmarks         which benchmarks (default: shapes); mmhal reads eval.mmhal_file or data.eval
  eval.max_new_tokens, eval.batch_size, eval.judge (the OpenAI-compatible MMHal-Bench rater)`,
    `  results.json            every score (also one metric event): score, hallucination rate, F1, CHAIR
  responses/<name>.jsonl  each benchmark's answers with their ratings
  <name>_responses.json   MMHal-format sets, with model_answer filled in (for the official scorer)
  world/                  the built-in benchmarks' images and questions`,
    `choosing the checkpoint: --checkpoint PATH for one run, or eval.checkpoint in the config (or in a
small config that \`extends\` it), set to
  - a ppo, sft or rl_init run folder: its latest checkpoint (checkpoints/latest);
  - one checkpoint of a run: <run folder>/checkpoints/step-N;
  - an rm run folder (its best checkpoint, else its latest) or a Hugging Face LLaVA model folder.
In the editor, "Fact-RLHF: Evaluate Checkpoint..." lists the finished runs with checkpoints, newest first.

eval options:
  --checkpoint PATH the model to evaluate, over eval.checkpoint
  --allow-random    evaluate a random builtin: model when nothing trained is found (a smoke test)`,
  ),
  validate: `usage: fact-rlhf validate FILE... [--json]

Checks experiment configs with the language server's engine: the schema, cross-field rules (batch
divisibility, length budget, stage prerequisites), the files they name, following \`extends\`.

reads:
  FILE and the files it extends; the data files and run folders it names (existence, first records)

writes:
  nothing. stdout: one \`file:line:col: severity [code] message\` line per problem, or "no problems";
  with --json one JSON object per problem.

exit status: 0 no errors (warnings allowed), 1 errors, 2 usage error.

options:
  --json            one diagnostic object per line
  -h, --help        this help
`,
  runs: `usage: fact-rlhf runs [DIR] [--json]

Lists runs with their stage, status (\`interrupted\`: the trainer is gone without a final status),
progress, headline figure (schema/metrics.json) and age; health alarms below the table.

reads:
  DIR (default: the current folder): a run folder, a folder of run folders, or a folder whose
  *.rlhf.yaml configs (3 levels deep) name output folders (their output_dir, following \`extends\`)

writes:
  nothing. stdout: a table, or with --json one JSON array of run objects.

options:
  --json            one JSON array
  -h, --help        this help
`,
  samples: `usage: fact-rlhf samples RUN_DIR|FILE [--step N] [--sort KEY] [--asc] [--grep TEXT] [--hallucinated] [--limit K] [--json]

Prints sample records: step, prompt id, caption type, the reward taken apart (— where the source has no
such part), advantage, other named numbers (TRL reward functions, veRL extra fields), the prompt, the
response with its hallucinated spans marked (bold red on a terminal, [[…]] otherwise) and the spans.

reads:
  RUN_DIR or RUN_DIR/samples/   our samples/step-N.jsonl (one record per line, as the trainer writes)
  samples/step-N.jsonl          one step
  rollouts/ or step_N.json      LLaVA-RLHF rollout dumps (rewards → rm)
  DIR or <step>.jsonl           veRL rollout dumps (trainer.rollout_data_dir; score → total)
  completions/ or completions_N.parquet  TRL GRPOTrainer completion tables (reward columns → extra)
  The format is told from what is there. Peers have no prompt ids: the id shown is a hash of the
  prompt text (text:…).

writes:
  nothing. stdout: the records, or with --json one JSON array of records (the inspector's model);
  stderr: the step used when --step is not present (the nearest, the earlier on a tie), corrupt lines.

options:
  --step N          one step (the nearest present); default: every step
  --sort KEY        total, rm, halluc (number of spans) or length (characters): highest first;
                    records without the key last. Default: file order
  --asc             lowest first
  --grep TEXT       records whose prompt, response or facts contain TEXT (any case)
  --hallucinated    records with at least one hallucinated span
  --limit K         at most K records (default 10)
  --json            JSON array of records
  -h, --help        this help

exit status: 0, or 2 on bad input (a path that is not sample files, a bad option).
`,
  resume: `usage: fact-rlhf resume RUN_DIR [--python PATH]

Continues a stopped or interrupted run from its latest checkpoint: the same as
\`fact-rlhf STAGE CONFIG --resume --run-dir RUN_DIR\` with the stage and config read from run.json.

reads:
  RUN_DIR/run.json (stage, config_path), RUN_DIR/checkpoints/latest; refused when the run is live or
  has no checkpoint

writes:
  RUN_DIR: appends to events.jsonl and trainer.log, new checkpoints; run.json records the launch

options:
  --python PATH     Python interpreter
  -h, --help        this help
`,
  pipeline: `usage: fact-rlhf pipeline CONFIG [--json]

The experiment form's pipeline strip: SFT → reward model → rl_init → PPO → eval, each stage with the
state of its newest run of this config (not run, running with progress, finished with its headline
figure, failed with the trainer's error, stopped, interrupted) and how many runs it has.

reads:
  CONFIG and its \`extends\` chain (name, output_dir); the run folders under the output folder named
  for this config (run.json, events.jsonl), including runs started with a derived config of it
  (launch-config.yaml in the run folder, written by "Run from here")

writes:
  nothing. stdout: one line per stage, or with --json one object {configPath, stages: [...]}.

options:
  --json            one JSON object
  -h, --help        this help
`,
  'launch-script': `usage: fact-rlhf launch-script CONFIG --backend torchrun|slurm [--gpus N] [--stage S] [--run-dir DIR] [--python PATH]

Prints the script a multi-GPU launch would run, for review: a torchrun command line for this node, or
an sbatch script (#SBATCH lines, then srun torchrun with c10d rendezvous). Every path and value is
quoted for POSIX sh; nothing from the config or a path is evaluated by the shell.

reads:
  CONFIG and its \`extends\` chain (launch.gpus, launch.nodes, output_dir, name)

writes:
  nothing. stdout: the script (\`sbatch FILE\` or \`sh FILE\` runs it).

options:
  --backend B       torchrun or slurm
  --gpus N          processes (GPUs) per node (default: launch.gpus)
  --stage S         sft, rm, rl_init, ppo (default) or eval
  --run-dir DIR     run folder (default: a new one under the config's output_dir)
  --python PATH     interpreter whose folder goes first on PATH (its torchrun)
  -h, --help        this help
`,
  labels: `usage: fact-rlhf labels export RUN_DIR [--out FILE]

Exports the human labels saved by the sample inspector as files the next reward-model round reads:
preference pairs (two responses to one prompt, the better one named) in the LLaVA-RLHF format of
data.preference, their facts for data.facts, and the hallucinated spans marked by hand.

reads:
  RUN_DIR/labels/preferences.jsonl, RUN_DIR/labels/spans.jsonl (append-only; the last line for a
  record or pair wins; corrupt lines are skipped and reported)

writes (the folder of --out, default RUN_DIR/labels/):
  preferences.json        [{id, image, conversations, output_1, output_2, preference, hallucination,
                          caption_type}]: data.preference of an rm config
  facts.json              pair id → the sample's facts: data.facts
  spans.json              [{key, step, prompt_id, response, spans: [[start, end, label]], source}]
  Images are named relative to the run folder: set data.image_folder to RUN_DIR.
  stdout: where each file went and how many pairs; exit 1 when no pair is labelled (no
  preferences.json written), 2 on bad input.

options:
  --out FILE        where preferences.json goes (FILE's .facts.json and .spans.json go beside it)
  -h, --help        this help
`,
};

/** The help of `command`, or undefined when it has none here (its own handler may answer). */
export function commandHelp(command: string): string | undefined {
  return HELP[command];
}

export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}
