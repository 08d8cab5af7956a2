// 10,000 fuzzed documents — random mutations of every example config, token soups and random
// bytes — through the whole engine (validation, hover, completion, inlay hints, code actions).
// None may throw, produce an internal error, a range outside its file, or take longer than a second.
// Where the fast YAML path accepts a document, its nodes and ranges must equal the `yaml` package's.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMap, isScalar, isSeq } from 'yaml';
import { analyze, codeActions, complete, hover, inlayHints } from '../../language-server/src/engine/index';
import { parseWithYaml } from '../../language-server/src/engine/yamlFile';
import type { Analysis, EngineHost } from '../../language-server/src/engine/index';

const ROOT = path.resolve(__dirname, '..', '..');
const EXAMPLES = path.join(ROOT, 'examples');
const DOCS = 10_000;
const MAX_MS_PER_DOC = 1000;

/** Deterministic PRNG (mulberry32) so a failure can be replayed from its index. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TOKENS = [
  ':',
  ': ',
  '-',
  '- ',
  '[',
  ']',
  '{',
  '}',
  ',',
  '#',
  '&a ',
  '*a',
  '<<: ',
  '!!str ',
  '!!int ',
  '? ',
  '|',
  '>',
  '"',
  "'",
  '\n',
  '\n  ',
  '\t',
  '---\n',
  '...\n',
  '%YAML 1.1\n',
  '~',
  'null',
  'true',
  'no',
  'yes',
  '0',
  '-1',
  '1e999',
  '3e-5',
  '0x1F',
  '010',
  '.nan',
  '-.inf',
  '""',
  'ppo',
  'model',
  'extends',
  'extends: base.rlhf.yaml',
  'rollout_batch_size',
  'step_batch_size',
  'kl_coef',
  'launch',
  'gpus',
  'builtin:tiny-llava',
  '${HOME}',
  '../',
  '\u0000',
  '\ufeff',
  '\ud800',
  'é',
  '🙂',
];

function mutate(rnd: () => number, base: string, sources: readonly string[]): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  let text = base;
  const ops = 1 + Math.floor(rnd() * 4);
  for (let k = 0; k < ops; k++) {
    const at = Math.floor(rnd() * (text.length + 1));
    const lines = text.split('\n');
    switch (Math.floor(rnd() * 9)) {
      case 0:
        text = text.slice(0, at) + text.slice(at + Math.floor(rnd() * 40));
        break;
      case 1:
        text = text.slice(0, at) + pick(TOKENS) + text.slice(at);
        break;
      case 2:
        text = text.slice(0, at) + String.fromCharCode(Math.floor(rnd() * 0x10000)) + text.slice(at);
        break;
      case 3: {
        const i = Math.floor(rnd() * lines.length);
        lines.splice(Math.floor(rnd() * lines.length), 0, lines[i]);
        text = lines.join('\n');
        break;
      }
      case 4: {
        const i = Math.floor(rnd() * lines.length);
        const j = Math.floor(rnd() * lines.length);
        [lines[i], lines[j]] = [lines[j], lines[i]];
        text = lines.join('\n');
        break;
      }
      case 5: {
        const i = Math.floor(rnd() * lines.length);
        lines[i] = rnd() < 0.5 ? `  ${lines[i]}` : lines[i].replace(/^ {1,2}/, '');
        text = lines.join('\n');
        break;
      }
      case 6:
        text = text.replace(/: [^\n#]+/, `: ${pick(TOKENS)}`);
        break;
      case 7:
        text = text.slice(0, at);
        break;
      default: {
        const other = pick(sources);
        const s = Math.floor(rnd() * other.length);
        text = text.slice(0, at) + other.slice(s, s + Math.floor(rnd() * 200)) + text.slice(at);
      }
    }
  }
  return text;
}

function randomDoc(rnd: () => number, sources: readonly string[]): string {
  const kind = rnd();
  if (kind < 0.7) return mutate(rnd, sources[Math.floor(rnd() * sources.length)], sources);
  if (kind < 0.85) return Array.from({ length: Math.floor(rnd() * 80) }, () => TOKENS[Math.floor(rnd() * TOKENS.length)]).join('');
  return Array.from({ length: Math.floor(rnd() * 400) }, () => String.fromCharCode(Math.floor(rnd() * (rnd() < 0.8 ? 128 : 0x10000)))).join(
    '',
  );
}

/** Every node's kind, range, value, style and source, for comparing two parses. */
function dump(n: unknown): unknown {
  if (isMap(n)) return { map: n.range, flow: Boolean(n.flow), items: n.items.map((p) => [dump(p.key), dump(p.value)]) };
  if (isSeq(n)) return { seq: n.range, flow: Boolean(n.flow), items: n.items.map(dump) };
  if (isScalar(n))
    return {
      s: n.range,
      v: typeof n.value === 'number' && Number.isNaN(n.value) ? 'NaN' : n.value,
      t: n.type,
      src: n.type === 'PLAIN' ? n.source : undefined,
    };
  return n === null ? null : `unexpected ${String(n)}`;
}

