// The conformance corpus (schema/conformance/): rules that are code on both sides must give the
// same answers. The language-server engine runs on every case (not over LSP) and must report
// exactly the expected diagnostics and derived figures; the trainer's pytest suite checks the
// same files against the trainer.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { analyze, createNodeHost, inlayHints } from '../../language-server/src/engine';
import type { Analysis } from '../../language-server/src/engine';
import { locate } from '../../language-server/src/engine/yamlFile';
import { runFolderPrefix } from '../../src/runs/runNaming';
import Ajv from 'ajv';
import expectedSchema from '../../schema/conformance-expected.schema.json';

const DIR = resolve(__dirname, '../../schema/conformance');
const CASE = /^\d\d-[a-z0-9-]+\.rlhf\.yaml$/;
const validateExpected = new Ajv({ allErrors: true }).compile(expectedSchema);

interface ExpectedDiagnostic {
  code: string;
  path: string;
  severity: 'error' | 'warning';
  trainer: boolean;
  file?: string;
}

interface Expected {
  description: string;
  diagnostics: ExpectedDiagnostic[];
  derived: Record<string, unknown>;
}

const cases = readdirSync(DIR)
  .filter((f) => CASE.test(f))
  .sort();

/** The expected file, checked against the corpus format so a typo fails here, not silently. */
function readExpected(name: string): Expected {
  const file = join(DIR, name.replace(/\.rlhf\.yaml$/, '.expected.json'));
  assert.ok(existsSync(file), `${name}: no ${relative(DIR, file)} beside it`);
  const e = JSON.parse(readFileSync(file, 'utf8')) as Expected;
  assert.ok(
    validateExpected(e),
    `${name}: not in the corpus format (schema/conformance-expected.schema.json): ${JSON.stringify(validateExpected.errors)}`,
  );
  return e;
}

/** `severity code path [file]`: what the engine reports, in the expected file's terms. */
function engineDiagnostics(a: Analysis, caseFile: string): string[] {
  const files = a.chain?.files ?? [a.file];
  return a.diagnostics
    .filter((d) => d.severity === 'error' || d.severity === 'warning')
    .map((d) => {
      const pf = files.find((f) => f.path === d.file);
      const at = pf ? locate(pf, d.start) : undefined;
      return line({
        code: d.code,
        path: at ? at.path.join('.') : '',
        severity: d.severity as 'error' | 'warning',
        file: d.file === caseFile ? undefined : relative(DIR, d.file),
      });
    })
    .sort();
}

function line(d: Omit<ExpectedDiagnostic, 'trainer'>): string {
  return `${d.severity} ${d.code} ${d.path}${d.file ? ` (in ${d.file})` : ''}`;
}

/** The derived figures the corpus names, as the engine (and the run machinery) computes them. */
function engineDerived(a: Analysis, caseFile: string): Record<string, unknown> {
  const d = a.derived;
  assert.ok(d, 'the engine derived no figures');
  const ga: Record<string, number> = {};
  for (const { pair, split } of d.batches) if (split?.perDeviceSteps !== undefined) ga[pair.name] = split.perDeviceSteps;
  return {
    world_size: d.world,
    ppo_optimiser_steps_per_iteration: d.optimiserStepsPerIteration,
    ppo_iterations: d.totalIterations,
    grad_accumulation: ga,
    run_folder_prefix: runFolderPrefix(caseFile, 'ppo'),
  };
}

test('the conformance corpus has at least 12 cases, each with its expected file, and no orphan expectations', () => {
  assert.ok(cases.length >= 12, `only ${cases.length} cases`);
  const expected = readdirSync(DIR).filter((f) => f.endsWith('.expected.json'));
  const orphans = expected.filter((f) => !cases.includes(f.replace(/\.expected\.json$/, '.rlhf.yaml')));
  assert.deepEqual(orphans, [], 'expected files without a case config');
  const misnamed = readdirSync(DIR).filter((f) => f.endsWith('.rlhf.yaml') && !CASE.test(f) && !f.startsWith('_'));
  assert.deepEqual(misnamed, [], 'configs that are neither NN-name cases nor _shared parents');
  assert.ok(
    cases.some((c) => c.startsWith('02-iterations')),
    'the drifted iterations case is in the corpus',
  );
});

for (const name of cases) {
  test(`conformance ${name}`, () => {
    const expected = readExpected(name);
    const file = join(DIR, name);
    const a = analyze(readFileSync(file, 'utf8'), file, createNodeHost({ env: {} }));
    const got = engineDiagnostics(a, file);
    const want = expected.diagnostics.map(line).sort();
    const missing = want.filter((w, i) => want.indexOf(w) === i && want.filter((x) => x === w).length > got.filter((x) => x === w).length);
    const unexpected = got.filter((g, i) => got.indexOf(g) === i && got.filter((x) => x === g).length > want.filter((x) => x === g).length);
    assert.deepEqual(
      got,
      want,
      `${name}: diagnostics differ\n  missing:    ${missing.join('; ') || '-'}\n  unexpected: ${unexpected.join('; ') || '-'}\n  messages:   ${a.diagnostics.map((d) => `[${d.code}] ${d.message}`).join('\n              ')}`,
    );
    const derived = engineDerived(a, file);
    for (const [key, value] of Object.entries(expected.derived)) {
      const actual =
        key === 'grad_accumulation'
          ? Object.fromEntries(Object.keys(value as object).map((k) => [k, (derived.grad_accumulation as Record<string, number>)[k]]))
          : derived[key];
      assert.deepEqual(actual, value, `${name}: derived ${key} is ${JSON.stringify(actual)}, expected ${JSON.stringify(value)}`);
    }
  });
}

test("the editor's inlay hint shows the iterations the trainer runs (2 prompts, rollout 4, 1 epoch: 1, not 0)", () => {
  const file = join(DIR, cases.find((c) => c.startsWith('02-iterations')) ?? '');
  const hints = inlayHints(analyze(readFileSync(file, 'utf8'), file, createNodeHost({ env: {} }))).map((h) => h.label);
  assert.ok(hints.includes('→ 0.5/epoch, 1 iterations'), hints.join(' | '));
});
