#!/usr/bin/env node
// Editor-tier tests: runs the extension's ordinary Mocha suite (dist/test/editor/suite/index.js)
// inside a real VS Code build — code-server's server + workbench in headless Chromium — offline.
//
//   node test/editor/runner.mjs [--grep <regexp>] [--timeout-ms <n>] [--keep] [--vsix <file> | --dev] [--restricted]
//
// By default it tests what a user installs: `npm run package` builds the VSIX, `code-server
// --install-extension` installs it into a fresh extensions folder, and the suite runs against that
// installed copy. `--vsix <file>` installs a VSIX built elsewhere; `--dev` loads the development
// folder instead (quicker while editing, but it can hide files missing from the package).
//
// `--restricted` runs the Restricted Mode suite (dist/test/editor/suite/restricted.js) with Workspace
// Trust ON and the test workspace untrusted (a fresh user-data-dir trusts no folder); its results go
// to test-results/editor-restricted-results.json (+ editor-restricted-*.log). The ordinary run turns
// Workspace Trust off, so that every other test may launch training.
//
// Needs `npm ci`, `bash scripts/setup-code-server.sh` and `npm run build` first. Prints Mocha's
// output, writes test-results/editor-results.json (+ editor-console.log, editor-server.log) and
// exits with the number of failed tests (1 when the suite could not run at all). Everything it
// starts (code-server and its helpers, the extension host, trainer processes, Chromium) is killed
// on exit, on Ctrl-C and on the hard timeout.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const NODE_VERSION = '24.21.0'; // keep in step with scripts/setup-code-server.sh
// Keep in step with test/editor/suite/report.ts: the suite tags its lines so they can be told apart
// from the workbench's own log, through which the extension host's console arrives.
const OUTPUT_MARKER = '@@fact-rlhf-editor-out@@';
const RESULT_MARKER = '@@fact-rlhf-editor-result@@';
const RUN_MARKER_VAR = 'FACT_RLHF_EDITOR_RUN';

const { values: opts } = parseArgs({
  options: {
    grep: { type: 'string' },
    'timeout-ms': { type: 'string', default: process.env.FACT_RLHF_EDITOR_TIMEOUT_MS ?? '600000' },
    keep: { type: 'boolean', default: false },
    vsix: { type: 'string' },
    dev: { type: 'boolean', default: false },
    restricted: { type: 'boolean', default: false },
    // The defaults are this repository's extension and suite; the options exist to try the runner on
    // another extension.
    'extension-path': { type: 'string', default: ROOT },
    'tests-path': { type: 'string' },
    workspace: { type: 'string', default: join(ROOT, 'test/editor/workspace') },
    results: { type: 'string' },
  },
});
/** Prefix of the result and log files, so a Restricted Mode run keeps the ordinary run's files. */
const outputName = opts.restricted ? 'editor-restricted' : 'editor';
const defaultSuite = opts.restricted ? 'dist/test/editor/suite/restricted.js' : 'dist/test/editor/suite/index.js';
const hardTimeoutMs = Number(opts['timeout-ms']);
if (!Number.isFinite(hardTimeoutMs) || hardTimeoutMs <= 0) fatal(`--timeout-ms must be a positive number, got "${opts['timeout-ms']}"`);
if (opts.dev && opts.vsix) fatal('--dev and --vsix exclude each other');

const paths = {
  node: join(ROOT, `.tools/node-v${NODE_VERSION}/bin/node`),
  codeServer: join(ROOT, 'tools/code-server/node_modules/code-server/out/node/entry.js'),
  chromium: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  python: process.env.FACT_RLHF_PYTHON ?? join(ROOT, '.venv/bin/python'),
  extension: resolve(opts['extension-path']),
  tests: resolve(opts['tests-path'] ?? join(ROOT, defaultSuite)),
  workspace: resolve(opts.workspace),
  results: resolve(opts.results ?? join(ROOT, `test-results/${outputName}-results.json`)),
};
const resultsDir = dirname(paths.results);
const runId = randomUUID();
const scratch = join(ROOT, '.test-work/editor', `${Date.now()}-${process.pid}`);

/** Everything to undo on exit, in order. */
const state = { server: undefined, browser: undefined, cleaning: undefined, serverLog: undefined, extensionFrom: undefined };
const started = Date.now();
const records = [];
/** The last error lines of the workbench log, shown when the suite could not report. */
const recentErrors = [];
/** Errors an offline workbench always logs (gallery, GitHub sign-in, missing optional assets). */
const OFFLINE_NOISE = /open-vsx\.org|ERR_NAME_NOT_RESOLVED|authentication provider 'github'|status of 404|^\s*Canceled/;
let endRecord;

