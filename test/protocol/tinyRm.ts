// The scoring tests' shared fixture: a tiny reward model trained by the REAL `rm` stage
// (test/fixtures/tiny-rm-fast.rlhf.yaml) and sample records drawn from that run's own world.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { venvPython } from '../../src/runs/pythonResolver';

export const root = join(__dirname, '..', '..');
export const python = venvPython(root);
export const trainerRoot = join(root, 'trainer');
const env = { ...process.env, PYTHONPATH: trainerRoot, HF_HUB_OFFLINE: '1' };

/** Runs the trainer's Python (`python -m fact_rlhf …`, or `-c`) and asserts it succeeded. */
export function py(args: string[]): { stdout: string; stderr: string } {
  const r = spawnSync(python, args, { env, encoding: 'utf8', cwd: root, maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, `${args.join(' ')} failed:\n${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

/** Trains the tiny RM into `runDir` (about half a minute on a CPU). */
export function trainTinyRm(runDir: string): void {
  py(['-m', 'fact_rlhf', 'rm', '--config', join(root, 'test', 'fixtures', 'tiny-rm-fast.rlhf.yaml'), '--run-dir', runDir]);
}

interface Pair {
  id: string;
  image: string;
  conversations: { from: string; value: string }[];
  caption_type: number;
  output_1: { value: string };
  output_2: { value: string };
}

/** Sample records (schema/sample-record.schema.json) from the run's own world: both answers of the
 *  first `pairs` preference pairs, with the facts the trainer gives the RM for them. Returns the file. */
export function writeSamples(runDir: string, pairs = 32): string {
  const world = join(runDir, 'world');
  const all = JSON.parse(readFileSync(join(world, 'preference.json'), 'utf8')) as Pair[];
  const facts = JSON.parse(readFileSync(join(world, 'facts.json'), 'utf8')) as Record<string, string[]>;
  const zero = { rm: 0, eos_penalty: 0, length: 0, symbolic: 0, kl: 0, total: 0 };
  const lines = all.slice(0, pairs).flatMap((p) =>
    [p.output_1, p.output_2].map((o, k) =>
      JSON.stringify({
        step: 0,
        prompt_id: `${p.id}/${k + 1}`,
        image: `world/images/${p.image}`,
        prompt: p.conversations[0].value.replace('<image>\n', ''),
        response: o.value,
        facts: facts[p.id] ?? facts[p.image] ?? [],
        reward: zero,
        caption_type: p.caption_type,
      }),
    ),
  );
  assert.equal(lines.length, 2 * pairs);
  const file = join(runDir, 'samples', 'step-0.jsonl');
  mkdirSync(join(runDir, 'samples'), { recursive: true });
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}
