// The experiment form's model: fields from the real schema, values and origins from real configs
// (the editor test's tiny config extends examples/tiny-ppo.rlhf.yaml), diagnostics at their fields.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import experimentSchema from '../../schema/experiment.schema.json';
import { fieldIndex, formDiagnostics, formSections, formValues, groupIds, type SchemaNode } from '../../src/viewModels/experimentForm';

const ROOT = resolve(__dirname, '../..');
const sections = formSections(experimentSchema as SchemaNode);
const fields = fieldIndex(sections);

test('sections and fields come from the schema: types, ranges, enums, docs, defaults, reference values', () => {
  const schema = experimentSchema as SchemaNode;
  const topObjects = Object.entries(schema.properties ?? {})
    .filter(([, n]) => n.properties)
    .map(([k]) => k);
  assert.deepEqual(
    sections.map((s) => s.id),
    ['general', ...topObjects],
  );
  const kl = fields.get('ppo.kl_coef');
  assert.ok(kl);
  const node = schema.properties!.ppo.properties!.kl_coef;
  assert.equal(kl.kind, 'number');
  assert.equal(kl.minimum, node.minimum);
  assert.equal(kl.default, node.default);
  assert.equal(kl.reference, node['x-reference']);
  assert.equal(kl.description, node.description);
  assert.deepEqual(kl.aliases, node['x-aliases']);
  assert.deepEqual(fields.get('model.dtype')?.choices, schema.properties!.model.properties!.dtype.enum);
  assert.equal(fields.get('ppo.rollout_batch_size')?.kind, 'integer');
  assert.equal(fields.get('ppo.whiten')?.kind, 'boolean');
  assert.equal(fields.get('ppo.truncate_at')?.nullable, true);
  assert.equal(fields.get('eval.benchmarks')?.kind, 'list');
  assert.equal(fields.get('model.policy')?.isPath, true);
  // Nested objects are groups of their own section.
  const model = sections.find((s) => s.id === 'model')!;
  assert.deepEqual(
    model.groups.map((g) => g.id),
    ['model', 'model.lora', 'model.tiny'],
  );
  // Every schema leaf is a field, none twice.
  let leaves = 0;
  const walk = (n: SchemaNode): void => {
    for (const c of Object.values(n.properties ?? {})) {
      if (c.properties) walk(c);
      else leaves++;
    }
  };
  walk(schema);
  assert.equal(fields.size, leaves);
});

test('each value says where it comes from: this file (with its line), the extends parent, or the default', () => {
  const file = join(ROOT, 'test', 'editor', 'workspace', 'tiny-ppo.rlhf.yaml');
  const text = readFileSync(file, 'utf8');
  // The runner copies examples/ beside the workspace; here the parent is read where it lies.
  const { values, parseError } = formValues(fields, text, file);
  assert.equal(parseError, undefined);
  const line = text.split('\n').findIndex((l) => l.includes('max_iterations')) + 1;
  assert.deepEqual(values['ppo.max_iterations'], { value: 6, origin: { kind: 'file', line } });
  assert.deepEqual(values['ppo.kl_coef'], {
    value: 0.05,
    origin: { kind: 'parent', file: join(ROOT, 'examples', 'tiny-ppo.rlhf.yaml'), name: 'tiny-ppo.rlhf.yaml' },
  });
  assert.deepEqual(values['ppo.gamma'], { value: 1.0, origin: { kind: 'default' } });
  assert.deepEqual(values['ppo.max_iterations'].origin.kind, 'file');
  assert.deepEqual(values['eval.judge.base_url'], { origin: { kind: 'unset' } });
});

test('unreadable text is reported, not guessed at', () => {
  assert.match(formValues(fields, 'ppo: [1,\n', '/x/a.rlhf.yaml').parseError ?? '', /./);
  assert.match(formValues(fields, '- 1\n', '/x/a.rlhf.yaml').parseError ?? '', /not a mapping/);
});

test('diagnostics land at the field their key path names, or its group, or the top', () => {
  const base = { line: 3, column: 3, endLine: 3, endColumn: 9, severity: 'error' as const, message: 'm', file: '/w/a.rlhf.yaml' };
  const out = formDiagnostics(
    [
      { ...base, code: 'out-of-range', path: ['ppo', 'kl_coef'] },
      { ...base, code: 'unknown-key', path: ['model', 'lora', 'rank'] },
      { ...base, code: 'wrong-type', path: ['model', 'lora', 'target_modules', 2] },
      { ...base, code: 'yaml-syntax' },
      {
        ...base,
        code: 'x',
        path: ['ppo', 'kl_coef'],
        file: '/w/parent.rlhf.yaml',
        fixes: [{ title: 'Fix', file: '/w/parent.rlhf.yaml', edits: [] }],
      },
    ],
    fields,
    groupIds(sections),
    '/w/a.rlhf.yaml',
  );
  assert.deepEqual(
    out.map((d) => [d.field, d.inherited, d.fixes.length]),
    [
      ['ppo.kl_coef', false, 0],
      ['model.lora', false, 0],
      ['model.lora.target_modules', false, 0],
      [undefined, false, 0],
      ['ppo.kl_coef', true, 1],
    ],
  );
});
