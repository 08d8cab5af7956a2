// What the language server may do on the user's machine (issue 16): it runs nvidia-smi only by
// an absolute path found outside the workspace, from a folder no workspace controls, and only in
// a trusted workspace; in an untrusted one it reads no file a config names and says so.
// A fake `nvidia-smi` (a shell script that leaves a marker and reports 24 GiB) stands in for the tool.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LspTestClient, buildServer, cleanEnv, ROOT } from './languageServer.client';
import { findExecutable } from '../../src/runs/executables';
import { VALIDATE_REQUEST } from '../../src/protocol/lsp';
import type { ValidateResult } from '../../src/protocol/lsp';

let dir: string;
const RECIPE = fs.readFileSync(path.join(ROOT, 'examples', 'llava-rlhf-13b.rlhf.yaml'), 'utf8');

/** A folder holding an executable `nvidia-smi` that records each run (with its working folder). */
function fakeTool(folder: string, marker: string): void {
  fs.mkdirSync(folder, { recursive: true });
  // One row of the query src/runs/gpus.ts makes (index, name, memory.total, memory.free in MiB).
  const script = `#!/bin/sh\npwd >> '${marker}'\necho '0, Stand-in GPU, 24576, 24000'\n`;
  fs.writeFileSync(path.join(folder, 'nvidia-smi'), script, { mode: 0o755 });
}

before(() => {
  buildServer();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fact-rlhf-ls-trust-'));
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

async function until(what: string, probe: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Starts a server in `cwd` with PATH `pathEnv`, opens the 13B recipe; its diagnostic codes once a GPU probe had time to land. */
async function session(
  cwd: string,
  pathEnv: string,
  options: Record<string, unknown>,
): Promise<{ codes: string[]; client: LspTestClient }> {
  const client = await LspTestClient.start('stdio', { fileCheckWaitMs: 0, ...options }, { cwd, env: { ...cleanEnv(), PATH: pathEnv } });
  const uri = pathToFileURL(path.join(cwd, 'exp.rlhf.yaml')).toString();
  await client.open(uri, RECIPE);
  // nvidia-smi answers asynchronously; a server that ran it re-validates with 24 GiB (the fit warning).
  let codes: string[] = [];
  for (const deadline = Date.now() + 3000; Date.now() < deadline && !codes.includes('gpu-memory');) {
    codes = (await client.request<ValidateResult>(VALIDATE_REQUEST, { uri })).diagnostics.map((d) => d.code);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { codes, client };
}

test('a workspace cannot plant nvidia-smi: cwd and relative PATH entries are never searched', async () => {
  const ws = path.join(dir, 'ws-plant');
  const marker = path.join(dir, 'planted.log');
  fakeTool(ws, marker); // ./nvidia-smi in the workspace
  fakeTool(path.join(ws, 'bin'), marker); // and bin/nvidia-smi, reachable by a relative PATH entry
  const { client } = await session(ws, `.:bin::${path.dirname(process.execPath)}:/usr/bin:/bin`, { workspaceTrusted: true });
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(await client.stop(), 0);
  assert.equal(fs.existsSync(marker), false, 'the planted nvidia-smi ran');
});

test('trusted: nvidia-smi from an absolute PATH entry runs from the temp folder and feeds the fit check', async () => {
  const ws = path.join(dir, 'ws-trusted');
  fs.mkdirSync(ws);
  const marker = path.join(dir, 'trusted.log');
  fakeTool(path.join(dir, 'driver'), marker);
  const { codes, client } = await session(ws, `${path.join(dir, 'driver')}:/usr/bin:/bin`, { workspaceTrusted: true });
  await until('nvidia-smi to run', () => fs.existsSync(marker));
  assert.equal(await client.stop(), 0);
  const cwd = fs.readFileSync(marker, 'utf8').trim();
  assert.equal(fs.realpathSync(cwd), fs.realpathSync(os.tmpdir()), 'run from the temp folder, not the workspace');
  assert.ok(codes.includes('gpu-memory'), `24 GiB reported: ${codes.join(', ')}`);
});

test('untrusted: nvidia-smi is not run, and no file a config names is read (one note instead of file warnings)', async () => {
  const ws = path.join(dir, 'ws-untrusted');
  fs.mkdirSync(ws);
  const marker = path.join(dir, 'untrusted.log');
  fakeTool(path.join(dir, 'driver2'), marker);
  const client = await LspTestClient.start(
    'stdio',
    { fileCheckWaitMs: 0, workspaceTrusted: false },
    { cwd: ws, env: { ...cleanEnv(), PATH: `${path.join(dir, 'driver2')}:/usr/bin:/bin` } },
  );
  const uri = pathToFileURL(path.join(ws, 'exp.rlhf.yaml')).toString();
  const text = 'extends: /etc/hostname\ndata:\n  sft: /etc/passwd\n  ppo_prompts: missing.jsonl\n';
  await client.open(uri, text);
  const { diagnostics } = await client.request<ValidateResult>(VALIDATE_REQUEST, { uri });
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(await client.stop(), 0);
  assert.equal(fs.existsSync(marker), false, 'nvidia-smi ran in an untrusted workspace');
  const notes = diagnostics.filter((d) => d.code === 'untrusted-workspace');
  assert.deepEqual(
    notes.map((d) => d.severity),
    ['information', 'information'],
  ); // extends, then the first path
  assert.ok(
    !diagnostics.some((d) => ['path-not-found', 'data-format', 'data-record', 'extends-not-found', 'extends-invalid'].includes(d.code)),
    JSON.stringify(diagnostics),
  );
});

test('findExecutable: absolute entries only, in order; Windows: .exe/.com only, quoted entries', () => {
  const present = new Set(['/opt/a/nvidia-smi', '/opt/b/nvidia-smi', 'C:\\NV\\nvidia-smi.EXE', 'C:\\Q\\nvidia-smi.BAT']);
  const isExecutable = (f: string): boolean => present.has(f);
  assert.equal(
    findExecutable('nvidia-smi', { pathEnv: '.:rel:/opt/none:/opt/b:/opt/a', platform: 'linux', isExecutable }),
    '/opt/b/nvidia-smi',
  );
  assert.equal(
    findExecutable('nvidia-smi', { pathEnv: '::.', platform: 'linux', isExecutable, extraDirs: ['/opt/a'] }),
    '/opt/a/nvidia-smi',
  );
  assert.equal(
    findExecutable('nvidia-smi', { pathEnv: '.;rel;\\NV;C:\\Q;"C:\\NV"', platform: 'win32', isExecutable }),
    'C:\\NV\\nvidia-smi.EXE',
  );
  assert.equal(findExecutable('nvidia-smi', { pathEnv: 'C:\\Q', platform: 'win32', isExecutable }), undefined);
  assert.equal(findExecutable('nvidia-smi', { pathEnv: undefined, platform: 'linux', isExecutable }), undefined);
});
