// Language server (DESIGN.md §7): full validation of the LLaVA-RLHF 13B recipe (median of 1000
// runs; bar < 2 ms), hover and completion latency (p99; bar < 10 ms) in the engine — on a cached
// analysis, and after an edit (re-analysis included) — and end to end over stdio JSON-RPC
// against the built server; and a config naming a 50 MB data file (synchronous CLI host vs the
// server's background reads). Run: node --import tsx bench/language-server.bench.ts
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { analyze, complete, createNodeHost, hover, validateText } from '../language-server/src/engine/index';

const ROOT = path.resolve(__dirname, '..');
const FILE = path.join(ROOT, 'examples', 'llava-rlhf-13b.rlhf.yaml');
const TEXT = fs.readFileSync(FILE, 'utf8');
const RUNS = 1000;

function stats(samples: number[]): { median: number; p99: number; max: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], p99: s[Math.min(s.length - 1, Math.floor(s.length * 0.99))], max: s[s.length - 1] };
}

function time(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

function row(label: string, samples: number[], bar?: { stat: 'median' | 'p99'; ms: number }): void {
  const s = stats(samples);
  const verdict = bar ? `  bar ${bar.stat} < ${bar.ms} ms: ${s[bar.stat] < bar.ms ? 'PASS' : 'FAIL'}` : '';
  console.log(`${label.padEnd(52)} median ${s.median.toFixed(3)} ms  p99 ${s.p99.toFixed(3)} ms  max ${s.max.toFixed(2)} ms${verdict}`);
}

/** Cursor positions on every key and every value of the recipe. */
function positions(): number[] {
  const out: number[] = [];
  let at = 0;
  for (const line of TEXT.split('\n')) {
    const m = /^(\s*)([\w.-]+):\s*([^#\n]*)/.exec(line);
    if (m) {
      out.push(at + m[1].length + 1);
      if (m[3].trim()) out.push(at + line.indexOf(m[3]) + m[3].trim().length);
    }
    at += line.length + 1;
  }
  return out;
}

const host = createNodeHost({ env: {} });
console.log(
  `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, load ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}, node ${process.version}`,
);
console.log(`config: ${path.relative(ROOT, FILE)} (${TEXT.length} bytes, ${TEXT.split('\n').length} lines)\n`);

// Full validation: parse, extends, schema, cross-field, files, YAML 1.1 portability.
for (let i = 0; i < 200; i++) validateText(TEXT, FILE, host);
const validation = Array.from({ length: RUNS }, () => time(() => validateText(TEXT, FILE, host)));
row('full validation (13B recipe)', validation, { stat: 'median', ms: 2 });

const a = analyze(TEXT, FILE, host);
const pos = positions();
const hoverCached: number[] = [];
const completeCached: number[] = [];
const completeAfterEdit: number[] = [];
const hoverAfterEdit: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const p = pos[i % pos.length];
  hoverCached.push(time(() => hover(a, p)));
  completeCached.push(time(() => complete(a, p)));
  // A keystroke changes the text, so the server analyses again before answering.
  const edited = `${TEXT.slice(0, p)}${TEXT.slice(p)}\n`;
  completeAfterEdit.push(time(() => complete(analyze(edited, FILE, host), p)));
  hoverAfterEdit.push(time(() => hover(analyze(edited, FILE, host), p)));
}
row('hover (analysis cached)', hoverCached, { stat: 'p99', ms: 10 });
row('completion (analysis cached)', completeCached, { stat: 'p99', ms: 10 });
row('hover after an edit (re-analysis included)', hoverAfterEdit, { stat: 'p99', ms: 10 });
row('completion after an edit (re-analysis included)', completeAfterEdit, { stat: 'p99', ms: 10 });

// End to end: the built server over stdio, one request at a time, after a change each time.
async function overStdio(): Promise<void> {
  const build = spawnSync(process.execPath, ['scripts/build.mjs', '--only=language-server'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(build.stderr);
  const proc = spawn(process.execPath, [path.join(ROOT, 'dist', 'language-server.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const conn = createMessageConnection(new StreamMessageReader(proc.stdout), new StreamMessageWriter(proc.stdin));
  conn.listen();
  await conn.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {} });
  await conn.sendNotification('initialized', {});
  const uri = pathToFileURL(FILE).toString();
  await conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'yaml', version: 1, text: TEXT } });
  const lines = TEXT.split('\n');
  const completion: number[] = [];
  const hovers: number[] = [];
  for (let i = 0; i < 500; i++) {
    const line = i % lines.length;
    const character = Math.min(lines[line].length, 4);
    await conn.sendNotification('textDocument/didChange', {
      textDocument: { uri, version: i + 2 },
      contentChanges: [{ text: i % 2 ? TEXT : `${TEXT}\n` }],
    });
    let t = performance.now();
    await conn.sendRequest('textDocument/completion', { textDocument: { uri }, position: { line, character } });
    completion.push(performance.now() - t);
    t = performance.now();
    await conn.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line, character } });
    hovers.push(performance.now() - t);
  }
  row('LSP over stdio: completion after a change', completion.slice(50), { stat: 'p99', ms: 10 });
  row('LSP over stdio: hover (same version)', hovers.slice(50), { stat: 'p99', ms: 10 });
  await conn.sendRequest('shutdown');
  await conn.sendNotification('exit');
  conn.dispose();
}

