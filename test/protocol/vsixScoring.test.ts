// Reward scoring works from the packaged extension alone (#12): the linux-x64 VSIX is unzipped
// outside the repository and its own dist/cli.js scores a tiny RM's export from a folder outside the
// repository with no NODE_PATH, so onnxruntime-node and tokenizers can only come from the VSIX's
// dist/node_modules. Its scores must be the sources' (src/cli/main.ts under tsx, which loads the
// packages from the repository's node_modules, all platforms installed) to the last bit.
//
// The VSIX is fact-rlhf-studio.vsix at the repository root when it is newer than everything it is
// built from; otherwise this test packages it (`node scripts/package.mjs`, what `npm run package` runs,
// ~15 s), which rebuilds dist/ for production as the editor tier does.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { py, root, trainTinyRm, writeSamples } from './tinyRm';

const vsix = join(root, 'fact-rlhf-studio.vsix');
const MAX_VSIX_BYTES = 80 * 2 ** 20;
/** Every native file the linux-x64 VSIX may hold: the scorer's runtime for that platform, nothing else. */
const NATIVE_ENTRY = /\.(node|so(\.\d+)*|dylib|dll|exe)$/;
const EXPECTED_NATIVE = [
  'extension/dist/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1',
  'extension/dist/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node',
  'extension/dist/node_modules/tokenizers/tokenizers.linux-x64-gnu.node',
];
/** What the VSIX is built from (scripts/package.mjs, .vscodeignore); a newer file means a stale VSIX. */
const INPUTS = ['src', 'language-server/src', 'webview', 'trainer/fact_rlhf', 'schema', 'media', 'examples', 'scripts'];
const INPUT_FILES = [
  'package.json',
  '.vscodeignore',
  'README.md',
  'node_modules/onnxruntime-node/package.json',
  'node_modules/onnxruntime-common/package.json',
  'node_modules/tokenizers/package.json',
];

const work = mkdtempSync(join(tmpdir(), 'fact-rlhf-vsix-'));
test.after(() => rmSync(work, { recursive: true, force: true }));
const onLinuxX64 = process.platform === 'linux' && process.arch === 'x64';

function newestInput(): { path: string; mtimeMs: number } {
  let newest = { path: '', mtimeMs: 0 };
  const visit = (path: string): void => {
    const st = statSync(path);
    if (st.isDirectory()) {
      for (const e of readdirSync(path)) if (!['__pycache__', 'runs', 'node_modules'].includes(e)) visit(join(path, e));
    } else if (st.mtimeMs > newest.mtimeMs) newest = { path, mtimeMs: st.mtimeMs };
  };
  for (const p of [...INPUTS, ...INPUT_FILES]) if (existsSync(join(root, p))) visit(join(root, p));
  return newest;
}

function packagedVsix(): string {
  const newest = newestInput();
  if (existsSync(vsix) && statSync(vsix).mtimeMs > newest.mtimeMs) {
    console.log(`reusing ${vsix} (newer than every input; newest ${newest.path})`);
    return vsix;
  }
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'package.mjs')], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, `npm run package failed:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /Packaged: fact-rlhf-studio\.vsix/);
  console.log(`packaged ${vsix} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return vsix;
}

function unzip(args: string[]): string {
  const r = spawnSync('unzip', args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, `unzip ${args.join(' ')} failed (is Debian's unzip installed?):\n${r.stderr}`);
  return r.stdout;
}

/** The CLI's `score --json` run with node from `cwd`, without NODE_PATH/NODE_OPTIONS to find packages elsewhere. */
function score(cliArgs: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env };
  delete env.NODE_PATH;
  delete env.NODE_OPTIONS;
  return spawnSync(process.execPath, cliArgs, { cwd, env, encoding: 'utf8', maxBuffer: 1 << 26 });
}

test(
  'the linux-x64 VSIX carries only its platform runtime, and its own CLI scores as the sources do',
  { skip: !onLinuxX64 && 'linux-x64 only' },
  () => {
    const file = packagedVsix();
    const size = statSync(file).size;
    console.log(`VSIX ${(size / 2 ** 20).toFixed(1)} MiB`);
    assert.ok(size < MAX_VSIX_BYTES, `the VSIX is ${size} bytes, over ${MAX_VSIX_BYTES}`);

    const entries = unzip(['-Z1', file]).trim().split('\n');
    assert.deepEqual(entries.filter((e) => NATIVE_ENTRY.test(e)).sort(), EXPECTED_NATIVE);
    const unpacked = join(work, 'unpacked');
    unzip(['-q', file, '-d', unpacked]);
    assert.match(readFileSync(join(unpacked, 'extension.vsixmanifest'), 'utf8'), /TargetPlatform="linux-x64"/);
    const dist = join(unpacked, 'extension', 'dist');

    const runDir = join(work, 'rm');
    trainTinyRm(runDir);
    const exportDir = join(runDir, 'onnx');
    py(['-m', 'fact_rlhf', 'export-rm-onnx', '--run-dir', runDir, '--out', exportDir]);
    const samples = writeSamples(runDir, 8);
    const args = ['score', '--rm', exportDir, '--samples', samples, '--json'];
    const outside = mkdtempSync(join(work, 'cwd-'));

    const packaged = score([join(dist, 'cli.js'), ...args], outside);
    assert.equal(packaged.status, 0, packaged.stderr);
    assert.match(packaged.stderr, /scored 16 records with and without facts: onnxruntime-node \(CPU\)/);
    const sources = score(['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), ...args], root);
    assert.equal(sources.status, 0, sources.stderr);
    assert.equal(packaged.stdout.trim().split('\n').length, 16);
    assert.deepEqual(
      packaged.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
      sources.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
    );

    // The control: without the VSIX's dist/node_modules the same run cannot find the runtime, so
    // nothing outside the unpacked extension supplied it above.
    renameSync(join(dist, 'node_modules'), join(dist, 'node_modules.off'));
    const bare = score([join(dist, 'cli.js'), ...args], outside);
    assert.notEqual(bare.status, 0);
    assert.match(bare.stderr, /Cannot find module 'onnxruntime-node'[\s\S]*extension\/dist\/scoring-worker\.js/);
  },
);
