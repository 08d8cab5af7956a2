// scripts/stage-native.mjs: which files of the scorer's native packages a VSIX target gets. First on
// the repository's real onnxruntime-node and tokenizers for every target, then on small hand-made
// packages in a temp folder, each missing one thing, to see the build refuse rather than ship a
// VSIX that cannot score (the packaged VSIX itself is tested in test/protocol/vsixScoring.test.ts).
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';

interface StageNative {
  TARGETS: Record<string, { platform: string; arch: string; abi?: string }>;
  runtimeFiles(root: string, target: string, names?: string[]): Map<string, string>;
}
const root = join(__dirname, '..', '..');
const load = async (): Promise<StageNative> => (await import(pathToFileURL(join(root, 'scripts', 'stage-native.mjs')).href)) as StageNative;
const NATIVE = /\.(node|so(\.\d+)*|dylib|dll)$/;

test('every target gets its own binaries of both packages and nothing of another platform', async () => {
  const { TARGETS, runtimeFiles } = await load();
  for (const [name, t] of Object.entries(TARGETS)) {
    const files = [...runtimeFiles(root, name).keys()].map((f) => f.split('\\').join('/'));
    const natives = files.filter((f) => NATIVE.test(f));
    const suffix = [t.platform, t.arch, t.abi].filter(Boolean).join('-');
    assert.ok(natives.includes(`onnxruntime-node/bin/napi-v6/${t.platform}/${t.arch}/onnxruntime_binding.node`), `${name}: ${natives}`);
    assert.ok(natives.includes(`tokenizers/tokenizers.${suffix}.node`), `${name}: ${natives}`);
    for (const f of natives)
      assert.ok(f.includes(`/${t.platform}/${t.arch}/`) || f.endsWith(`.${suffix}.node`), `${name} would ship another platform's ${f}`);
    // The loaders' JS, and the package.json that makes onnxruntime-common's dist/cjs CommonJS.
    for (const f of [
      'onnxruntime-node/dist/binding.js',
      'onnxruntime-common/dist/cjs/index.js',
      'onnxruntime-common/dist/cjs/package.json',
    ])
      assert.ok(files.includes(f), `${name} misses ${f}`);
    assert.ok(!files.some((f) => f.endsWith('.map') || f.endsWith('.d.ts') || f.includes('/script/')), `${name} ships build leftovers`);
  }
});

test('darwin-x64, Alpine and the web have no runtime to stage: refused by name', async () => {
  const { runtimeFiles } = await load();
  for (const t of ['darwin-x64', 'alpine-x64', 'web'])
    assert.throws(() => runtimeFiles(root, t), new RegExp(`target ${t}: not one with a native scorer runtime`));
});

/** A temp "repository" whose node_modules holds the given files (path -> content). */
function fixture(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'fact-rlhf-stage-'));
  test.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, 'node_modules', rel)), { recursive: true });
    writeFileSync(join(dir, 'node_modules', rel), content);
  }
  return dir;
}
const manifest = (m: object): string => JSON.stringify({ name: 'addon', version: '1.0.0', main: 'index.js', ...m });

test("a loader's target addon is staged with its folder's shared libraries; other platforms' are not", async () => {
  const { runtimeFiles } = await load();
  const dir = fixture({
    'addon/package.json': manifest({ dependencies: { helper: '1' } }),
    'addon/index.js': [
      "try { module.exports = require('./addon.linux-x64-gnu.node') } catch {}",
      "try { module.exports = require('./addon.darwin-arm64.node') } catch {}",
      "try { module.exports = require('addon-linux-x64-gnu') } catch {}",
      "require('node:fs'); require('helper'); require(`./bin/${process.platform}/${process.arch}/x.node`)",
    ].join('\n'),
    'addon/addon.linux-x64-gnu.node': '',
    'addon/addon.darwin-arm64.node': '',
    'addon/bin/linux/x64/x.node': '',
    'addon/bin/linux/x64/libdep.so.1': '',
    'addon/bin/darwin/arm64/x.node': '',
    'addon/LICENSE': 'MIT',
    'helper/package.json': JSON.stringify({ name: 'helper', type: 'module', exports: { require: './cjs/main.js' } }),
    'helper/cjs/package.json': '{"type": "commonjs"}',
    'helper/cjs/main.js': "module.exports = require('./more')",
    'helper/cjs/more.js': '',
  });
  assert.deepEqual([...runtimeFiles(dir, 'linux-x64', ['addon']).keys()].map((f) => f.split('\\').join('/')).sort(), [
    'addon/LICENSE',
    'addon/addon.linux-x64-gnu.node',
    'addon/bin/linux/x64/libdep.so.1',
    'addon/bin/linux/x64/x.node',
    'addon/index.js',
    'addon/package.json',
    'helper/cjs/main.js',
    'helper/cjs/more.js',
    'helper/cjs/package.json',
    'helper/package.json',
  ]);
});

test('a missing required file, an undeclared dependency or no addon for the target fails, naming the file', async () => {
  const { runtimeFiles } = await load();
  let dir = fixture({ 'addon/package.json': manifest({}), 'addon/index.js': "require('./gone'); require('./a.linux-x64-gnu.node')" });
  assert.throws(() => runtimeFiles(dir, 'linux-x64', ['addon']), /addon[/\\]index\.js requires \.\/gone, which is missing/);

  dir = fixture({ 'addon/package.json': manifest({}), 'addon/index.js': "require('./a.linux-x64-gnu.node')" });
  assert.throws(() => runtimeFiles(dir, 'linux-x64', ['addon']), /requires \.\/a\.linux-x64-gnu\.node, which is missing/);

  dir = fixture({ 'addon/package.json': manifest({}), 'addon/index.js': "require('left-pad')" });
  assert.throws(() => runtimeFiles(dir, 'linux-x64', ['addon']), /requires left-pad, which addon's package\.json does not declare/);

  dir = fixture({
    'addon/package.json': manifest({}),
    'addon/index.js': "require('./a.win32-x64-msvc.node')",
    'addon/a.win32-x64-msvc.node': '',
  });
  assert.throws(() => runtimeFiles(dir, 'linux-x64', ['addon']), /addon: no native addon for linux-x64/);

  dir = fixture({ 'addon/package.json': manifest({ main: 'lib/main.js' }) });
  assert.throws(() => runtimeFiles(dir, 'linux-x64', ['addon']), /package\.json: its entry point lib\/main\.js is missing/);
  assert.throws(() => runtimeFiles(dir, 'linux-x64', ['absent']), /package absent is not installed/);
});
