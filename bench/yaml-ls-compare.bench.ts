// Our language server side by side with yaml-language-server (Red Hat's, the tool users would
// otherwise reach for) configured with the same JSON Schema (schema/experiment.schema.json through
// its `yaml.schemas` setting). Both are real server processes driven over stdio by one JSON-RPC LSP
// client, on the same configs in the same run:
//   1. latency of full validation of the 13B recipe and of broken variants — in-process (the code
//      each server runs on a change: our `analyze`, yaml-language-server's `doValidation`), and end
//      to end (didChange → publishDiagnostics, minus each server's fixed debounce);
//   2. for each broken config, which diagnostics each server reports that the other misses.
// Run: node --import tsx bench/yaml-ls-compare.bench.ts [--runs N] [--e2e-runs N]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import type { MessageConnection } from 'vscode-jsonrpc/node';
import type { Diagnostic, PublishDiagnosticsParams } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { getLanguageService } from 'yaml-language-server';
import { createNodeHost, validateText } from '../language-server/src/engine/index';

const ROOT = path.resolve(__dirname, '..');
const BASE_FILE = path.join(ROOT, 'examples', 'llava-rlhf-13b.rlhf.yaml');
const BASE = fs.readFileSync(BASE_FILE, 'utf8');
const SCHEMA_FILE = path.join(ROOT, 'schema', 'experiment.schema.json');
const SCHEMA_URI = pathToFileURL(SCHEMA_FILE).toString();
const YAML_LS = path.join(ROOT, 'node_modules', 'yaml-language-server', 'bin', 'yaml-language-server');
const YAML_LS_VERSION = (
  JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', 'yaml-language-server', 'package.json'), 'utf8')) as { version: string }
).version;
/** Each server's fixed wait between a change and its validation (ours: server.ts; theirs: yamlSettings.validationDelayMs). */
const DEBOUNCE_MS = { ours: 80, yamlls: 200 } as const;

const { values: args } = parseArgs({
  options: { runs: { type: 'string', default: '500' }, 'e2e-runs': { type: 'string', default: '40' } },
});
const RUNS = Number(args.runs);
const E2E_RUNS = Number(args['e2e-runs']);

// ---- the configs: the recipe and one mistake per variant -------------------------------------

interface Variant {
  name: string;
  what: string;
  text: string;
  /** 0-based lines where a diagnostic about this mistake belongs. */
  lines: number[];
}

function lineOf(text: string, needle: string): number {
  const i = text.indexOf(needle);
  if (i < 0) throw new Error(`"${needle}" is not in the 13B recipe any more; update the bench`);
  return text.slice(0, i).split('\n').length - 1;
}

/** The recipe with `from` replaced by `to`; the mistake's lines are where `at` (default: the first line of `to`) and `alsoAt` sit. */
function mutate(name: string, what: string, from: string, to: string, alsoAt: string[] = [], at?: string): Variant {
  if (!BASE.includes(from)) throw new Error(`"${from}" is not in the 13B recipe any more; update the bench`);
  const text = BASE.replace(from, to);
  const anchor = at ?? to.trim().split('\n')[0];
  return { name, what, text, lines: [...(anchor ? [lineOf(text, anchor)] : []), ...alsoAt.map((l) => lineOf(text, l))] };
}

