// editField: the experiment form's minimal edits. Each case checks the new text parses to the
// intended value AND that every line outside the edited one is byte for byte what it was.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { applyChanges, ConfigEditError, editField, formatScalar, type FieldValue } from '../../src/viewModels/configEdit';

const ROOT = resolve(__dirname, '../..');

function getIn(value: unknown, path: readonly string[]): unknown {
  let node = value;
  for (const key of path) node = (node as Record<string, unknown> | undefined)?.[key];
  return node;
}

/** Applies the edit and returns the new text; asserts the value landed and the rest is untouched. */
function check(text: string, path: string[], value: FieldValue | undefined, changedLines: number): string {
  const changes = editField(text, path, value);
  const out = applyChanges(text, changes);
  assert.deepEqual(getIn(parse(out), path), value, `${path.join('.')} reads back`);
  const before = text.split('\n');
  const after = out.split('\n');
  // The lines before the first difference and after the last one are identical, and the
  // difference spans at most `changedLines` lines on either side.
  let head = 0;
  while (head < before.length && head < after.length && before[head] === after[head]) head++;
  let tail = 0;
  while (tail < before.length - head && tail < after.length - head && before[before.length - 1 - tail] === after[after.length - 1 - tail])
    tail++;
  const spanBefore = before.length - head - tail;
  const spanAfter = after.length - head - tail;
  assert.ok(
    Math.max(spanBefore, spanAfter) <= changedLines,
    `changed ${spanBefore} → ${spanAfter} lines, expected at most ${changedLines}:\n${out}`,
  );
  return out;
}

test('a value is replaced in place: comment, spacing and every other line kept', () => {
  const text = '# header\nppo:\n    kl_coef: 0.05   # beta, the KL weight\n    gamma: 1.0\n';
  const out = check(text, ['ppo', 'kl_coef'], 0.2, 1);
  assert.equal(out, '# header\nppo:\n    kl_coef: 0.2   # beta, the KL weight\n    gamma: 1.0\n');
});

test('setting the value the file already has changes nothing', () => {
  assert.deepEqual(editField('ppo:\n  kl_coef: 0.05\n', ['ppo', 'kl_coef'], 0.05), []);
});

test('quoted strings keep their quote style', () => {
  const text = 'model:\n  policy: \'liuhaotian/llava-v1.5-7b\'  # hub id\n  dtype: "bf16"\n';
  assert.equal(check(text, ['model', 'policy'], 'org/other-13b', 1), 'model:\n  policy: \'org/other-13b\'  # hub id\n  dtype: "bf16"\n');
  assert.equal(check(text, ['model', 'dtype'], 'fp16', 1), 'model:\n  policy: \'liuhaotian/llava-v1.5-7b\'  # hub id\n  dtype: "fp16"\n');
});

