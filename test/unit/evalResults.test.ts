// An eval run's results.json as the Markdown table the editor shows: what was evaluated, the
// MMHal-style score and hallucination rate, per-type scores, POPE per split, CHAIR.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatEvalResults, readEvalResults } from '../../src/runs/evalResults';

test('results.json becomes a table headed by the evaluated checkpoint', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fact-rlhf-eval-results-'));
  try {
    assert.equal(readEvalResults(dir), undefined, 'no results.json: nothing to show');
    fs.writeFileSync(
      path.join(dir, 'run.json'),
      JSON.stringify({
        id: 'e-eval-1',
        stage: 'eval',
        config: { eval: { checkpoint: '/runs/p-ppo-1' }, model: { policy: 'builtin:tiny-llava' } },
        config_path: null,
        config_hash: 'h',
        host: 'test',
        pids: [],
        world_size: 1,
        started: 1,
        status: 'finished',
        protocol_version: 1,
      }),
    );
    fs.writeFileSync(
      path.join(dir, 'results.json'),
      JSON.stringify({
        shapes: {
          count: 16,
          score: 2.5,
          hallucination_rate: 0.4375,
          per_type: { counting: 1.5, attribute: null },
          per_type_count: { counting: 2, attribute: 0 },
          mean_response_length: 7.25,
        },
        pope: {
          f1: 0.6667,
          accuracy: 0.5,
          precision: 0.5,
          recall: 1,
          yes_ratio: 1,
          adversarial: { f1: 0.6, accuracy: 0.4, precision: 0.4, recall: 1, yes_ratio: 1 },
        },
        chair: { chair_i: 0.125, chair_s: 0.25 },
      }),
    );
    const md = formatEvalResults(dir, readEvalResults(dir)!);
    assert.match(md, /^# Evaluation e-eval-1\n\nModel: `\/runs\/p-ppo-1`/);
    assert.match(
      md,
      /\| MMHal score \(0–6\) \| Hallucination rate \| Questions \|\n\| --- \| ---: \| ---: \|\n\| 2\.50 \| 43\.8 % \| 16 \|/,
    );
    assert.match(md, /\| counting \| 1\.50 \| 2 \|\n\| attribute \| – \| 0 \|/);
    assert.match(md, /\| all \| 0\.667 \| 0\.500 \| 0\.500 \| 1\.000 \| 100\.0 % \|\n\| adversarial \| 0\.600 /);
    assert.match(md, /\| 0\.125 \| 0\.250 \|/);
    assert.match(md, /Mean response length: 7\.3 tokens/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
