// Reward scoring (DESIGN.md §7): onnxruntime-node vs PyTorch CPU eager vs onnxruntime in Python on
// the same export and the same batches (8 × 128 tokens, 64 × 256), measured one after the other in
// one run with the same thread count; and the scorer's worker start + first score.
// Run: node --import tsx bench/scoring.bench.ts [--export DIR] [--threads N]
// Without --export it trains the tiny RM of the protocol tests (test/fixtures/tiny-rm-fast.rlhf.yaml)
// and exports it first (~30 s).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir, cpus } from 'node:os';
import * as ort from 'onnxruntime-node';
import { venvPython } from '../src/runs/pythonResolver';
import { readRmSpec } from '../src/scoring/modelSpec';
import { pixelCount, pixelValues, readImage } from '../src/scoring/image';
import { RewardScorer } from '../src/scoring/rewardScorer';

const root = join(__dirname, '..');
const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const threads = Number(arg('--threads') ?? 1);
const python = venvPython(root);
const env = { ...process.env, PYTHONPATH: join(root, 'trainer'), HF_HUB_OFFLINE: '1' };
const work = mkdtempSync(join(tmpdir(), 'fact-rlhf-scoring-bench-'));

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', cwd: root, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

let exportDir = arg('--export');
if (!exportDir) {
  process.stderr.write('preparing: training the tiny RM and exporting it...\n');
  run(python, [
    '-m',
    'fact_rlhf',
    'rm',
    '--config',
    join(root, 'test', 'fixtures', 'tiny-rm-fast.rlhf.yaml'),
    '--run-dir',
    join(work, 'rm'),
  ]);
  exportDir = join(work, 'onnx');
  run(python, ['-m', 'fact_rlhf', 'export-rm-onnx', '--run-dir', join(work, 'rm'), '--out', exportDir]);
}
const spec = readRmSpec(exportDir);
const rm = JSON.parse(readFileSync(join(exportDir, 'rm.json'), 'utf8')) as { examples: { input_ids: number[]; image: string }[] };
const imageSize = Array.isArray(spec.image.resize) ? spec.image.resize[1] : spec.image.resize.height;

/** Rows of exactly `length` real token ids: BOS, the image tokens, then the example's text ids cycled. */
function makeBatch(name: string, rows: number, length: number) {
  const { image_token_id: img, image_tokens: nImg, bos_id: bos } = spec.encoding;
  const ids: number[][] = [];
  const px = new Float32Array(rows * pixelCount(spec.image, 'rm.json'));
  for (let r = 0; r < rows; r++) {
    const ex = rm.examples[r % rm.examples.length];
    const text = ex.input_ids.filter((t) => t !== img && t !== bos);
    const row = [bos ?? text[0], ...Array<number>(nImg).fill(img)];
    for (let k = r; row.length < length; k++) row.push(text[k % text.length]);
    ids.push(row);
    pixelValues(readImage(join(exportDir as string, ex.image)), spec.image, 'rm.json', px, r * pixelCount(spec.image, 'rm.json'));
  }
  const pixels = join(work, `${name}.f32`);
  writeFileSync(pixels, Buffer.from(px.buffer));
  return { name, rows, length, ids, px, pixels, image: imageSize };
}

const batches = [makeBatch('8x128', 8, 128), makeBatch('64x256', 64, 256)];
writeFileSync(join(work, 'batches.json'), JSON.stringify(batches.map(({ name, ids, pixels, image }) => ({ name, ids, pixels, image }))));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function timed(fn: () => Promise<unknown>, minMs = 1000, minRuns = 5): Promise<number[]> {
  for (let i = 0; i < 3; i++) await fn();
  const runs: number[] = [];
  const start = performance.now();
  while (runs.length < minRuns || performance.now() - start < minMs) {
    const t0 = performance.now();
    await fn();
    runs.push(performance.now() - t0);
  }
  return runs;
}

async function main(): Promise<void> {
  // 1. onnxruntime-node, the same session settings as Python's.
  const session = await ort.InferenceSession.create(join(exportDir as string, spec.model), {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
  });
  const node: Record<string, { ms: number; scores: number[] }> = {};
  for (const b of batches) {
    const flat = BigInt64Array.from(b.ids.flat().map(BigInt));
    const feeds = {
      input_ids: new ort.Tensor('int64', flat, [b.rows, b.length]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(flat.length).fill(1n), [b.rows, b.length]),
      pixel_values: new ort.Tensor('float32', b.px, [b.rows, 3, imageSize, imageSize]),
    };
    const runs = await timed(() => session.run(feeds));
    const out = await session.run(feeds);
    node[b.name] = { ms: median(runs), scores: Array.from(out.score.data as Float32Array) };
  }
  await session.release();

  // 2. The scorer as the editor and CLI use it: worker start + model load + first score (bundled worker).
  let workerPath = join(root, 'dist', 'scoring-worker.js');
  if (!existsSync(workerPath)) run(process.execPath, [join(root, 'scripts', 'build.mjs'), '--only=scoring']);
  if (!existsSync(workerPath)) workerPath = join(root, 'src', 'scoring', 'worker.ts');
  const record = {
    prompt: 'What is in the image?',
    response: 'A picture of shapes.',
    facts: ['A red circle.'],
    image: join(exportDir as string, rm.examples[0].image),
  };
  const firsts: number[] = [];
  let provider = '';
  for (let i = 0; i < 5; i++) {
    const scorer = new RewardScorer({ model: exportDir as string, workerPath, log: (l) => (provider = l) });
    const t0 = performance.now();
    await scorer.scoreRecords([record]);
    firsts.push(performance.now() - t0);
    await scorer.dispose();
  }

  // 3. Python: PyTorch eager and onnxruntime, same batches, same threads.
  const py = JSON.parse(
    run(python, [
      join(root, 'bench', 'scoring_reference.py'),
      '--export',
      exportDir as string,
      '--batches',
      join(work, 'batches.json'),
      '--threads',
      String(threads),
    ]),
  ) as {
    torch: string;
    onnxruntime: string;
    batches: Record<string, { pytorch_eager_ms: number; onnxruntime_python_ms: number; scores_eager: number[]; scores_ort: number[] }>;
  };

  console.log(
    `reward scoring, ${threads} thread(s), ${cpus().length} cores (${cpus()[0]?.model ?? '?'}); onnxruntime-node ${ort.env.versions.node}, onnxruntime ${py.onnxruntime}, torch ${py.torch}`,
  );
  console.log('| batch | onnxruntime-node | onnxruntime (Python) | PyTorch eager (CPU) | Node vs eager | max |Node − eager| |');
  console.log('|---|---|---|---|---|---|');
  for (const b of batches) {
    const p = py.batches[b.name];
    const diff = Math.max(...node[b.name].scores.map((s, i) => Math.abs(s - p.scores_eager[i])));
    console.log(
      `| ${b.rows} × ${b.length} tokens | ${node[b.name].ms.toFixed(2)} ms | ${p.onnxruntime_python_ms.toFixed(2)} ms | ${p.pytorch_eager_ms.toFixed(2)} ms | ${(p.pytorch_eager_ms / node[b.name].ms).toFixed(2)}× | ${diff.toExponential(1)} |`,
    );
  }
  console.log(
    `worker start + model load + first score (1 record, with and without facts), 5 cold starts: median ${median(firsts).toFixed(0)} ms, all [${firsts.map((f) => f.toFixed(0)).join(', ')}] ms`,
  );
  console.log(`  ${provider}`);
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => rmSync(work, { recursive: true, force: true }));
