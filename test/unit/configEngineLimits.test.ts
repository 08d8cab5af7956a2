// The config engine against hostile sizes and shapes (issue 16): time linear in the number of keys,
// a cap on diagnostics per document, duplicate keys past the fast parser's reach, nesting deeper
// than any parser should recurse. Time bounds are generous for a loaded 2-core machine: each case
// took 10-60 s before the fix and well under a second after.
import test from 'node:test';
import assert from 'node:assert/strict';
import { analyze, validateText } from '../../language-server/src/engine/index';
import { MAX_DIAGNOSTICS } from '../../language-server/src/engine/analyze';
import { MAX_NESTING, nestingExcess } from '../../language-server/src/engine/nesting';

const FILE = '/nonexistent/exp.rlhf.yaml';
// Time bounds: the validator is compiled before the clock starts; 5 s where the old code took 30-60 s.
const BOUND_MS = 5000;
validateText('data:\n  builtin: shapes\n', FILE);

function timed<T>(fn: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = fn();
  return { value, ms: performance.now() - t0 };
}

test('25,000 unknown keys: linear time, at most MAX_DIAGNOSTICS shown and one note counting the rest', () => {
  let text = 'ppo:\n';
  for (let i = 0; i < 25_000; i++) text += `  unknown_key_${i}: 1\n`;
  const { value: diags, ms } = timed(() => validateText(text, FILE));
  assert.ok(ms < BOUND_MS, `took ${ms.toFixed(0)} ms`);
  assert.equal(diags.length, MAX_DIAGNOSTICS + 1);
  const shown = diags.filter((d) => d.code === 'unknown-key').length;
  assert.ok(shown > MAX_DIAGNOSTICS - 10, `${shown} unknown keys shown`); // the few others come first
  const note = diags[diags.length - 1];
  assert.equal(note.code, 'too-many-problems');
  assert.equal(note.severity, 'information');
  // Every problem is either shown or counted.
  assert.match(note.message, new RegExp(`^${25_000 - shown} more problems not shown`));
  // The first ones in document order are the ones kept.
  const firstUnknown = diags.find((d) => d.code === 'unknown-key');
  assert.equal(firstUnknown?.line, 2);
  assert.match(firstUnknown?.message ?? '', /unknown_key_0`/);
});

test('a document under the cap is not touched by it', () => {
  let text = 'data:\n  builtin: shapes\n';
  for (let i = 0; i < 50; i++) text += `k${i}: 1\n`;
  const diags = validateText(text, FILE);
  assert.equal(diags.filter((d) => d.code === 'unknown-key').length, 50);
  assert.ok(!diags.some((d) => d.code === 'too-many-problems'));
});

test('duplicate keys in a document past the fast parser (40,000 keys, full parser): found in linear time', () => {
  let text = "note: 'it''s'\n"; // a '' escape sends the document to the full parser
  for (let i = 0; i < 40_000; i++) text += `k${i}: 1\n`;
  text += 'k7: 2\n';
  const { value: a, ms } = timed(() => analyze(text, FILE));
  assert.ok(ms < BOUND_MS, `took ${ms.toFixed(0)} ms`);
  assert.equal(a.file.parser, 'yaml');
  const dups = a.diagnostics.filter((d) => d.code === 'yaml-syntax' && /unique/.test(d.message));
  assert.equal(dups.length, 1);
  assert.equal(dups[0].line, 40_002);
  assert.equal(a.file.hasErrors, true);
});

test('duplicate keys are reported where the yaml package reports them: nested, in flow maps and lists', () => {
  const text = 'a: [x, {q: 1, q: 2}]\nb:\n  c: 1\n  c: 2\n- 1\n';
  const lines = analyze('a: [x, {q: 1, q: 2}]\nb:\n  c: 1\n  c: 2\n', FILE)
    .diagnostics.filter((d) => /unique/.test(d.message))
    .map((d) => `${d.line}:${d.column}`);
  assert.deepEqual(lines, ['1:15', '4:3']);
  assert.ok(analyze(text, FILE).file.hasErrors);
  // Different types are different keys, as in the yaml package: 1 and '1'.
  assert.deepEqual(
    analyze("1: x\n'1': y\n", FILE).diagnostics.filter((d) => /unique/.test(d.message)),
    [],
  );
});

test('a 10 MB list is read in seconds, not tens of seconds', () => {
  const text = `data:\n  builtin: shapes\nlist:\n${'  - 12345\n'.repeat(1_000_000)}`;
  const { value: diags, ms } = timed(() => validateText(text, FILE));
  assert.ok(ms < 8000, `took ${ms.toFixed(0)} ms`);
  assert.deepEqual(
    diags.map((d) => d.code),
    ['unknown-key'],
  );
});

test('50,000 unclosed brackets and other deep nesting: one clear diagnostic at the depth limit, fast', () => {
  const cases: Record<string, string> = {
    'unclosed flow sequences': '['.repeat(50_000),
    'flow maps': 'a: ' + '{a: '.repeat(50_000),
    'one per line': '[\n'.repeat(50_000),
    'block maps': Array.from({ length: 3000 }, (_, i) => `${' '.repeat(i)}k:`).join('\n'),
    dashes: `${'- '.repeat(5000)}x`,
    'closed brackets': `x: ${'['.repeat(20_000)}${']'.repeat(20_000)}`,
  };
  for (const [name, text] of Object.entries(cases)) {
    const { value: diags, ms } = timed(() => validateText(text, FILE));
    assert.ok(ms < 2000, `${name}: took ${ms.toFixed(0)} ms`);
    assert.equal(diags.length, 1, `${name}: ${diags.map((d) => d.message).join('; ')}`);
    assert.equal(diags[0].code, 'too-deep', name);
    assert.match(diags[0].message, new RegExp(`more than ${MAX_NESTING} levels`));
    assert.doesNotMatch(diags[0].message, /call stack/);
  }
});

test('nesting count: ordinary configs are far from the limit; brackets in quotes and comments do not count', () => {
  assert.equal(nestingExcess('a:\n  b:\n    - [1, {c: [2]}]\n'), -1);
  assert.equal(nestingExcess(`a: "${'['.repeat(500)}"\nb: '${'{'.repeat(500)}'\n# ${'['.repeat(500)}\n`), -1);
  assert.equal(nestingExcess(`a: |\n${Array.from({ length: 300 }, (_, i) => `  ${' '.repeat(i)}x`).join('\n')}\nb: 1\n`), -1);
  // The line's own level and 99 brackets make 100; the 100th bracket goes past.
  assert.equal(nestingExcess('['.repeat(200), 100), 99);
  // Just under the limit still parses and validates as usual.
  const ok = validateText(`x: ${'['.repeat(MAX_NESTING - 2)}${']'.repeat(MAX_NESTING - 2)}\ndata:\n  builtin: shapes\n`, FILE);
  assert.deepEqual(
    ok.map((d) => d.code),
    ['unknown-key'],
  );
});
