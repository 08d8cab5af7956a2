// Shared set-up for the browser-tier tests and the webview benchmarks: builds a webview app's
// bundle, serves its page exactly as the extension renders it (renderWebviewHtml, strict CSP) from a
// localhost server, and opens it in Debian's headless Chromium through playwright-core.
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { HostToTraceWebview, TraceWebviewToHost } from '../../src/protocol/webviews/rewardTraces';
import { makeNonce, renderWebviewHtml } from '../../src/editor/webviews/webviewHtml';

export const ROOT = resolve(__dirname, '..', '..');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** The webview apps (folders of webview/, bundled to dist/webview/<app>.js and .css). */
export type WebviewApp = 'reward-traces' | 'sample-inspector' | 'experiment-form';

const APP_TITLES: Record<WebviewApp, string> = {
  'reward-traces': 'Reward Traces',
  'sample-inspector': 'Sample Inspector',
  'experiment-form': 'Experiment Form',
};

/** Builds one webview app's bundle and stylesheet (webview/<app>/ → dist/webview/<app>.js/.css). */
export function buildBundle(app: WebviewApp): void {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), `--only=${app}`], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`webview build failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
}

export interface PageServer {
  /** Page URL. */
  url: string;
  /** Origin of the server: plays the part of webview.cspSource. */
  origin: string;
  /** The URL the page loads a local file from (webview.asWebviewUri); only files under `fileRoots`. */
  fileUri(path: string): string;
  close(): Promise<void>;
}

export interface ServeOptions {
  /** Folders whose files the page may load (webview localResourceRoots): run folders' images. */
  fileRoots?: string[];
}

const FILE_TYPES: Record<string, string> = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp' };

/** Serves one app's page (fresh nonce per load), its bundle, its stylesheet and local files on 127.0.0.1. */
export async function servePage(app: WebviewApp, options: ServeOptions = {}): Promise<PageServer> {
  const bundle = join(ROOT, 'dist', 'webview', `${app}.js`);
  const stylesheet = join(ROOT, 'dist', 'webview', `${app}.css`);
  const roots = (options.fileRoots ?? []).map((r) => realpathSync(r) + sep);
  let origin = '';
  const server = createServer((req, res) => {
    const [path, query] = (req.url ?? '/').split('?');
    if (path === '/') {
      const html = renderWebviewHtml({
        title: APP_TITLES[app],
        scriptUri: `${origin}/${app}.js`,
        styleUris: [`${origin}/${app}.css`],
        cspSource: origin,
        nonce: makeNonce(),
      });
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(html);
    } else if (path === `/${app}.js` || path === `/${app}.js.map`) {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
      res.end(readFileSync(path.endsWith('.map') ? `${bundle}.map` : bundle));
    } else if (path === `/${app}.css`) {
      res.writeHead(200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'no-store' });
      res.end(readFileSync(stylesheet));
    } else if (path === '/file') {
      const file = localFile(new URLSearchParams(query).get('path'), roots);
      if (!file) {
        res.writeHead(404);
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': FILE_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream' });
      res.end(readFileSync(file));
    } else if (path === '/favicon.ico') {
      // Chromium asks for one now and then: a 404 would show as a console error the tests count.
      res.writeHead(204);
      res.end();
    } else {
      process.stderr.write(`browser harness: 404 for ${path}\n`); // a page error "404" then says which
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${origin}/`,
    origin,
    fileUri: (path) => `${origin}/file?path=${encodeURIComponent(path)}`,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

/** The real path of a requested file when it is a file under one of the roots (links resolved first). */
function localFile(path: string | null, roots: string[]): string | undefined {
  if (!path) return undefined;
  try {
    const real = realpathSync(path);
    return roots.some((r) => real.startsWith(r)) && statSync(real).isFile() ? real : undefined;
  } catch {
    return undefined;
  }
}

export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  // playwright-core never downloads a browser; each launch gets a fresh temporary profile.
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/** Theme variables as VS Code sets them on <html>, with the body class it uses. */
export interface ThemeVars {
  bodyClass: 'vscode-dark' | 'vscode-light' | 'vscode-high-contrast';
  vars: Record<string, string>;
}

export const DARK_THEME: ThemeVars = {
  bodyClass: 'vscode-dark',
  vars: {
    '--vscode-foreground': '#cccccc',
    '--vscode-descriptionForeground': '#9d9d9d',
    '--vscode-editor-background': '#1f1f1f',
    '--vscode-sideBar-background': '#181818',
    '--vscode-editorWidget-background': '#202020',
    '--vscode-editorWidget-border': '#454545',
    '--vscode-widget-border': '#313131',
    '--vscode-focusBorder': '#0078d4',
    '--vscode-errorForeground': '#f85149',
    '--vscode-charts-blue': '#3794ff',
    '--vscode-charts-red': '#f14c4c',
    '--vscode-charts-green': '#89d185',
    '--vscode-charts-yellow': '#cca700',
    '--vscode-charts-orange': '#d18616',
    '--vscode-charts-purple': '#b180d7',
    '--vscode-dropdown-background': '#313131',
    '--vscode-dropdown-border': '#3c3c3c',
    '--vscode-button-secondaryBackground': '#313131',
    '--vscode-editorHoverWidget-background': '#202020',
    '--vscode-editorHoverWidget-border': '#454545',
    '--vscode-font-family': 'system-ui, "Ubuntu", "Droid Sans", sans-serif',
    '--vscode-font-size': '13px',
    '--vscode-editor-font-family': '"Droid Sans Mono", monospace',
  },
};