test('strings either reader would take for something else are quoted', () => {
  for (const s of ['true', 'null', '1.5', '2024-01-01', '010', 'a: b', '#x', 'yes', '0o17', '']) {
    const out = check('name: x\n', ['name'], s, 1);
    assert.ok(/^name: ["']/.test(out), `${JSON.stringify(s)} → ${out}`);
  }
  assert.equal(formatScalar('tiny-ppo'), 'tiny-ppo');
  assert.equal(formatScalar(1e-7), '1e-7');
  assert.equal(formatScalar(false), 'false');
});

test('a missing key is one new line at the end of its section, in the section indentation', () => {
  const text = 'ppo:\n   rollout_batch_size: 16   # odd indent\n   save_every: 6\nlaunch:\n   device: cpu\n';
  const out = check(text, ['ppo', 'kl_coef'], 0.1, 1);
  assert.equal(out, 'ppo:\n   rollout_batch_size: 16   # odd indent\n   save_every: 6\n   kl_coef: 0.1\nlaunch:\n   device: cpu\n');
});

test('a missing section is created at the end, in the file indentation unit', () => {
  const text = 'version: 1\nmodel:\n    policy: builtin:tiny-llava\n# trailing comment\n';
  const out = check(text, ['ppo', 'kl_coef'], 0.3, 2);
  assert.equal(out, 'version: 1\nmodel:\n    policy: builtin:tiny-llava\n# trailing comment\nppo:\n    kl_coef: 0.3\n');
  // No final newline: still one new line each, the last line untouched.
  assert.equal(check('version: 1', ['seed'], 3, 1), 'version: 1\nseed: 3');
});

test('a missing nested section goes under its parent', () => {
  const text = 'model:\n  policy: builtin:tiny-llava\n  max_length: 512\nppo:\n  kl_coef: 0.1\n';
  const out = check(text, ['model', 'lora', 'r'], 16, 2);
  assert.equal(out, 'model:\n  policy: builtin:tiny-llava\n  max_length: 512\n  lora:\n    r: 16\nppo:\n  kl_coef: 0.1\n');
});

test('flow maps are edited inside their braces', () => {
  const text = 'model:\n  lora: { r: 8, alpha: 16, dropout: 0.0 }  # small\n  max_length: 512\n';
  assert.equal(
    check(text, ['model', 'lora', 'alpha'], 32, 1),
    'model:\n  lora: { r: 8, alpha: 32, dropout: 0.0 }  # small\n  max_length: 512\n',
  );
  assert.equal(
    check(text, ['model', 'lora', 'target_modules'], ['q_proj', 'v_proj'], 1),
    'model:\n  lora: { r: 8, alpha: 16, dropout: 0.0, target_modules: [q_proj, v_proj] }  # small\n  max_length: 512\n',
  );
  assert.equal(
    check(text, ['model', 'lora', 'alpha'], undefined, 1),
    'model:\n  lora: { r: 8, dropout: 0.0 }  # small\n  max_length: 512\n',
  );
  assert.equal(
    check(text, ['model', 'lora', 'dropout'], undefined, 1),
    'model:\n  lora: { r: 8, alpha: 16 }  # small\n  max_length: 512\n',
  );
});

test('reset deletes the key line and keeps the comments around it', () => {
  const text = 'ppo:\n  # the KL weight\n  kl_coef: 0.05  # beta\n  gamma: 1.0\n';
  assert.equal(check(text, ['ppo', 'kl_coef'], undefined, 1), 'ppo:\n  # the KL weight\n  gamma: 1.0\n');
  assert.deepEqual(editField(text, ['ppo', 'lam'], undefined), [], 'a key the file does not set: nothing to delete');
});

test('resetting a section only key removes the section', () => {
  const text = 'version: 1\nppo:\n  kl_coef: 0.05\nlaunch:\n  device: cpu\n';
  assert.equal(check(text, ['ppo', 'kl_coef'], undefined, 2), 'version: 1\nlaunch:\n  device: cpu\n');
});

test('an empty section gets its first key; CRLF files stay CRLF', () => {
  assert.equal(check('ppo:\nseed: 1\n', ['ppo', 'kl_coef'], 0.1, 2), 'ppo:\n  kl_coef: 0.1\nseed: 1\n');
  const crlf = 'version: 1\r\nppo:\r\n  gamma: 1.0\r\n';
  const out = applyChanges(crlf, editField(crlf, ['ppo', 'lam'], 0.95));
  assert.equal(out, 'version: 1\r\nppo:\r\n  gamma: 1.0\r\n  lam: 0.95\r\n');
});

test('an empty file gets the section and key', () => {
  assert.equal(check('', ['ppo', 'kl_coef'], 0.1, 3), 'ppo:\n  kl_coef: 0.1\n');
  assert.equal(check('# only a comment\n', ['seed'], 4, 1), '# only a comment\nseed: 4\n');
});

test('a file with YAML errors or a scalar section is refused with the reason', () => {
  assert.throws(() => editField('ppo: [1,\n', ['ppo', 'kl_coef'], 1), ConfigEditError);
  assert.throws(() => editField('ppo: 3\n', ['ppo', 'kl_coef'], 1), /ppo is not a mapping/);
});

test('every leaf of the 13B recipe can be changed touching only its own line', () => {
  const text = readFileSync(join(ROOT, 'examples', 'llava-rlhf-13b.rlhf.yaml'), 'utf8');
  const value = parse(text) as Record<string, unknown>;
  let count = 0;
  const walk = (node: unknown, path: string[]): void => {
    if (node && typeof node === 'object' && !Array.isArray(node)) {
      for (const [k, v] of Object.entries(node)) walk(v, [...path, k]);
      return;
    }
    const next: FieldValue =
      typeof node === 'number' ? node + 1 : typeof node === 'boolean' ? !node : typeof node === 'string' ? `${node}-x` : ['a'];
    check(text, path, next, 1);
    count++;
  };
  walk(value, []);
  assert.ok(count > 40, `${count} leaves`);
});

test('block values (a `- item` list, a | or > scalar) become one line after the colon; the next key and a key-line comment stay', () => {
  const list = check('a:\n  l:\n    - 1\n    - 2\n  t: 1\n', ['a', 'l'], [3, 4], 3);
  assert.equal(list, 'a:\n  l: [3, 4]\n  t: 1\n');
  assert.equal(getIn(parse(list), ['a', 't']), 1, 'the next key is not swallowed');
  assert.equal(check('a:\n  l:\n    - 1\n  t: 1\n', ['a', 'l'], 'x', 2), 'a:\n  l: x\n  t: 1\n');
  assert.equal(check('s: |\n    line1\n    line2\nt: 1\n', ['s'], 'hi', 3), 's: hi\nt: 1\n');
  assert.equal(check('s: > # folded\n    line1\nt: 1\n', ['s'], 'hi', 2), 's: hi # folded\nt: 1\n');
  assert.equal(check('a:\n  l: # the modules\n    - q\n  t: 1\n', ['a', 'l'], ['k'], 2), 'a:\n  l: [k] # the modules\n  t: 1\n');
  assert.equal(
    applyChanges('a:\r\n  l:\r\n    - 1\r\n  t: 1\r\n', editField('a:\r\n  l:\r\n    - 1\r\n  t: 1\r\n', ['a', 'l'], [2])),
    'a:\r\n  l: [2]\r\n  t: 1\r\n',
  );
});

test('flow-list items with flow indicators are quoted; a multi-line string stays on its line', () => {
  check('l: [q_proj]\n', ['l'], ['v]proj', 'c,d', 'x}', 'a #b'], 1);
  assert.equal(check('s: x\nt: 1\n', ['s'], 'l1\nl2', 1), 's: "l1\\nl2"\nt: 1\n');
});