test(`${DOCS.toLocaleString('en-US')} fuzzed documents never crash, hang or misplace a range`, () => {
  const files = fs.readdirSync(EXAMPLES).filter((f) => f.endsWith('.rlhf.yaml'));
  const sources = files.map((f) => fs.readFileSync(path.join(EXAMPLES, f), 'utf8'));
  assert.ok(sources.length >= 2);
  // An in-memory host: `extends` finds other mutated configs, nothing touches the disk.
  let parentText = sources[0];
  const host: EngineHost = {
    readFile: (p) => (p.endsWith('base.rlhf.yaml') ? parentText : undefined),
    exists: (p) => p.endsWith('.json') && p.length % 2 === 0,
    env: { HOME: '/home/fuzz' },
    gpuMemoryGiB: 40,
  };
  const rnd = prng(20231125);
  const file = path.join(EXAMPLES, 'fuzz.rlhf.yaml');
  let worst = 0;
  let worstIndex = -1;
  let diagnostics = 0;
  let fastAccepted = 0;
  let compared = 0;
  const t0 = performance.now();
  for (let i = 0; i < DOCS; i++) {
    const text = randomDoc(rnd, sources);
    if (i % 10 === 0) parentText = randomDoc(rnd, sources);
    const offset = Math.floor(rnd() * (text.length + 1));
    const start = performance.now();
    let analysis: Analysis | undefined;
    try {
      const a = analyze(text, file, host);
      analysis = a;
      diagnostics += a.diagnostics.length;
      for (const d of a.diagnostics) {
        assert.notEqual(d.code, 'internal-error', d.message);
        const len = d.file === file ? text.length : parentText.length;
        assert.ok(d.start >= 0 && d.start <= d.end && d.end <= len, `range ${d.start}-${d.end} of ${len}`);
        assert.ok(d.line >= 1 && d.column >= 1 && (d.endLine > d.line || (d.endLine === d.line && d.endColumn >= d.column)));
        assert.ok(d.message.length > 0);
      }
      hover(a, offset);
      complete(a, offset);
      inlayHints(a);
      if (i % 5 === 0) {
        for (const action of codeActions(a, 0, text.length).slice(0, 1)) {
          if (action.fix.file !== file) continue;
          let fixed = text;
          for (const e of [...action.fix.edits].sort((x, y) => y.start - x.start)) {
            assert.ok(e.start <= e.end && e.end <= text.length);
            fixed = fixed.slice(0, e.start) + e.newText + fixed.slice(e.end);
          }
          analyze(fixed, file, host);
        }
      }
    } catch (e) {
      assert.fail(`document #${i} (${JSON.stringify(text.slice(0, 300))}): ${e instanceof Error ? e.stack : String(e)}`);
    }
    const ms = performance.now() - start;
    if (analysis?.file.parser === 'fast') {
      fastAccepted++;
      if (fastAccepted % 3 === 0) {
        compared++;
        const full = parseWithYaml(text, file);
        assert.deepEqual(full.syntax, [], `fast path accepted a document with YAML errors: #${i}`);
        assert.equal(
          JSON.stringify(dump(analysis.file.doc.contents)),
          JSON.stringify(dump(full.doc.contents)),
          `fast path differs on #${i}: ${JSON.stringify(text)}`,
        );
        assert.deepEqual(analysis.file.value, full.value, `fast path value differs on #${i}`);
        assert.deepEqual(analysis.file.lineCounter.lineStarts, full.lineCounter.lineStarts);
      }
    }
    if (ms > worst) {
      worst = ms;
      worstIndex = i;
    }
  }
  const total = performance.now() - t0;
  console.log(
    `fuzz: ${DOCS} documents, ${diagnostics} diagnostics, ${(total / 1000).toFixed(1)} s, slowest #${worstIndex} ${worst.toFixed(1)} ms; fast YAML path took ${fastAccepted}, ${compared} compared with the yaml package`,
  );
  assert.ok(compared > 100, 'the differential check ran');
  assert.ok(worst < MAX_MS_PER_DOC, `slowest document #${worstIndex} took ${worst.toFixed(0)} ms`);
});