function displayPath(p) {
  const rel = relative(process.cwd(), p);
  return rel && !rel.startsWith('..') ? rel : p;
}

function fatal(message) {
  console.error(`editor tests: error: ${message}`);
  process.exit(1);
}

function checkPrerequisites() {
  const missing = [
    [paths.node, 'Node 24 for code-server: run `bash scripts/setup-code-server.sh`'],
    [paths.codeServer, 'code-server: run `bash scripts/setup-code-server.sh`'],
    [join(paths.extension, 'package.json'), 'the extension manifest (--extension-path)'],
    [paths.tests, 'the built test suite: run `npm run build`'],
    [paths.workspace, 'the test workspace folder (--workspace)'],
    [paths.chromium, 'Chromium: `apt-get install -y --no-install-recommends chromium`, or set CHROMIUM_PATH'],
  ].filter(([p]) => !existsSync(p));
  if (missing.length) fatal(`missing:\n${missing.map(([p, why]) => `  ${p}  (${why})`).join('\n')}`);
  const main = JSON.parse(readFileSync(join(paths.extension, 'package.json'), 'utf8')).main;
  if (main && !existsSync(resolve(paths.extension, main)) && !existsSync(resolve(paths.extension, `${main}.js`))) {
    fatal(`the extension's main ${resolve(paths.extension, main)} is missing: run \`npm run build\``);
  }
  if (!existsSync(paths.python))
    console.warn(`editor tests: warning: ${paths.python} is missing; runs will fail (bash scripts/setup-python.sh)`);
}

/**
 * Copies the workspace into the scratch folder so runs, settings and edits never touch the repo.
 * A workspace inside the repo keeps its path relative to the repo, next to a copy of examples/,
 * so its configs can `extends: ../../../examples/…` exactly as they do in the repo.
 */
function prepareWorkspace() {
  const mirror = join(scratch, 'mirror');
  const rel = relative(ROOT, paths.workspace);
  const inRepo = rel !== '' && !rel.startsWith('..') && !rel.startsWith(sep);
  const workspace = inRepo ? join(mirror, rel) : join(mirror, 'workspace');
  const skip = (src) => !/(^|[/\\])(runs|node_modules|\.vscode)$/.test(src);
  cpSync(paths.workspace, workspace, { recursive: true, filter: skip });
  if (inRepo && existsSync(join(ROOT, 'examples')))
    cpSync(join(ROOT, 'examples'), join(mirror, 'examples'), { recursive: true, filter: skip });
  return workspace;
}

