// Stages the reward scorer's native runtime for ONE VS Code target into dist/node_modules, so a
// platform-specific VSIX carries it and dist/scoring-worker.js's require('onnxruntime-node') and
// require('tokenizers') resolve there (Node looks in dist/node_modules before any node_modules above).
//
//   node scripts/stage-native.mjs [--target linux-x64]     (default: this machine's target)
//
// Why a copy into dist/ and not a `!node_modules/...` line in .vscodeignore: `vsce package
// --no-dependencies` collects files with the repository's own node_modules/ excluded from its glob, so
// no .vscodeignore negation can bring them back; without --no-dependencies vsce ships the whole
// production tree (every platform's binaries, ~300 MB). dist/node_modules is an ordinary folder to it.
//
// The file list is derived, not written down: from each package's entry point (package.json
// `exports`/`main`), every require() its JS makes is followed — relative files, declared dependencies
// (onnxruntime-common), and the native addon the loader picks for the target (onnxruntime-node's
// binding.js names bin/napi-v6/${process.platform}/${process.arch}/onnxruntime_binding.node; tokenizers'
// napi-rs loader names ./tokenizers.<platform>-<arch>[-<abi>].node). Anything it requires that is
// missing fails the build, so a package update that moves a file cannot ship a VSIX that cannot score.
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** The packages esbuild leaves external (scripts/build.mjs) because they load native .node files. */
export const RUNTIME_PACKAGES = ['onnxruntime-node', 'tokenizers'];

/**
 * VS Code targets whose binaries these packages ship, as Node names them: `platform`/`arch` are
 * process.platform/process.arch; `abi` is napi-rs's suffix. Alpine (musl), armhf and
 * darwin-x64 are left out: onnxruntime-node (1.30) ships no binary for them.
 */
export const TARGETS = {
  'linux-x64': { platform: 'linux', arch: 'x64', abi: 'gnu' },
  'linux-arm64': { platform: 'linux', arch: 'arm64', abi: 'gnu' },
  'darwin-arm64': { platform: 'darwin', arch: 'arm64' },
  'win32-x64': { platform: 'win32', arch: 'x64', abi: 'msvc' },
  'win32-arm64': { platform: 'win32', arch: 'arm64', abi: 'msvc' },
};

/** Shared libraries an addon links by its own folder ($ORIGIN, @loader_path, the DLL search path): no require() names them. */
const SHARED_LIBRARY = /\.(so(\.\d+)*|dylib|dll)$/;

export class StageError extends Error {}

/** This machine's VS Code target (what `vsce package` should build when none is given). */
export function hostTarget() {
  const found = Object.entries(TARGETS).find(([, t]) => t.platform === process.platform && t.arch === process.arch);
  if (!found) throw new StageError(`no VS Code target with a native scorer runtime for ${process.platform}-${process.arch}`);
  return found[0];
}

/** The folder of an installed package, looked up as Node would from `fromDir` (works when `exports` hides package.json). */
function packageDir(name, fromDir) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) throw new StageError(`package ${name} is not installed (looked up from ${fromDir}): run npm ci`);
  }
}

/** A require() target as Node completes it: the file, +.js, +.json, or a folder's package.json main / index.js. */
function completeFile(path) {
  if (existsSync(path) && statSync(path).isFile()) return path;
  for (const ext of ['.js', '.json', '.node']) if (existsSync(path + ext)) return path + ext;
  if (existsSync(path) && statSync(path).isDirectory()) {
    const pkg = join(path, 'package.json');
    const main = existsSync(pkg) ? JSON.parse(readFileSync(pkg, 'utf8')).main : undefined;
    return completeFile(join(path, main ?? 'index.js'));
  }
  return undefined;
}

/** The CommonJS entry of a package: `exports` (its require condition), else `main`, else index.js. */
function entryPoint(dir, manifest) {
  let entry = manifest.exports;
  if (entry && typeof entry === 'object' && '.' in entry) entry = entry['.'];
  while (entry && typeof entry === 'object') entry = entry.require ?? entry.node ?? entry.default;
  const file = completeFile(join(dir, typeof entry === 'string' ? entry : (manifest.main ?? 'index.js')));
  if (!file) throw new StageError(`${join(dir, 'package.json')}: its entry point ${entry ?? manifest.main ?? 'index.js'} is missing`);
  return file;
}

