// ESLint rule `local/boundaries`: keeps the dependency arrows of DESIGN.md §2 one way. Each import
// (static, `export … from`, dynamic `import()`) is resolved against the importing file, so a rule
// says "src/runs may not reach src/editor" whatever the depth of the `../` chain.
// Options: { forbid?: string[], only?: string[], packages?: 'any' | string[], message?: string }
//   forbid    repo folders/files the file may not import from
//   only      if set, relative imports must resolve inside one of these folders
//   packages  bare imports allowed ('any' by default; [] allows none)
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const inside = (path, folder) => path === folder || path.startsWith(`${folder}/`);

/** Package name of a bare specifier: `@scope/name/sub` → `@scope/name`, `node:fs` → `node:fs`. */
function packageOf(spec) {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'Keep imports between the parts of the repository one way (DESIGN.md §2).' },
    schema: [
      {
        type: 'object',
        properties: {
          forbid: { type: 'array', items: { type: 'string' } },
          only: { type: 'array', items: { type: 'string' } },
          packages: { anyOf: [{ const: 'any' }, { type: 'array', items: { type: 'string' } }] },
          message: { type: 'string' },
        },
        additionalProperties: false,
      },
    ],
  },
  create(context) {
    const { forbid = [], only, packages = 'any', message = 'see DESIGN.md §2' } = context.options[0] ?? {};
    const file = context.physicalFilename ?? context.filename;
    const fromDir = dirname(resolve(ROOT, file));
    const here = relative(ROOT, resolve(ROOT, file)).split(sep).join('/');

    function check(node, spec) {
      if (typeof spec !== 'string') return;
      if (spec.startsWith('.')) {
        const target = relative(ROOT, join(fromDir, spec)).split(sep).join('/');
        const hit = forbid.find((f) => inside(target, f));
        if (hit) return context.report({ node, message: `${here} may not import ${hit}/ ('${spec}'): ${message}` });
        if (only && !only.some((f) => inside(target, f))) {
          context.report({ node, message: `${here} may import only from ${only.join(', ')} ('${spec}' is ${target}): ${message}` });
        }
        return;
      }
      if (packages !== 'any' && !packages.includes(packageOf(spec))) {
        context.report({
          node,
          message: `${here} may not import the package '${packageOf(spec)}'${packages.length ? ` (allowed: ${packages.join(', ')})` : ''}: ${message}`,
        });
      }
    }

    return {
      ImportDeclaration: (node) => check(node.source, node.source.value),
      ExportAllDeclaration: (node) => check(node.source, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node.source, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node.source, node.source.value),
    };
  },
};

export default { rules: { boundaries: rule } };