export const LIGHT_THEME: ThemeVars = {
  bodyClass: 'vscode-light',
  vars: {
    ...DARK_THEME.vars,
    '--vscode-foreground': '#3b3b3b',
    '--vscode-descriptionForeground': '#717171',
    '--vscode-editor-background': '#ffffff',
    '--vscode-sideBar-background': '#f8f8f8',
    '--vscode-editorWidget-background': '#ffffff',
    '--vscode-editorWidget-border': '#c8c8c8',
    '--vscode-widget-border': '#e5e5e5',
    '--vscode-focusBorder': '#005fb8',
    '--vscode-errorForeground': '#e51400',
    '--vscode-charts-blue': '#0b5cad',
    '--vscode-charts-red': '#c72e0f',
    '--vscode-charts-green': '#388a34',
    '--vscode-charts-yellow': '#bf8803',
    '--vscode-dropdown-background': '#ffffff',
    '--vscode-dropdown-border': '#cecece',
    '--vscode-button-secondaryBackground': '#e5e5e5',
    '--vscode-editorHoverWidget-background': '#f8f8f8',
    '--vscode-editorHoverWidget-border': '#c8c8c8',
  },
};

/*
 * The few page-side globals these tests touch, typed here (module-scoped) so the Node-side program
 * type-checks without the DOM lib. Callbacks passed to page.evaluate run in the page, not in Node.
 */
export interface PageElement {
  dataset: Record<string, string | undefined>;
  textContent: string | null;
  style: { setProperty(name: string, value: string): void };
  classList: { add(name: string): void; replace(from: string, to: string): boolean };
  getBoundingClientRect(): { top: number; left: number; width: number; height: number };
  append(...nodes: PageElement[]): void;
}
export interface PageCanvas extends PageElement {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
}
export interface PageDocument {
  documentElement: PageElement;
  body: PageElement;
  querySelector<T extends PageElement = PageElement>(selector: string): T | null;
  createElement(tag: string): PageElement;
}
export interface PageWindow {
  /** Every message the page posted to the host, in order (whichever app it is). */
  __posted: { type: string }[];
  __cspViolations: string[];
  __state: unknown;
  postMessage(message: unknown, targetOrigin: string): void;
}
declare const window: PageWindow;

/**
 * Stands in for the VS Code host, which cannot run in a plain browser: provides `acquireVsCodeApi`
 * (recording every posted message; state in sessionStorage so it survives a reload the way VS Code
 * keeps it across hides), records CSP violations, and applies the theme the way VS Code does (body
 * class + variables on <html>). Plain JavaScript text: tsx would rewrite a TypeScript function
 * with helpers that do not exist in the page.
 */
const HOST_SHIM = `function (theme) {
  var posted = [];
  window.__posted = posted;
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', function (e) {
    window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI);
  });
  var key = 'vscode-webview-state';
  window.acquireVsCodeApi = function () {
    return {
      postMessage: function (m) {
        posted.push(m === undefined ? m : JSON.parse(JSON.stringify(m)));
        // A Node-side host (openView's host option) gets the message as the page sent it.
        if (window.__toHost) window.__toHost(m);
      },
      getState: function () { var s = sessionStorage.getItem(key); return s ? JSON.parse(s) : undefined; },
      setState: function (s) { window.__state = s; sessionStorage.setItem(key, JSON.stringify(s)); },
    };
  };
  // Registered before the app's own listener, so the theme is in place when the app starts.
  document.addEventListener('DOMContentLoaded', function () {
    for (var k in theme.vars) document.documentElement.style.setProperty(k, theme.vars[k]);
    document.body.classList.add(theme.bodyClass);
  }, { once: true });
}`;

/**
 * Receives, in Node, every message the page posts to the host: lets a test put the extension's real
 * host end (HostChannel) behind the page instead of only recording what it posts.
 */
export type NodeHost = (message: unknown, page: Page) => void;

/** Opens the view in a new page, with HOST_SHIM in place of the VS Code host. */
export async function openView(
  browser: Browser,
  url: string,
  theme: ThemeVars,
  viewport = { width: 560, height: 760 },
  host?: NodeHost,
): Promise<Page> {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  const page = await context.newPage();
  if (host) await page.exposeFunction('__toHost', (m: unknown) => host(m, page));
  await page.addInitScript({ content: `(${HOST_SHIM})(${JSON.stringify(theme)});` });
  await page.goto(url);
  await page.waitForFunction(() => window.__posted.some((m) => m.type === 'ready'));
  return page;
}

/** Posts a host message to the page, as the extension's webview.postMessage does. */
export async function sendToView(page: Page, message: HostToTraceWebview): Promise<void> {
  await sendRawToView(page, message);
}

/** Posts anything to the page, typed or not (malformed-message tests). */
export async function sendRawToView(page: Page, message: unknown): Promise<void> {
  await page.evaluate((m) => window.postMessage(m, '*'), message);
}

/**
 * Waits for the first message of `type` posted at or after index `from`. M: the app's view → host
 * messages (the reward-trace view's unless given).
 */
export async function nextPosted<M extends { type: string } = TraceWebviewToHost, T extends M['type'] = M['type']>(
  page: Page,
  type: T,
  from: number,
  timeout = 10_000,
): Promise<Extract<M, { type: T }>> {
  const handle = await page.waitForFunction(([t, i]) => window.__posted.slice(i).find((m) => m.type === t) ?? null, [type, from] as const, {
    timeout,
  });
  return (await handle.jsonValue()) as Extract<M, { type: T }>;
}

export function postedCount(page: Page): Promise<number> {
  return page.evaluate(() => window.__posted.length);
}
