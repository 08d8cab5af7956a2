// TensorBoard reader (src/runs/readers/tensorboard.ts) vs TensorBoard's own Python loaders on the
// same event file, side by side in one run: a SummaryWriter log of STEPS steps × 20 scalars (written by
// test/fixtures/write_tensorboard.py, the real writer). Figures in M scalars/s.
// Run: node --import tsx bench/readers.bench.ts [STEPS]   (default 20000 → 400k scalars)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { TensorBoardReader } from '../src/runs/readers/tensorboard';
import { venvPython } from '../src/runs/pythonResolver';

const root = join(__dirname, '..');
const steps = Number(process.argv[2] ?? 20000);
const tags = 20;
const dir = mkdtempSync(join(tmpdir(), 'fact-rlhf-readers-bench-'));
const python = venvPython(root);

const w = spawnSync(python, [join(root, 'test', 'fixtures', 'write_tensorboard.py'), dir, String(steps), String(tags)], {
  encoding: 'utf8',
});
if (w.status !== 0) throw new Error(w.stderr);
const sub = join(dir, 'simple');
const file = join(
  sub,
  readdirSync(sub).find((n) => n.includes('tfevents'))!,
);
const scalars = steps * tags;
console.log(`event file: ${(statSync(file).size / 1e6).toFixed(1)} MB, ${steps} steps × ${tags} scalars (SummaryWriter)`);

let best = Infinity;
let read = 0;
for (let i = 0; i < 3; i++) {
  const t0 = process.hrtime.bigint();
  const { events } = new TensorBoardReader(file).readNew();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  read = events.reduce((n, e) => n + (e.type === 'metric' ? Object.keys(e.values).length : 0), 0);
  best = Math.min(best, s);
}
if (read !== scalars) throw new Error(`read ${read} scalars, expected ${scalars}`);
const ours = scalars / 1e6 / best;
console.log(
  `${'ours: TensorBoardReader (CRC-checked)'.padEnd(52)} ${ours.toFixed(3).padStart(7)} M scalars/s  (best of 3: ${best.toFixed(3)} s)`,
);

// TensorBoard's loaders, timed inside Python (import time excluded), best of 3.
const py = `
import sys, time
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
from tensorboard.backend.event_processing import event_accumulator as ea
f, n = sys.argv[1], int(sys.argv[2])
def loader():
    c = 0
    for e in EventFileLoader(f).Load():
        for v in e.summary.value:
            c += 1
    return c
def accumulator():
    a = ea.EventAccumulator(f, size_guidance={ea.SCALARS: 0})
    a.Reload()
    return sum(len(a.Scalars(t)) for t in a.Tags()["scalars"])
# The raw loader checks CRCs in pure Python (no TensorFlow here): one pass is minutes, so it runs once.
for name, fn, reps in (("EventFileLoader (raw events)", loader, 1), ("EventAccumulator.Reload (scalars)", accumulator, 3)):
    best = 1e9
    for _ in range(reps):
        t0 = time.perf_counter(); c = fn(); best = min(best, time.perf_counter() - t0)
    assert c == n, (name, c, n)
    print(f"{name}\\t{n / 1e6 / best:.4f}\\t{best:.3f}\\t{reps}")
`;
const p = spawnSync(python, ['-c', py, file, String(scalars)], { encoding: 'utf8' });
if (p.status !== 0) throw new Error(p.stderr);
for (const line of p.stdout.trim().split('\n')) {
  const [name, rate, secs, reps] = line.split('\t');
  console.log(
    `${`tensorboard: ${name}`.padEnd(52)} ${Number(rate).toFixed(3).padStart(7)} M scalars/s  (best of ${reps}: ${secs} s)  → ours ${(ours / Number(rate)).toFixed(1)}×`,
  );
}
rmSync(dir, { recursive: true, force: true });