/**
 * A config naming a 50 MB prompt file. The CLI's synchronous host reads and counts it on the first
 * analysis; the server does it in the background, so requests sent meanwhile are answered at once.
 */
async function bigDataFile(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fact-rlhf-ls-bench-'));
  try {
    const record = JSON.stringify({
      id: 'x',
      image: 'coco/000000123456.jpg',
      conversations: [
        { from: 'human', value: '<image>\nWhat is unusual about this image? Describe it in detail, please.' },
        { from: 'gpt', value: '' },
      ],
      caption_type: 1,
      length_bonus: 1.0,
    });
    const n = Math.ceil(50e6 / (record.length + 2));
    fs.writeFileSync(path.join(dir, 'prompts.json'), `[\n${Array.from({ length: n }, () => record).join(',\n')}\n]\n`);
    const mb = fs.statSync(path.join(dir, 'prompts.json')).size / 1e6;
    const file = path.join(dir, 'big.rlhf.yaml');
    const text =
      'data:\n  ppo_prompts: prompts.json\n  preference: prompts.json\nppo:\n  rollout_batch_size: 512\n  rollout_per_device_batch_size: 32\n  total_epochs: 4\n';
    fs.writeFileSync(file, text);
    console.log(`\nconfig naming a ${mb.toFixed(1)} MB prompt file (${n.toLocaleString('en')} records, in the page cache):`);
    const t0 = performance.now();
    const a = analyze(text, file, createNodeHost({ env: {} }));
    console.log(
      `  CLI host (synchronous): first analysis ${(performance.now() - t0).toFixed(0)} ms (counted ${a.derived?.promptCount} records); the next ones hit the mtime cache`,
    );

    const proc = spawn(process.execPath, [path.join(ROOT, 'dist', 'language-server.js'), '--stdio'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const conn = createMessageConnection(new StreamMessageReader(proc.stdout), new StreamMessageWriter(proc.stdin));
    const publishes: number[] = [];
    conn.onNotification('textDocument/publishDiagnostics', () => {
      publishes.push(performance.now());
    });
    conn.listen();
    await conn.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {} });
    await conn.sendNotification('initialized', {});
    // Start-up first (the schema validator compiles once): open a small config and wait for its diagnostics.
    const warm = pathToFileURL(path.join(dir, 'warm.rlhf.yaml')).toString();
    await conn.sendNotification('textDocument/didOpen', {
      textDocument: { uri: warm, languageId: 'yaml', version: 1, text: 'data:\n  builtin: shapes\n' },
    });
    while (publishes.length === 0) await new Promise((r) => setTimeout(r, 10));
    publishes.length = 0;
    const uri = pathToFileURL(file).toString();
    const opened = performance.now();
    await conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'yaml', version: 1, text } });
    const latencies: number[] = [];
    let counted = 0;
    // Completion requests every 10 ms until the count lands (the iterations hint appears).
    while (performance.now() - opened < 30_000) {
      const t = performance.now();
      await conn.sendRequest('textDocument/completion', { textDocument: { uri }, position: { line: 6, character: 2 } });
      latencies.push(performance.now() - t);
      const hints = (await conn.sendRequest('textDocument/inlayHint', {
        textDocument: { uri },
        range: { start: { line: 0, character: 0 }, end: { line: 8, character: 0 } },
      })) as Array<{ label: string }>;
      if (hints.some((h) => h.label.includes('iterations'))) {
        counted = performance.now() - opened;
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    const s = stats(latencies);
    console.log(
      `  server (background reads): first publish ${((publishes[0] ?? NaN) - opened).toFixed(0)} ms after open, record count landed after ${counted.toFixed(0)} ms;`,
    );
    console.log(
      `  ${latencies.length} completion requests meanwhile: median ${s.median.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms, max ${s.max.toFixed(2)} ms`,
    );
    await conn.sendRequest('shutdown');
    await conn.sendNotification('exit');
    conn.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

overStdio()
  .then(bigDataFile)
  .catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
