// No import circle of more than 3 files in the TypeScript parts (issue 9). The graph comes from the
// TypeScript compiler itself: ts.preProcessFile lists each file's imports (static, `export … from`,
// dynamic `import()`, type-only ones too) and ts.resolveModuleName resolves them with the
// repository's compiler options; Tarjan's algorithm finds the strongly connected components.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, type Dirent } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';

const ROOT = resolve(__dirname, '..', '..');
const PARTS = ['src', 'language-server', 'webview', 'test'];
const MAX_CYCLE = 3;

function compilerOptions(root: string): ts.CompilerOptions {
  const file = join(root, 'tsconfig.json');
  const read = ts.readConfigFile(file, (p) => ts.sys.readFile(p));
  if (read.error) throw new Error(ts.flattenDiagnosticMessageText(read.error.messageText, '\n'));
  return ts.parseJsonConfigFileContent(read.config, ts.sys, root).options;
}

function tsFiles(dir: string, out: string[] = []): string[] {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e.name === 'node_modules' || e.name === 'dist' || e.name.startsWith('.')) continue;
    const path = join(dir, e.name);
    if (e.isDirectory()) tsFiles(path, out);
    else if (e.name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** File → the repository files it imports. */
function importGraph(files: string[], options: ts.CompilerOptions): Map<string, string[]> {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = new Set<string>();
    for (const imported of info.importedFiles) {
      const resolved = ts.resolveModuleName(imported.fileName, file, options, ts.sys).resolvedModule;
      if (resolved && !resolved.isExternalLibraryImport && known.has(resolve(resolved.resolvedFileName)))
        targets.add(resolve(resolved.resolvedFileName));
    }
    graph.set(file, [...targets]);
  }
  return graph;
}

/** Tarjan's strongly connected components (iterative: no recursion limit on deep chains). */
function stronglyConnected(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work: { node: string; edge: number }[] = [{ node: start, edge: 0 }];
    index.set(start, next);
    low.set(start, next++);
    stack.push(start);
    onStack.add(start);
    while (work.length) {
      const frame = work[work.length - 1];
      const edges = graph.get(frame.node) ?? [];
      if (frame.edge < edges.length) {
        const to = edges[frame.edge++];
        if (!index.has(to)) {
          index.set(to, next);
          low.set(to, next++);
          stack.push(to);
          onStack.add(to);
          work.push({ node: to, edge: 0 });
        } else if (onStack.has(to)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(to)!));
        }
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1].node;
        low.set(parent, Math.min(low.get(parent)!, low.get(frame.node)!));
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let n: string;
        do {
          n = stack.pop()!;
          onStack.delete(n);
          component.push(n);
        } while (n !== frame.node);
        components.push(component);
      }
    }
  }
  return components;
}

/** The components over the limit, largest first, as readable text. */
function oversized(components: string[][], root: string): string[] {
  return components
    .filter((c) => c.length > MAX_CYCLE)
    .sort((a, b) => b.length - a.length)
    .map(
      (c) =>
        `${c.length} files import each other: ${c
          .map((f) => relative(root, f))
          .sort()
          .join(', ')}`,
    );
}

test(`no import circle of more than ${MAX_CYCLE} files in ${PARTS.join(', ')}`, (t) => {
  const files = PARTS.flatMap((p) => tsFiles(join(ROOT, p)));
  assert.ok(files.length > 50, `found only ${files.length} .ts files`);
  const graph = importGraph(files, compilerOptions(ROOT));
  const edges = [...graph.values()].reduce((n, e) => n + e.length, 0);
  assert.ok(edges > files.length / 2, `only ${edges} resolved imports among ${files.length} files: resolution is broken`);
  const components = stronglyConnected(graph);
  const largest = Math.max(...components.map((c) => c.length));
  const line = `import graph: ${files.length} files, ${edges} imports, largest strongly connected component: ${largest} file(s)`;
  console.log(line);
  t.diagnostic(line);
  assert.deepEqual(oversized(components, ROOT), []);
});

test('the check finds an artificial 4-file circle (and leaves a 3-file one alone)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fact-rlhf-cycle-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'src', 'deep'), { recursive: true });
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { module: 'preserve', moduleResolution: 'bundler', strict: true } }),
  );
  const write = (name: string, text: string): string => {
    const path = join(dir, 'src', name);
    writeFileSync(path, text);
    return path;
  };
  // a → b → deep/c → d → a (4), through a static import, a type-only import, a re-export and import().
  const files = [
    write('a.ts', "import { b } from './b';\nexport const a = () => b;\n"),
    write('b.ts', "import type { C } from './deep/c';\nexport const b = 1; export type B = C;\n"),
    write('deep/c.ts', "export { d } from '../d';\nexport type C = number;\n"),
    write('d.ts', "export const d = () => import('./a');\n"),
    // x → y → z → x (3): allowed; z also imports the big circle, which must not merge them.
    write('x.ts', "import './y';\n"),
    write('y.ts', "import './z';\n"),
    write('z.ts', "import './x';\nimport { a } from './a';\nexport const z = a;\n"),
    write('alone.ts', "import { parse } from 'node:path';\nexport const p = parse;\n"),
  ];
  const graph = importGraph(files, compilerOptions(dir));
  const components = stronglyConnected(graph);
  const sizes = components.map((c) => c.length).sort((p, q) => q - p);
  assert.deepEqual(sizes, [4, 3, 1]);
  const failures = oversized(components, dir);
  assert.equal(failures.length, 1);
  assert.equal(failures[0], '4 files import each other: src/a.ts, src/b.ts, src/d.ts, src/deep/c.ts');
});