function writeSettings(workspace) {
  const userDataDir = join(scratch, 'user-data');
  const python = { 'factRlhf.pythonPath': paths.python };
  // A quiet, offline, deterministic workbench.
  const user = {
    ...python,
    // Restricted Mode: trust on, no start-up dialog (it would wait for a click), the folder untrusted.
    ...(opts.restricted
      ? { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never' }
      : { 'security.workspace.trust.enabled': false }),
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'git.enabled': false,
    'chat.disableAIFeatures': true,
  };
  const write = (file, obj) => {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(obj, null, 2)}\n`);
  };
  write(join(userDataDir, 'User/settings.json'), user);
  // The interpreter setting is machine-overridable: the server's Machine settings and the workspace
  // both carry it, so it applies whichever scope VS Code reads in a remote window.
  write(join(userDataDir, 'Machine/settings.json'), python);
  write(join(workspace, '.vscode/settings.json'), python);
  return userDataDir;
}

/** Failed runs keep their scratch folder for a post-mortem; only the two newest are kept. */
function pruneScratch() {
  const parent = dirname(scratch);
  if (!existsSync(parent)) return;
  const old = readdirSync(parent)
    .filter((d) => /^\d+-\d+$/.test(d))
    .sort((a, b) => Number(b.split('-')[0]) - Number(a.split('-')[0]));
  for (const d of old.slice(2)) rmSync(join(parent, d), { recursive: true, force: true });
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolvePort(port));
    });
  });
}

function serverEnv(home) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    // A parent VS Code's variables would make code-server talk to it; NODE_OPTIONS (e.g. tsx) would
    // leak into every Node it starts.
    if (k.startsWith('VSCODE_') || k === 'ELECTRON_RUN_AS_NODE' || k === 'NODE_OPTIONS') continue;
    env[k] = v;
  }
  return {
    ...env,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local/share'),
    XDG_CACHE_HOME: join(home, '.cache'),
    PATH: `${dirname(paths.node)}:${process.env.PATH ?? ''}`,
    // Inherited by every process below code-server, so the cleanup can find stragglers.
    [RUN_MARKER_VAR]: runId,
    // The extension host inherits these: tagged output for this runner, and an optional test filter.
    FACT_RLHF_EDITOR_RUNNER: '1',
    ...(opts.grep ? { FACT_RLHF_EDITOR_GREP: opts.grep } : {}),
  };
}

async function startServer(port, userDataDir) {
  const home = join(scratch, 'home');
  mkdirSync(home, { recursive: true });
  const configFile = join(scratch, 'code-server.yaml');
  writeFileSync(configFile, 'auth: none\n');
  const args = [
    paths.codeServer,
    '--config',
    configFile,
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--user-data-dir',
    userDataDir,
    '--extensions-dir',
    join(scratch, 'extensions'),
    '--disable-telemetry',
    '--disable-update-check',
    // The flag wins over the setting: a Restricted Mode run must leave it out.
    ...(opts.restricted ? [] : ['--disable-workspace-trust']),
    '--disable-getting-started-override',
    '--ignore-last-opened',
    // Without it the workbench ignores the test payload in the URL.
    '--vscode-option',
    'enable-smoke-test-driver',
  ];
  state.serverLog = createWriteStream(join(resultsDir, `${outputName}-server.log`));
  // Its own process group, so one signal reaches code-server and every helper it starts.
  const server = spawn(paths.node, args, { cwd: scratch, env: serverEnv(home), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  state.server = server;
  server.stdout.pipe(state.serverLog, { end: false });
  server.stderr.pipe(state.serverLog, { end: false });
  let exited = false;
  server.on('exit', (code, signal) => {
    exited = true;
    if (!state.cleaning)
      console.error(
        `editor tests: code-server exited early (code ${code}, signal ${signal}); see ${join(resultsDir, `${outputName}-server.log`)}`,
      );
  });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (exited) throw new Error('code-server exited before it was ready');
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('code-server did not answer /healthz within 60 s');
}

/** The VSIX to install: the one given, or a fresh `npm run package` of the extension folder. */
async function packageExtension() {
  if (opts.vsix) {
    const vsix = resolve(opts.vsix);
    if (!existsSync(vsix)) throw new Error(`--vsix ${vsix} does not exist`);
    return vsix;
  }
  const t0 = Date.now();
  // Exactly what the README tells a user to run, so a packaging break fails this tier.
  const { code, output } = await runQuiet('npm', ['run', 'package'], { cwd: paths.extension, env: process.env });
  if (code !== 0) throw new Error(`npm run package failed (exit ${code}):\n${output.trim().split('\n').slice(-15).join('\n')}`);
  const named = /Packaged: (\S+\.vsix)/.exec(output);
  const vsix = resolve(paths.extension, named ? named[1] : 'fact-rlhf-studio.vsix');
  if (!existsSync(vsix)) throw new Error(`npm run package reported no VSIX (looked for ${vsix})`);
  console.log(`editor tests: packaged ${displayPath(vsix)} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return vsix;
}

/** Installs the VSIX as a user would (`code-server --install-extension`); returns the installed folder. */
async function installVsix(vsix, userDataDir) {
  const extensionsDir = join(scratch, 'extensions');
  const home = join(scratch, 'home');
  mkdirSync(home, { recursive: true });
  const args = [paths.codeServer, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, '--install-extension', vsix];
  const { code, output } = await runQuiet(paths.node, args, { cwd: scratch, env: serverEnv(home) });
  if (code !== 0) throw new Error(`code-server --install-extension failed (exit ${code}):\n${output.trim()}`);
  // The only extension in this fresh folder is ours (publisher.name-version).
  const installed = readdirSync(extensionsDir, { withFileTypes: true }).filter(
    (d) => d.isDirectory() && existsSync(join(extensionsDir, d.name, 'package.json')),
  );
  if (installed.length !== 1)
    throw new Error(`expected one installed extension in ${extensionsDir}, found ${installed.map((d) => d.name).join(', ') || 'none'}`);
  return join(extensionsDir, installed[0].name);
}

/** Runs a command to completion, collecting stdout and stderr together. */
function runQuiet(command, args, options) {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => resolveRun({ code, output }));
  });
}

