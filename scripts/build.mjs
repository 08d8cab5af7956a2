// Bundles every part with esbuild: the extension host, the CLI, the language server (Node, CJS)
// and each webview app (browser IIFE, plus its stylesheet). onnxruntime-node and tokenizers stay external: they load native .node files
// (the VSIX carries them in dist/node_modules: scripts/stage-native.mjs).
import * as esbuild from 'esbuild';
import { rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RUNTIME_PACKAGES } from './stage-native.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const common = {
  bundle: true,
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  absWorkingDir: root,
};

const node = {
  ...common,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['vscode', ...RUNTIME_PACKAGES],
};

const allBuilds = [
  { ...node, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js' },
  { ...node, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
  // The reward scorer's worker thread, beside the bundles that start it (dist/cli.js, dist/extension.js).
  { ...node, entryPoints: ['src/scoring/worker.ts'], outfile: 'dist/scoring-worker.js' },
  { ...node, entryPoints: ['language-server/src/server.ts'], outfile: 'dist/language-server.js' },
  { ...node, entryPoints: ['test/editor/suite/index.ts'], outfile: 'dist/test/editor/suite/index.js', external: ['vscode', 'mocha'] },
  // The Restricted Mode suite (runner --restricted): its own entry, run in an untrusted window.
  {
    ...node,
    entryPoints: ['test/editor/suite/restricted.ts'],
    outfile: 'dist/test/editor/suite/restricted.js',
    external: ['vscode', 'mocha'],
  },
  {
    ...common,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    entryPoints: ['webview/reward-traces/main.ts'],
    outfile: 'dist/webview/reward-traces.js',
  },
  {
    ...common,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    entryPoints: ['webview/sample-inspector/main.ts'],
    outfile: 'dist/webview/sample-inspector.js',
  },
  {
    ...common,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    entryPoints: ['webview/experiment-form/main.ts'],
    outfile: 'dist/webview/experiment-form.js',
  },
  // Each app's stylesheet lives beside the app and is served from dist/webview: copied byte for byte
  // (the `copy` loader), which also keeps it current in watch mode.
  {
    ...common,
    sourcemap: false,
    minify: false,
    loader: { '.css': 'copy' },
    entryPoints: ['webview/reward-traces/reward-traces.css'],
    outfile: 'dist/webview/reward-traces.css',
  },
  {
    ...common,
    sourcemap: false,
    minify: false,
    loader: { '.css': 'copy' },
    entryPoints: ['webview/sample-inspector/sample-inspector.css'],
    outfile: 'dist/webview/sample-inspector.css',
  },
  {
    ...common,
    sourcemap: false,
    minify: false,
    loader: { '.css': 'copy' },
    entryPoints: ['webview/experiment-form/experiment-form.css'],
    outfile: 'dist/webview/experiment-form.css',
  },
];

// `--only a,b` builds the bundles whose entry path contains a or b (e.g. --only language-server).
const onlyArg = process.argv.find((a) => a.startsWith('--only='));
const only = onlyArg ? onlyArg.slice('--only='.length).split(',') : null;
const builds = only ? allBuilds.filter((b) => only.some((o) => b.entryPoints[0].includes(o))) : allBuilds;

// A full build drops the runtime `npm run package` staged for the VSIX: the bundles built here load
// onnxruntime-node and tokenizers from the repository's node_modules, never a copy older than npm ci's.
if (!only) rmSync(join(root, 'dist', 'node_modules'), { recursive: true, force: true });

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
  console.log('watching...');
} else {
  const t0 = Date.now();
  await Promise.all(builds.map((b) => esbuild.build(b)));
  console.log(`built ${builds.length} bundles in ${Date.now() - t0} ms`);
}