/** The specifiers of a file's require() calls; a template literal counts when it only uses process.platform/arch. */
function requiresOf(file, source, target) {
  const found = [];
  for (const m of source.matchAll(/\brequire\(\s*(['"])([^'"\n]+)\1\s*\)/g)) found.push(m[2]);
  for (const m of source.matchAll(/\brequire\(\s*`([^`\n]+)`\s*\)/g)) {
    const spec = m[1].replaceAll('${process.platform}', target.platform).replaceAll('${process.arch}', target.arch);
    if (spec.includes('${'))
      throw new StageError(`${file}: cannot tell which file require(\`${m[1]}\`) loads on ${target.platform}-${target.arch}`);
    found.push(spec);
  }
  return found;
}

/**
 * Every file of `names` (and their dependencies) that the scorer loads on `targetName`:
 * a map from the path relative to node_modules to the source file.
 */
export function runtimeFiles(root, targetName, names = RUNTIME_PACKAGES) {
  const target = TARGETS[targetName];
  if (!target) throw new StageError(`target ${targetName}: not one with a native scorer runtime (${Object.keys(TARGETS).join(', ')})`);
  const napiSuffix = [target.platform, target.arch, target.abi].filter(Boolean).join('-');
  const files = new Map();
  const natives = new Map(); // package name -> native addons staged for it
  const queue = names.map((name) => ({ name, from: root }));
  const visited = new Set();

  while (queue.length) {
    const { name, from } = queue.shift();
    const dir = packageDir(name, from);
    if (visited.has(dir)) continue;
    visited.add(dir);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const declared = { ...manifest.optionalDependencies, ...manifest.dependencies };
    natives.set(name, natives.get(name) ?? []);
    const add = (file) => {
      const rel = relative(dir, file);
      if (rel.startsWith('..')) throw new StageError(`${file} is outside package ${name}`);
      files.set(join(name, rel), file);
      // The package.json files between a file and its package's root say how Node reads it (e.g.
      // onnxruntime-common's dist/cjs/package.json {"type": "commonjs"} under a "type": "module" root).
      for (let d = dirname(file); d.startsWith(dir); d = dirname(d)) {
        if (existsSync(join(d, 'package.json'))) files.set(join(name, relative(dir, d), 'package.json'), join(d, 'package.json'));
        if (d === dir) break;
      }
    };
    // Redistributed as they are: their licences travel with them.
    for (const f of readdirSync(dir)) if (/^(license|licence|notice|third.party)/i.test(f)) add(join(dir, f));

    const pending = [entryPoint(dir, manifest)];
    const seen = new Set();
    while (pending.length) {
      const file = pending.pop();
      if (seen.has(file)) continue;
      seen.add(file);
      add(file);
      if (file.endsWith('.node')) {
        natives.get(name).push(file);
        for (const f of readdirSync(dirname(file))) if (SHARED_LIBRARY.test(f)) add(join(dirname(file), f));
        continue;
      }
      if (!file.endsWith('.js')) continue;
      for (const spec of requiresOf(file, readFileSync(file, 'utf8'), target)) {
        if (isBuiltin(spec)) continue;
        if (spec.startsWith('.')) {
          const path = resolve(dirname(file), spec);
          // A loader names every platform's addon and tries them in turn; only the target's is shipped.
          if (
            spec.endsWith('.node') &&
            !basename(spec).endsWith(`.${napiSuffix}.node`) &&
            !spec.includes(`/${target.platform}/${target.arch}/`)
          )
            continue;
          // napi-rs's WebAssembly fallback, tried only when no native addon loads; it is not published.
          if (spec.endsWith('.wasi.cjs')) continue;
          const resolved = completeFile(path);
          if (!resolved) throw new StageError(`${file} requires ${spec}, which is missing (${path}): reinstall ${name} (npm ci)`);
          pending.push(resolved);
          continue;
        }
        const dep = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        if (dep === name) continue;
        if (dep in declared) {
          // napi-rs packages may put each platform's addon in an optional package of its own.
          if (manifest.optionalDependencies?.[dep] && !dep.endsWith(`-${napiSuffix}`)) continue;
          // A dependency is staged from its entry point (and its package.json, always); a deeper file is not followed.
          const subpath = spec.slice(dep.length + 1);
          if (subpath && subpath !== 'package.json')
            throw new StageError(
              `${file} requires ${spec}: staging follows a dependency from its entry point only; extend scripts/stage-native.mjs`,
            );
          queue.push({ name: dep, from: dir });
        } else if (!dep.startsWith(`${name}-`)) {
          // `${name}-<platform>` is napi-rs's fallback package, tried (in a try) after the local addon.
          throw new StageError(`${file} requires ${spec}, which ${name}'s package.json does not declare`);
        }
      }
    }
  }
  for (const name of names)
    if (!natives.get(name)?.length)
      throw new StageError(
        `${name}: no native addon for ${targetName} (looked for *.${napiSuffix}.node and ${target.platform}/${target.arch}/)`,
      );
  return files;
}

/** Replaces `outDir` (default dist/node_modules) with the target's runtime files; returns their count and bytes. */
export function stageNative(root, targetName, outDir = join(root, 'dist', 'node_modules')) {
  const files = runtimeFiles(root, targetName);
  rmSync(outDir, { recursive: true, force: true });
  let bytes = 0;
  for (const [rel, src] of [...files].sort()) {
    const dest = join(outDir, rel);
    mkdirSync(dirname(dest), { recursive: true });
    copyFileSync(src, dest);
    bytes += statSync(src).size;
  }
  return { files: [...files.keys()].sort().map((f) => f.split(sep).join('/')), bytes };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  try {
    const { values } = parseArgs({ options: { target: { type: 'string' } } });
    const target = values.target ?? hostTarget();
    const { files, bytes } = stageNative(root, target);
    console.log(`staged the scorer's ${target} runtime: ${files.length} files, ${(bytes / 2 ** 20).toFixed(1)} MiB in dist/node_modules`);
  } catch (err) {
    console.error(`stage-native: error: ${err.message}`);
    process.exit(1);
  }
}