/** The workbench names its remote authority in a meta tag; test payload URIs must carry it. */
async function remoteAuthority(baseUrl) {
  const html = await (await fetch(baseUrl)).text();
  const tag = /<meta[^>]*id="vscode-workbench-web-configuration"[^>]*data-settings="([^"]*)"/.exec(html);
  if (!tag) throw new Error(`no vscode-workbench-web-configuration meta tag at ${baseUrl}`);
  const json = tag[1]
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
  const authority = JSON.parse(json).remoteAuthority;
  if (typeof authority !== 'string' || !authority) throw new Error('the workbench configuration has no remoteAuthority');
  return authority;
}

/**
 * Workbench log lines arrive as ['%c INFO', 'color: #33f', fmt, ...args]: drop the styled level,
 * then format the rest as Node's console would.
 */
function formatConsole(values) {
  let level = '';
  let rest = values;
  const styled = typeof values[0] === 'string' ? /^%c\s*([A-Z]*)\s*$/.exec(values[0]) : null;
  if (styled) {
    level = styled[1];
    rest = values.slice(1);
    if (typeof rest[0] === 'string' && /^\s*(color|font|background)[\w-]*\s*:/.test(rest[0])) rest = rest.slice(1);
  }
  return { level, text: format(...rest) };
}

/** Handles the suite's tagged lines; false for any other line. */
function onSuiteLine(text) {
  if (text.startsWith(OUTPUT_MARKER)) {
    process.stdout.write(`${text.slice(OUTPUT_MARKER.length)}\n`);
    return true;
  }
  if (!text.startsWith(RESULT_MARKER)) return false;
  try {
    const record = JSON.parse(text.slice(RESULT_MARKER.length));
    if (record.event === 'end') endRecord = record;
    else records.push(record);
  } catch (err) {
    console.error(`editor tests: unreadable result line (${err.message}): ${text.slice(0, 200)}`);
  }
  return true;
}

async function runWorkbench(baseUrl, workspace, extensionPath) {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: paths.chromium,
    headless: true,
    // This runner owns signal handling and kills the browser itself.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
  state.browser = browser;
  const page = await browser.newPage();
  const consoleLog = createWriteStream(join(resultsDir, `${outputName}-console.log`));
  // Handles resolve asynchronously; a queue keeps the printed order.
  let queue = Promise.resolve();
  page.on('console', (msg) => {
    queue = queue.then(async () => {
      const values = await Promise.all(msg.args().map((a) => a.jsonValue().catch(() => a.toString())));
      const { level, text } = values.length ? formatConsole(values) : { level: '', text: msg.text() };
      if (onSuiteLine(text)) return;
      const line = `${msg.type()}${level ? ` ${level}` : ''}: ${text}`;
      consoleLog.write(`${line}\n`);
      if (msg.type() === 'error' && !OFFLINE_NOISE.test(text)) {
        recentErrors.push(line.split('\n').slice(0, 8).join('\n'));
        recentErrors.splice(0, recentErrors.length - 6);
      }
    });
  });
  page.on('pageerror', (err) => consoleLog.write(`[page error] ${err.stack ?? err.message}\n`));

  let resolveExit;
  const exitCode = new Promise((r) => {
    resolveExit = r;
  });
  // The workbench calls this with the extension host's exit code when the suite is done.
  await page.exposeFunction('codeAutomationExit', (code) => resolveExit(Number(code)));
  const authority = await remoteAuthority(baseUrl);
  const remote = (p) => `vscode-remote://${authority}${p}`;
  const payload = [
    ['extensionDevelopmentPath', remote(extensionPath)],
    ['extensionTestsPath', remote(paths.tests)],
  ];
  const url = `${baseUrl}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  const code = await exitCode;
  await queue;
  await new Promise((r) => consoleLog.end(r));
  return code;
}

function processesOfThisRun() {
  const found = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const env = readFileSync(`/proc/${entry}/environ`, 'latin1');
      if (env.split('\0').includes(`${RUN_MARKER_VAR}=${runId}`)) found.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

async function cleanup() {
  if (state.cleaning) return state.cleaning;
  state.cleaning = (async () => {
    await state.browser?.close().catch(() => {});
    const server = state.server;
    if (server && server.exitCode === null && server.signalCode === null) {
      try {
        process.kill(-server.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const exited = new Promise((r) => server.once('exit', r));
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      try {
        process.kill(-server.pid, 'SIGKILL');
      } catch {
        // the group is empty
      }
    }
    // Trainer processes may run in their own process groups; they still carry the run marker.
    if (process.platform === 'linux') {
      for (const pid of processesOfThisRun()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // exited meanwhile
        }
      }
    }
    state.serverLog?.end();
  })();
  return state.cleaning;
}

function writeResults(extra) {
  const failed = records.filter((r) => r.state === 'failed').length;
  const summary = {
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    vscode: 'code-server',
    workspaceTrust: opts.restricted ? 'enabled, workspace untrusted' : 'disabled',
    extensionFrom: state.extensionFrom,
    passes: records.filter((r) => r.state === 'passed').length,
    failures: failed,
    pending: records.filter((r) => r.state === 'pending').length,
    complete: endRecord !== undefined,
    tests: records,
    ...extra,
  };
  writeFileSync(paths.results, `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}