const VARIANTS: Variant[] = [
  mutate('misspelt key', '`kl_coeff: 0.1`', '  kl_coef: 0.1', '  kl_coeff: 0.1'),
  mutate('reference-code flag name', "`noptepochs: 2` (the LLaVA-RLHF scripts' flag)", '  ppo_epochs: 2', '  noptepochs: 2'),
  mutate('duplicate key', '`kl_coef` twice', '  kl_coef: 0.1\n', '  kl_coef: 0.1\n  kl_coef: 0.05\n', ['  kl_coef: 0.05']),
  mutate('wrong type', '`kl_coef: "0.1"` (quoted)', '  kl_coef: 0.1', '  kl_coef: "0.1"'),
  mutate('YAML 1.1 boolean', '`whiten: yes`', '  whiten: true', '  whiten: yes'),
  mutate('out of range', '`no_eos_penalty: 8.0` (a penalty > 0)', '  no_eos_penalty: -8.0', '  no_eos_penalty: 8.0'),
  mutate('enum typo', '`kl_estimator: k4`', '  kl_estimator: k1', '  kl_estimator: k4'),
  mutate(
    'batch not divisible across GPUs',
    '`rollout_batch_size: 500` on 8 GPUs',
    '  rollout_batch_size: 512',
    '  rollout_batch_size: 500',
    ['  gpus: 8'],
  ),
  mutate('step batch does not divide rollout', '`step_batch_size: 384` of 512', '  step_batch_size: 256', '  step_batch_size: 384', [
    '  rollout_batch_size: 512',
  ]),
  mutate('length budget', '`response_len: 1984`: 128 + 1984 > max_length 2048', '  response_len: 896', '  response_len: 1984', [
    '  query_len: 128',
    '  max_length: 2048',
  ]),
  mutate(
    'missing file',
    '`facts: ./data/facts.json` (no such file)',
    '  facts: ${LLAVA_RLHF_DATA}/facts.json',
    '  facts: ./data/facts.json',
  ),
  mutate(
    'fact augmentation without facts',
    '`data.facts` removed',
    '  facts: ${LLAVA_RLHF_DATA}/facts.json                  # COCO captions and A-OKVQA rationales per image\n',
    '',
    ['  fact_augmentation: true'],
  ),
  mutate(
    'bad extends',
    '`extends: ./base.rlhf.yaml` (no such file)',
    'version: 1\n',
    'version: 1\nextends: ./base.rlhf.yaml\n',
    [],
    'extends: ./base.rlhf.yaml',
  ),
];
const TIMED = ['misspelt key', 'batch not divisible across GPUs', 'missing file'];

// ---- a JSON-RPC LSP client over a server's stdio ---------------------------------------------

class StdioServer {
  private readonly latest = new Map<string, { at: number; diagnostics: Diagnostic[] }>();
  private readonly waiters: Array<{ uri: string; after: number; resolve: (v: { at: number; diagnostics: Diagnostic[] }) => void }> = [];
  private versions = new Map<string, number>();
  readonly stderr: string[] = [];

  private constructor(
    readonly label: string,
    readonly proc: ChildProcess,
    readonly conn: MessageConnection,
  ) {}

