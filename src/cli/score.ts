// `fact-rlhf score --rm RM_RUN_OR_EXPORT --samples FILE [--json]`: per sample record the reward
// with its facts and without them, and their difference — onnxruntime-node through the scorer.
// `python -m fact_rlhf score` takes the same arguments and prints the same lines (PyTorch).
import { resolve } from 'node:path';
import { RewardScorer } from '../scoring/rewardScorer';
import { ScoringError } from '../scoring/modelSpec';
import { formatResult, readScoreRecords } from '../scoring/samples';
import { resolvePython } from '../runs/pythonResolver';

export const SCORE_USAGE = `usage: fact-rlhf score --rm RM_RUN_OR_EXPORT --samples FILE [--json] [--batch-size N] [--python PATH]
  --rm          an rm run folder (exported to <run>/onnx on demand) or an export-rm-onnx folder
  --samples     a samples/*.jsonl file of sample records (images relative to its run folder)
  --json        one JSON object per record
`;

interface ScoreArgs {
  rm?: string;
  samples?: string;
  json: boolean;
  batchSize: number;
  python?: string;
}

function parse(argv: string[]): ScoreArgs | string {
  const args: ScoreArgs = { json: false, batchSize: 16 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string | undefined => argv[++i];
    if (a === '--json') args.json = true;
    else if (a === '--rm') args.rm = value();
    else if (a === '--samples') args.samples = value();
    else if (a === '--python') args.python = value();
    else if (a === '--batch-size') args.batchSize = Number(value());
    else return `unknown argument ${a}`;
  }
  if (!args.rm || !args.samples) return 'score needs --rm and --samples';
  if (!Number.isInteger(args.batchSize) || args.batchSize < 1) return '--batch-size must be a positive integer';
  return args;
}

/** Exit codes as the Python reference: 0 scored, 1 the scorer broke, 2 bad arguments, model, samples or image. */
export async function runScore(argv: string[], toolRoot: string): Promise<number> {
  const args = parse(argv);
  if (typeof args === 'string') {
    process.stderr.write(`error: ${args}\n\n${SCORE_USAGE}`);
    return 2;
  }
  const python = resolvePython({ configured: args.python ?? process.env.FACT_RLHF_PYTHON, venvRoots: [process.cwd(), toolRoot] }).path;
  const scorer = new RewardScorer({
    model: resolve(args.rm as string),
    batchSize: args.batchSize,
    python,
    trainerRoot: resolve(toolRoot, 'trainer'),
    log: (line) => process.stderr.write(`[fact-rlhf] ${line}\n`),
    onProgress: (p) => {
      // The trainer's own lines already carry the prefix.
      if (p.phase === 'exporting' || p.phase === 'exported')
        process.stderr.write(`[fact-rlhf] ${p.message.replace(/^\[fact-rlhf\] /, '')}\n`);
    },
  });
  try {
    const records = readScoreRecords(resolve(args.samples as string));
    const started = performance.now();
    const scores = await scorer.scoreRecords(records);
    const lines = records.map((r, i) => formatResult(r, scores[i].withFacts, scores[i].withoutFacts, args.json));
    process.stdout.write(`${lines.join('\n')}\n`);
    const provider = scorer.loaded?.provider === 'cuda' ? 'CUDA' : 'CPU';
    process.stderr.write(
      `[fact-rlhf] scored ${records.length} records with and without facts: onnxruntime-node (${provider}) in ${((performance.now() - started) / 1000).toFixed(2)} s\n`,
    );
    return 0;
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    return err instanceof ScoringError ? 2 : 1;
  } finally {
    await scorer.dispose();
  }
}