let finishing = false;
async function finish(exitCode, extra = {}) {
  // The first reason to stop wins (a timeout also makes the interrupted main() throw).
  if (finishing) return;
  finishing = true;
  await cleanup();
  const summary = writeResults(extra);
  if (exitCode === 0 && !opts.keep) rmSync(scratch, { recursive: true, force: true });
  else console.error(`editor tests: scratch folder kept: ${scratch}`);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    `editor tests: ${summary.passes} passed, ${summary.failures} failed, ${summary.pending} pending in ${seconds} s; results in ${displayPath(paths.results)}`,
  );
  process.exit(exitCode);
}

async function main() {
  checkPrerequisites();
  mkdirSync(resultsDir, { recursive: true });
  pruneScratch();
  mkdirSync(scratch, { recursive: true });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      console.error(`editor tests: ${signal}, stopping`);
      void finish(1, { error: `interrupted by ${signal}` });
    });
  }
  const timer = setTimeout(() => {
    console.error(`editor tests: error: no result after ${hardTimeoutMs} ms (hard timeout); stopping`);
    void finish(1, { error: `hard timeout after ${hardTimeoutMs} ms` });
  }, hardTimeoutMs);
  timer.unref();

  const workspace = prepareWorkspace();
  const userDataDir = writeSettings(workspace);
  // The suite runs against the installed copy: VS Code's test runner needs an extension development
  // path, and pointing it at the installed folder loads exactly the files the VSIX shipped.
  const extensionPath = opts.dev ? paths.extension : await installVsix(await packageExtension(), userDataDir);
  state.extensionFrom = opts.dev ? 'development folder' : 'installed VSIX';
  const port = await freePort();
  await startServer(port, userDataDir);
  console.log(
    `editor tests: code-server ready in ${((Date.now() - started) / 1000).toFixed(1)} s; extension from ${opts.dev ? 'the development folder' : `the installed VSIX (${displayPath(extensionPath)})`}; running the suite in ${workspace}`,
  );
  const hostExit = await runWorkbench(`http://127.0.0.1:${port}`, workspace, extensionPath);
  clearTimeout(timer);

  const failures = records.filter((r) => r.state === 'failed').length;
  if (!endRecord) {
    console.error(
      `editor tests: error: the suite ended (extension host exit code ${hostExit}) without reporting its end; last errors in the workbench log (all of it: ${join(resultsDir, `${outputName}-console.log`)}):`,
    );
    for (const line of recentErrors) console.error(`  ${line.replace(/\n/g, '\n  ')}`);
    return finish(Math.max(1, Math.min(failures, 255)), { error: 'suite did not report its end', hostExitCode: hostExit });
  }
  if (failures === 0 && hostExit !== 0) {
    console.error(`editor tests: error: no test failed but the extension host exited with ${hostExit}`);
    return finish(1, { error: `extension host exit code ${hostExit}`, hostExitCode: hostExit });
  }
  // Exit statuses are 8 bits: cap so that 256 failures do not read as success.
  return finish(Math.min(failures, 255), { hostExitCode: hostExit });
}

main().catch((err) => {
  if (finishing) return; // stopping already; this is the interrupted run failing
  console.error(`editor tests: error: ${err.stack ?? err.message}`);
  void finish(1, { error: String(err.message ?? err) });
});