  static async start(
    label: string,
    argv: string[],
    settings: Record<string, unknown>,
    initializationOptions?: unknown,
  ): Promise<StdioServer> {
    const env = { ...process.env };
    delete env.LLAVA_RLHF_DATA; // the recipe's ${VAR} paths stay unchecked, as on a laptop
    delete env.LLAVA_RLHF_MODELS;
    const proc = spawn(process.execPath, argv, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const conn = createMessageConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
    const s = new StdioServer(label, proc, conn);
    proc.stderr!.on('data', (b: Buffer) => s.stderr.push(b.toString()));
    conn.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
      const entry = { at: performance.now(), diagnostics: p.diagnostics };
      s.latest.set(p.uri, entry);
      for (const w of [...s.waiters]) {
        if (w.uri === p.uri && entry.at >= w.after) {
          s.waiters.splice(s.waiters.indexOf(w), 1);
          w.resolve(entry);
        }
      }
    });
    // The settings a client answers `workspace/configuration` with (yaml-language-server pulls them).
    conn.onRequest('workspace/configuration', (p: { items: Array<{ section?: string }> }) =>
      p.items.map((i) => (i.section ? (settings[i.section] ?? null) : settings)),
    );
    conn.onRequest(() => null); // client/registerCapability, window/workDoneProgress/create, ...
    conn.onNotification(() => undefined);
    conn.listen();
    await conn.sendRequest('initialize', {
      processId: process.pid,
      rootUri: pathToFileURL(ROOT).toString(),
      capabilities: {
        workspace: { configuration: true },
        textDocument: {
          publishDiagnostics: { relatedInformation: true },
          codeAction: { codeActionLiteralSupport: { codeActionKind: { valueSet: ['quickfix', 'refactor'] } } },
        },
      },
      initializationOptions,
    });
    await conn.sendNotification('initialized', {});
    await conn.sendNotification('workspace/didChangeConfiguration', { settings });
    return s;
  }

  /** The next diagnostics published for `uri` after `after` (performance.now()). */
  next(uri: string, after: number, timeoutMs = 15000): Promise<{ at: number; diagnostics: Diagnostic[] }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.label}: no diagnostics for ${uri} within ${timeoutMs} ms; stderr: ${this.stderr.join('')}`)),
        timeoutMs,
      );
      this.waiters.push({
        uri,
        after,
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
      });
    });
  }

  /** Opens a document and returns its diagnostics once the server has been quiet for `settleMs`. */
  async openAndSettle(uri: string, text: string, settleMs = 600): Promise<Diagnostic[]> {
    const t = performance.now();
    const first = this.next(uri, t);
    this.versions.set(uri, 1);
    await this.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'yaml', version: 1, text } });
    await first;
    // A server may publish again (e.g. once files are checked); wait until it stops.
    for (;;) {
      const seen = this.latest.get(uri)!.at;
      await new Promise((r) => setTimeout(r, settleMs));
      if (this.latest.get(uri)!.at === seen) return this.latest.get(uri)!.diagnostics;
    }
  }

  /** Sends a full-text change and returns ms until the next diagnostics are published. */
  async changeAndTime(uri: string, text: string): Promise<number> {
    const version = (this.versions.get(uri) ?? 1) + 1;
    this.versions.set(uri, version);
    const t = performance.now();
    const published = this.next(uri, t);
    await this.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ text }] });
    return (await published).at - t;
  }

  close(uri: string): void {
    void this.conn.sendNotification('textDocument/didClose', { textDocument: { uri } });
  }

  async stop(): Promise<void> {
    try {
      await this.conn.sendRequest('shutdown');
      await this.conn.sendNotification('exit');
    } catch {
      // already gone
    }
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
    if (this.proc.exitCode === null) await new Promise((r) => this.proc.once('exit', r));
    clearTimeout(timer);
    this.conn.dispose();
  }
}

// ---- statistics --------------------------------------------------------------------------------

function stats(samples: number[]): { median: number; p99: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], p99: s[Math.min(s.length - 1, Math.floor(s.length * 0.99))] };
}

const ms = (x: number): string => (x >= 10 ? x.toFixed(1) : x.toFixed(2));

function latencyRow(label: string, ours: number[], theirs: number[]): string {
  const o = stats(ours);
  const t = stats(theirs);
  return `| ${label} | ${ms(o.median)} / ${ms(o.p99)} | ${ms(t.median)} / ${ms(t.p99)} | ${(t.median / o.median).toFixed(1)}× / ${(t.p99 / o.p99).toFixed(1)}× |`;
}

// ---- 1a. in-process validation: the code each server runs on a change --------------------------

async function inProcess(dir: string, configs: Array<{ label: string; text: string }>): Promise<string[]> {
  const host = createNodeHost({ env: {} });
  const yamlls = getLanguageService({
    schemaRequestService: (uri: string) => Promise.resolve(fs.readFileSync(new URL(uri), 'utf8')),
    workspaceContext: { resolveRelativePath: (rel: string, resource: string) => new URL(rel, resource).toString() },
  });
  yamlls.configure({ validate: true, yamlVersion: '1.2', schemas: [{ uri: SCHEMA_URI, fileMatch: ['*.rlhf.yaml'] }] });
  const rows: string[] = [];
  for (const c of configs) {
    const file = path.join(dir, `timed-${c.label.replace(/\W+/g, '-')}.rlhf.yaml`);
    fs.writeFileSync(file, c.text);
    const uri = pathToFileURL(file).toString();
    const ours: number[] = [];
    const theirs: number[] = [];
    let version = 0;
    // Each run is a new document version (text alternating with a trailing newline), so neither
    // side answers from a parse cache; yaml-language-server caches parses by URI and version.
    const textAt = (i: number): string => (i % 2 ? `${c.text}\n` : c.text);
    for (let i = 0; i < 300; i++) {
      // Warm-up: both sides' code optimised before timing.
      validateText(textAt(i), file, host);
      await yamlls.doValidation(TextDocument.create(uri, 'yaml', ++version, textAt(i)), false);
    }
    for (let i = 0; i < RUNS; i++) {
      let t = performance.now();
      validateText(textAt(i), file, host);
      ours.push(performance.now() - t);
      const doc = TextDocument.create(uri, 'yaml', ++version, textAt(i));
      t = performance.now();
      await yamlls.doValidation(doc, false);
      theirs.push(performance.now() - t);
    }
    rows.push(latencyRow(c.label, ours, theirs));
  }
  return rows;
}

// ---- 1b. end to end over stdio -------------------------------------------------------------------

async function endToEnd(
  ours: StdioServer,
  theirs: StdioServer,
  dir: string,
  configs: Array<{ label: string; text: string }>,
): Promise<string[]> {
  const rows: string[] = [];
  for (const c of configs) {
    const file = path.join(dir, `e2e-${c.label.replace(/\W+/g, '-')}.rlhf.yaml`);
    fs.writeFileSync(file, c.text);
    const uri = pathToFileURL(file).toString();
    const samples: Record<'ours' | 'yamlls', number[]> = { ours: [], yamlls: [] };
    for (const [key, server] of [
      ['ours', ours],
      ['yamlls', theirs],
    ] as const) {
      await server.openAndSettle(uri, c.text, 300);
      for (let i = 0; i < E2E_RUNS + 5; i++) {
        const t = await server.changeAndTime(uri, i % 2 ? c.text : `${c.text}\n`);
        if (i >= 5) samples[key].push(Math.max(0, t - DEBOUNCE_MS[key]));
      }
      server.close(uri);
    }
    rows.push(latencyRow(c.label, samples.ours, samples.yamlls));
  }
  return rows;
}

// ---- 2. what each finds ------------------------------------------------------------------------------

function key(d: Diagnostic): string {
  return `${d.range.start.line}:${typeof d.message === 'string' ? d.message : ''}`;
}

function cell(text: string, max: number): string {
  const t = text.replace(/\s+/g, ' ').replace(/\|/g, '\\|');
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

function describe(d: Diagnostic, tag: (d: Diagnostic) => string): string {
  return [tag(d), `L${d.range.start.line + 1}:`, cell(typeof d.message === 'string' ? d.message : '', 70)].filter(Boolean).join(' ');
}

interface Finding {
  found: boolean;
  summary: string;
  /** The quick fixes the server offers for what it found. */
  fixes: string;
}

/** Diagnostics a variant adds over the clean recipe; "found" when one sits on a line of the mistake. */
async function findings(
  server: StdioServer,
  uri: string,
  variant: Variant,
  base: Diagnostic[],
  got: Diagnostic[],
  tag: (d: Diagnostic) => string,
): Promise<Finding> {
  const baseKeys = new Set(base.map(key));
  const added = got.filter((d) => !baseKeys.has(key(d)));
  const onTarget = added.filter((d) => variant.lines.includes(d.range.start.line));
  if (onTarget.length === 0)
    return {
      found: false,
      summary: added.length ? `— (only elsewhere: ${added.map((d) => describe(d, tag)).join('; ')})` : '—',
      fixes: '',
    };
  const titles: string[] = [];
  for (const d of onTarget) {
    const actions = (await server.conn.sendRequest('textDocument/codeAction', {
      textDocument: { uri },
      range: d.range,
      context: { diagnostics: [d], only: ['quickfix'] },
    })) as Array<{ title: string }> | null;
    for (const a of actions ?? []) if (!titles.includes(a.title)) titles.push(a.title);
  }
  return {
    found: true,
    summary: onTarget.map((d) => describe(d, tag)).join('; '),
    fixes: titles.length ? cell(titles.join('; '), 60) : 'none',
  };
}

async function main(): Promise<void> {
  const build = spawnSync(process.execPath, ['scripts/build.mjs', '--only=language-server'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build failed: ${build.stderr}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fact-rlhf-yamlls-'));
  const yamlSettings = {
    yaml: {
      validate: true,
      hover: true,
      completion: true,
      yamlVersion: '1.2',
      schemas: { [SCHEMA_URI]: '*.rlhf.yaml' },
      schemaStore: { enable: false }, // offline; and it must not pick another schema
      format: { enable: false },
    },
    http: { proxy: '', proxyStrictSSL: false },
    '[yaml]': {},
    editor: { tabSize: 2 },
  };
  const ours = await StdioServer.start('fact-rlhf', [path.join(ROOT, 'dist', 'language-server.js'), '--stdio'], { factRlhf: {} });
  const theirs = await StdioServer.start('yaml-language-server', [YAML_LS, '--stdio'], yamlSettings);
  try {
    console.log(`# fact-rlhf language server vs yaml-language-server ${YAML_LS_VERSION} (same JSON Schema)`);
    console.log(
      `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, no GPU, load ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}, node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
    );
    console.log(`config: examples/llava-rlhf-13b.rlhf.yaml (${BASE.length} bytes, ${BASE.split('\n').length} lines)\n`);

    // The comparison first: it also proves yaml-language-server really applies our schema.
    const baseFile = path.join(dir, 'llava-rlhf-13b.rlhf.yaml');
    fs.writeFileSync(baseFile, BASE);
    const baseUri = pathToFileURL(baseFile).toString();
    const baseOurs = await ours.openAndSettle(baseUri, BASE);
    const baseTheirs = await theirs.openAndSettle(baseUri, BASE);
    ours.close(baseUri);
    theirs.close(baseUri);
    console.log(
      `clean 13B recipe: fact-rlhf ${baseOurs.length} diagnostics, yaml-language-server ${baseTheirs.length}${baseTheirs.length ? ` (${baseTheirs.map((d) => d.message).join('; ')})` : ''}\n`,
    );

    const ourTag = (d: Diagnostic): string => `\`${String(d.code)}\``;
    const theirTag = (): string => '';
    const table = [
      '| broken config | mistake | fact-rlhf | its quick fixes | yaml-language-server | its quick fixes |',
      '|---|---|---|---|---|---|',
    ];
    let onlyOurs = 0;
    let onlyTheirs = 0;
    let both = 0;
    for (const v of VARIANTS) {
      const file = path.join(dir, `${v.name.replace(/\W+/g, '-')}.rlhf.yaml`);
      fs.writeFileSync(file, v.text);
      const uri = pathToFileURL(file).toString();
      const a = await findings(ours, uri, v, baseOurs, await ours.openAndSettle(uri, v.text), ourTag);
      const b = await findings(theirs, uri, v, baseTheirs, await theirs.openAndSettle(uri, v.text), theirTag);
      ours.close(uri);
      theirs.close(uri);
      if (a.found && b.found) both++;
      else if (a.found) onlyOurs++;
      else if (b.found) onlyTheirs++;
      table.push(`| ${v.name} | ${v.what} | ${a.summary} | ${a.fixes} | ${b.summary} | ${b.fixes} |`);
    }
    if (VARIANTS.filter((v) => v.name === 'misspelt key').length && both + onlyTheirs === 0) {
      throw new Error('yaml-language-server found nothing at all: the schema association did not take effect');
    }
    console.log('## Diagnostics on broken configs ("—": nothing on the mistake\'s lines)\n');
    console.log(table.join('\n'));
    console.log(`\nfound by both: ${both}, only fact-rlhf: ${onlyOurs}, only yaml-language-server: ${onlyTheirs}, of ${VARIANTS.length}\n`);

    const timed = [
      { label: '13B recipe (clean)', text: BASE },
      ...VARIANTS.filter((v) => TIMED.includes(v.name)).map((v) => ({ label: v.name, text: v.text })),
    ];
    const head = [
      '| config | fact-rlhf median / p99 (ms) | yaml-language-server median / p99 (ms) | ratio (theirs / ours) |',
      '|---|---|---|---|',
    ];
    console.log(`## Full validation in process (${RUNS} runs each; our analyze vs yaml-language-server's doValidation)\n`);
    console.log([...head, ...(await inProcess(dir, timed))].join('\n'));
    console.log(
      `\n## End to end over stdio: didChange → publishDiagnostics minus the debounce (ours ${DEBOUNCE_MS.ours} ms, theirs ${DEBOUNCE_MS.yamlls} ms), ${E2E_RUNS} changes each\n`,
    );
    console.log([...head, ...(await endToEnd(ours, theirs, dir, timed))].join('\n'));
  } finally {
    await ours.stop();
    await theirs.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
