// `npm run package [-- --target <vscode-target>]`: a platform-specific VSIX, fact-rlhf-studio.vsix.
// Production bundles, then the reward scorer's native runtime for the target (scripts/stage-native.mjs),
// then `vsce package --target`, which stamps the target into the manifest so VS Code installs the
// package only on that platform. The default target is this machine's (linux-x64 in CI); the others
// need their binaries in node_modules, which onnxruntime-node and tokenizers install for every platform.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { hostTarget, stageNative } from './stage-native.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: opts } = parseArgs({ options: { target: { type: 'string' }, out: { type: 'string', default: 'fact-rlhf-studio.vsix' } } });

function run(args) {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`package: error: ${args.slice(0, 2).join(' ')} failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}

try {
  const target = opts.target ?? hostTarget();
  // From an empty dist/: a development build's leftovers (source maps under dist/webview) are not shipped.
  rmSync(join(root, 'dist'), { recursive: true, force: true });
  run([join(root, 'scripts/build.mjs'), '--production']);
  const { files, bytes } = stageNative(root, target);
  console.log(`staged the scorer's ${target} runtime: ${files.length} files, ${(bytes / 2 ** 20).toFixed(1)} MiB in dist/node_modules`);
  const vsce = createRequire(import.meta.url).resolve('@vscode/vsce/vsce');
  // --no-dependencies: everything the extension runs is bundled in dist/, the native runtime included.
  run([vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--target', target, '-o', opts.out]);
} catch (err) {
  console.error(`package: error: ${err.message}`);
  process.exit(1);
}
