// What the config engine shows about the user's environment and where it lets keys go (issue 16):
// `${VAR}` values never appear in diagnostics or hovers (the Problems panel, CI logs), only their
// names; `eval.judge.base_url` is checked as the trainer's judge client treats it (no key to a URL
// the environment does not name, no plain http off loopback).
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { analyze, createNodeHost, hover } from '../../language-server/src/engine/index';
import { isLoopbackUrl, sameEndpoint } from '../../language-server/src/engine/judgeRules';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fact-rlhf-secrets-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const FILE = path.join(tmp, 'exp.rlhf.yaml');
const SECRET = 'sk-live-7f3a9c0ffee';

test('a ${VAR} path that does not exist: the message names the variable, never its value', () => {
  const env = { HF_TOKEN: SECRET, DATA_ROOT: `/srv/${SECRET}` };
  const text = 'data:\n  sft: ${HF_TOKEN}/sft.json\n  ppo_prompts: $DATA_ROOT/prompts.jsonl\n  preference: sub/${HF_TOKEN}.json\n';
  const a = analyze(text, FILE, createNodeHost({ env }));
  const missing = a.diagnostics.filter((d) => d.code === 'path-not-found');
  assert.equal(missing.length, 3, JSON.stringify(a.diagnostics));
  for (const d of a.diagnostics) assert.ok(!d.message.includes(SECRET), d.message);
  assert.match(missing[0].message, /resolved to \$\{HF_TOKEN\}\/sft\.json\)/);
  assert.match(missing[2].message, new RegExp(`resolved to ${path.join(tmp, 'sub').replace(/[/\\]/g, '.')}.\\$\\{HF_TOKEN\\}\\.json\\)`));
  const h = hover(a, text.indexOf('${HF_TOKEN}/sft'));
  assert.ok(h && !h.markdown.includes(SECRET), h?.markdown);
  // Paths without variables still show where they resolved to.
  const plain = analyze('data:\n  sft: nope.json\n', FILE, createNodeHost({ env }));
  assert.match(
    plain.diagnostics.find((d) => d.code === 'path-not-found')?.message ?? '',
    new RegExp(`resolved to ${path.join(tmp, 'nope.json').replace(/[/\\]/g, '.')}\\)`),
  );
});

test('extends through a ${VAR}: a missing parent is named by the variable', () => {
  const a = analyze(
    'extends: ${SECRET_DIR}/base.rlhf.yaml\ndata:\n  builtin: shapes\n',
    FILE,
    createNodeHost({ env: { SECRET_DIR: `/x/${SECRET}` } }),
  );
  const d = a.diagnostics.find((x) => x.code === 'extends-not-found');
  assert.ok(d);
  assert.ok(!d.message.includes(SECRET), d.message);
  assert.match(d.message, /looked for \$\{SECRET_DIR\}\/base\.rlhf\.yaml/);
});

const JUDGE = (url: string, extra = ''): string => `data:\n  builtin: shapes\neval:\n  judge:\n    base_url: ${url}\n${extra}`;

function judgeCodes(text: string, env: Record<string, string>): Array<{ code: string; severity: string; line: number }> {
  return analyze(text, FILE, createNodeHost({ env }))
    .diagnostics.filter((d) => d.code.startsWith('judge'))
    .map((d) => ({ code: d.code, severity: d.severity, line: d.line }));
}

test('eval.judge.base_url: a URL the environment does not name gets no key, said at its line', () => {
  const env = { OPENAI_API_KEY: SECRET };
  assert.deepEqual(judgeCodes(JUDGE('https://judge.example.com/v1'), env), [{ code: 'judge-key-withheld', severity: 'warning', line: 5 }]);
  const [w] = analyze(JUDGE('https://judge.example.com/v1'), FILE, createNodeHost({ env })).diagnostics.filter(
    (d) => d.code === 'judge-key-withheld',
  );
  assert.match(w.message, /FACT_RLHF_JUDGE_BASE_URL/);
  assert.ok(!w.message.includes(SECRET));
  // Named by the environment (either variable), or OpenAI's own default: no warning.
  assert.deepEqual(
    judgeCodes(JUDGE('https://Judge.example.com/v1/'), { ...env, FACT_RLHF_JUDGE_BASE_URL: 'https://judge.example.com/v1' }),
    [],
  );
  assert.deepEqual(judgeCodes(JUDGE('https://judge.example.com:443/v1'), { ...env, OPENAI_BASE_URL: 'https://judge.example.com/v1' }), []);
  assert.deepEqual(judgeCodes(JUDGE('https://api.openai.com/v1'), env), []);
  // The config brings its own key for its own URL: nothing withheld.
  assert.deepEqual(judgeCodes(JUDGE('https://judge.example.com/v1', '    api_key: sk-cfg\n'), env), []);
});

test('eval.judge.base_url: plain http is an error except on loopback', () => {
  assert.deepEqual(judgeCodes(JUDGE('http://judge.example.com/v1'), {}), [{ code: 'judge-insecure', severity: 'error', line: 5 }]);
  assert.deepEqual(
    judgeCodes(JUDGE('http://127.0.0.1.evil.com/v1'), {}).map((d) => d.code),
    ['judge-insecure'],
  );
  assert.deepEqual(judgeCodes(JUDGE('http://localhost:8000/v1'), { OPENAI_BASE_URL: 'http://localhost:8000/v1' }), []);
  assert.deepEqual(
    judgeCodes(JUDGE('judge.example.com'), {}).map((d) => d.code),
    ['judge-url'],
  );
  for (const u of ['http://localhost:1', 'http://127.0.0.1', 'http://[::1]:80/v1', 'http://a.localhost']) assert.ok(isLoopbackUrl(u), u);
  for (const u of ['http://10.0.0.1', 'http://localhost.evil.com', 'http://[::2]']) assert.ok(!isLoopbackUrl(u), u);
  assert.ok(sameEndpoint('HTTPS://X.org/v1/', 'https://x.org:443/v1'));
  assert.ok(!sameEndpoint('https://x.org/v1', 'https://x.org/v2'));
});
