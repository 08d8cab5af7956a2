// Files a config names are checked in the background (language-server/src/engine/backgroundHost.ts):
// the built server, driven over stdio, publishes a document's diagnostics first without the file
// checks, then again once the reads land; counts data-file records for the inlay hints; re-reads a
// file that changed on disk; and answers the validate request with the full picture.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Diagnostic, InlayHint } from 'vscode-languageserver/node';
import { LspTestClient, buildServer, positionOf } from './languageServer.client';
import { VALIDATE_REQUEST } from '../../src/protocol/lsp';
import type { ValidateResult } from '../../src/protocol/lsp';

let client: LspTestClient;
let dir: string;

before(async () => {
  buildServer();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fact-rlhf-ls-files-'));
  // Never wait for file checks before publishing, so the two publishes are deterministic.
  client = await LspTestClient.start('stdio', { fileCheckWaitMs: 0 });
});

after(async () => {
  assert.equal(await client.stop(), 0, `server exit code (stderr: ${client.stderr.join('')})`);
  fs.rmSync(dir, { recursive: true, force: true });
});

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function prompts(n: number): string {
  return (
    Array.from({ length: n }, (_, i) =>
      JSON.stringify({ id: i, image: `${i}.jpg`, conversations: [{ from: 'human', value: '<image>\nq' }] }),
    ).join('\n') + '\n'
  );
}

const CONFIG =
  'data:\n  facts: missing-facts.json\n  ppo_prompts: prompts.jsonl\n  preference: prefs.json\nppo:\n  rollout_batch_size: 100\n  rollout_per_device_batch_size: 10\n  step_batch_size: 50\n  step_per_device_batch_size: 10\n  total_epochs: 2\n';

function codes(diags: Diagnostic[]): string[] {
  return diags.map((d) => String(d.code)).sort();
}

async function iterationsHint(uri: string, text: string): Promise<string | undefined> {
  const end = { line: text.split('\n').length, character: 0 };
  const hints = await client.request<InlayHint[]>('textDocument/inlayHint', {
    textDocument: { uri },
    range: { start: { line: 0, character: 0 }, end },
  });
  const label = hints
    .map((h) => (typeof h.label === 'string' ? h.label : h.label.map((p) => p.value).join('')))
    .find((l) => l.includes('iterations'));
  return label;
}

test('diagnostics are published first without the file checks, then again with them', async () => {
  fs.writeFileSync(path.join(dir, 'prompts.jsonl'), prompts(1000));
  fs.writeFileSync(path.join(dir, 'prefs.json'), JSON.stringify([{ conversations: [], output_1: 'a', output_2: 'b' }]));
  const uri = pathToFileURL(path.join(dir, 'bg.rlhf.yaml')).toString();
  const first = await client.open(uri, CONFIG);
  assert.deepEqual(codes(first), [], 'the first publish comes before any file is read');

  // Reads land in batches, so there may be a publish per batch; wait for the one with both checks.
  const history = await until('a publish with the file checks', () => {
    const h = client.history.get(uri) ?? [];
    return h.length >= 2 && h[h.length - 1].diagnostics.length >= 2 ? h : undefined;
  });
  assert.ok(
    history.every((p) => p.version === 1),
    'both publishes are for the opened version',
  );
  const full = history[history.length - 1].diagnostics;
  assert.deepEqual(codes(full), ['data-record', 'path-not-found']);
  const missing = full.find((d) => d.code === 'path-not-found')!;
  assert.deepEqual(missing.range, { start: positionOf(CONFIG, 'missing-facts.json'), end: positionOf(CONFIG, 'missing-facts.json', 18) });
  assert.match(String(full.find((d) => d.code === 'data-record')!.message), /data\.preference.*record 0 lacks `preference`/);

  // The record count arrives in the background too: 1000 prompts / 100 per iteration × 2 epochs.
  const label = await until('the iterations inlay hint', () => iterationsHint(uri, CONFIG));
  assert.equal(label, '→ 10/epoch, 20 iterations');
});

test('a data file changed on disk is read again (cached by modification time and size)', async () => {
  const uri = pathToFileURL(path.join(dir, 'bg.rlhf.yaml')).toString();
  const before = (client.history.get(uri) ?? []).length;
  fs.writeFileSync(path.join(dir, 'prompts.jsonl'), prompts(500));
  fs.writeFileSync(path.join(dir, 'prefs.json'), JSON.stringify([{ conversations: [], output_1: 'a', output_2: 'b', preference: 1 }]));
  await client.conn.sendNotification('workspace/didChangeWatchedFiles', {
    changes: ['prompts.jsonl', 'prefs.json'].map((f) => ({ uri: pathToFileURL(path.join(dir, f)).toString(), type: 2 })),
  });
  const fixed = await until('a publish without the data-record warning', () => {
    const h = client.history.get(uri) ?? [];
    return h.length > before && !h[h.length - 1].diagnostics.some((d) => d.code === 'data-record')
      ? h[h.length - 1].diagnostics
      : undefined;
  });
  assert.deepEqual(codes(fixed), ['path-not-found']);
  const label = await until('the recounted iterations hint', async () => {
    const l = await iterationsHint(uri, CONFIG);
    return l === '→ 5/epoch, 10 iterations' ? l : undefined;
  });
  assert.equal(label, '→ 5/epoch, 10 iterations');
  client.close(uri);
});

test('the validate request waits for the file checks', async () => {
  const uri = pathToFileURL(path.join(dir, 'request.rlhf.yaml')).toString();
  const text = 'data:\n  builtin: none\n  facts: not-here.json\n';
  const first = await client.open(uri, text);
  assert.deepEqual(codes(first), []);
  const res = await client.request<ValidateResult>(VALIDATE_REQUEST, { uri });
  assert.deepEqual(
    res.diagnostics.map((d) => [d.code, d.line, d.column]),
    [['path-not-found', 3, 10]],
  );
  client.close(uri);
  // A config that is not open is read from disk and checked the same way.
  const closed = path.join(dir, 'closed.rlhf.yaml');
  fs.writeFileSync(closed, `# on disk only\n${text}`);
  const onDisk = await client.request<ValidateResult>(VALIDATE_REQUEST, { uri: pathToFileURL(closed).toString() });
  assert.deepEqual(
    onDisk.diagnostics.map((d) => [d.code, d.line, d.column, d.file]),
    [['path-not-found', 4, 10, closed]],
  );
});
