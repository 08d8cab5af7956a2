// A real LSP client for the protocol tests: JSON-RPC over the server's stdio (or Node IPC, as
// vscode-languageclient's TransportKind.ipc does), speaking the standard LSP methods.
import { spawn, fork, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { createMessageConnection, IPCMessageReader, IPCMessageWriter, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import type { MessageConnection } from 'vscode-jsonrpc/node';
import type { Diagnostic, PublishDiagnosticsParams, Range, TextEdit } from 'vscode-languageserver/node';

export const ROOT = path.resolve(__dirname, '..', '..');
export const SERVER_BUNDLE = path.join(ROOT, 'dist', 'language-server.js');

/** Builds dist/language-server.js with the project's own build script. */
export function buildServer(): void {
  const res = spawnSync(process.execPath, ['scripts/build.mjs', '--only=language-server'], { cwd: ROOT, encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`build failed: ${res.stderr || res.stdout}`);
}

/** The environment without LLaVA-RLHF data variables, so example paths stay unchecked. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.LLAVA_RLHF_DATA;
  delete env.LLAVA_RLHF_MODELS;
  return env;
}

export class LspTestClient {
  private readonly published = new Map<string, PublishDiagnosticsParams>();
  /** Every publish per URI, in order (a server may publish a version twice: first without file checks). */
  readonly history = new Map<string, PublishDiagnosticsParams[]>();
  private readonly waiters: Array<{ uri: string; version: number; resolve: (d: Diagnostic[]) => void }> = [];
  readonly stderr: string[] = [];
  readonly logs: string[] = [];
  private versions = new Map<string, number>();

  private constructor(
    readonly proc: ChildProcess,
    readonly conn: MessageConnection,
  ) {
    conn.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
      this.published.set(p.uri, p);
      const seen = this.history.get(p.uri) ?? [];
      seen.push(p);
      this.history.set(p.uri, seen);
      for (const w of [...this.waiters]) {
        if (w.uri === p.uri && (p.version ?? 0) >= w.version) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(p.diagnostics);
        }
      }
    });
    conn.onNotification('window/logMessage', (p: { message: string }) => {
      this.logs.push(p.message);
    });
    conn.listen();
  }

  /** `proc` sets the server's working folder and environment (default: this one's, cleaned). */
  static async start(
    transport: 'stdio' | 'ipc',
    initializationOptions?: unknown,
    procOptions: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
  ): Promise<LspTestClient> {
    let proc: ChildProcess;
    let conn: MessageConnection;
    const env = procOptions.env ?? cleanEnv();
    if (transport === 'stdio') {
      proc = spawn(process.execPath, [SERVER_BUNDLE, '--stdio'], { env, cwd: procOptions.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
      conn = createMessageConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
    } else {
      proc = fork(SERVER_BUNDLE, ['--node-ipc'], { env, cwd: procOptions.cwd, execArgv: [], stdio: ['pipe', 'pipe', 'pipe', 'ipc'] });
      conn = createMessageConnection(new IPCMessageReader(proc), new IPCMessageWriter(proc));
    }
    const client = new LspTestClient(proc, conn);
    proc.stderr?.on('data', (b: Buffer) => client.stderr.push(b.toString()));
    await conn.sendRequest('initialize', {
      processId: process.pid,
      rootUri: null,
      capabilities: { textDocument: { publishDiagnostics: { relatedInformation: true, versionSupport: true } } },
      initializationOptions,
    });
    await conn.sendNotification('initialized', {});
    return client;
  }

  open(uri: string, text: string): Promise<Diagnostic[]> {
    this.versions.set(uri, 1);
    const wait = this.waitForDiagnostics(uri, 1);
    void this.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'yaml', version: 1, text } });
    return wait;
  }

  /** Replaces the whole text (a full-document change event). */
  change(uri: string, text: string): Promise<Diagnostic[]> {
    const version = (this.versions.get(uri) ?? 1) + 1;
    this.versions.set(uri, version);
    const wait = this.waitForDiagnostics(uri, version);
    void this.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ text }] });
    return wait;
  }

  /** An incremental change event (a range replaced), as editors send while typing. */
  edit(uri: string, range: Range, text: string): Promise<Diagnostic[]> {
    const version = (this.versions.get(uri) ?? 1) + 1;
    this.versions.set(uri, version);
    const wait = this.waitForDiagnostics(uri, version);
    void this.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ range, text }] });
    return wait;
  }

  close(uri: string): void {
    void this.conn.sendNotification('textDocument/didClose', { textDocument: { uri } });
  }

  waitForDiagnostics(uri: string, version: number, timeoutMs = 10000): Promise<Diagnostic[]> {
    const have = this.published.get(uri);
    if (have && (have.version ?? 0) >= version) return Promise.resolve(have.diagnostics);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no diagnostics for ${uri} v${version} within ${timeoutMs} ms; stderr: ${this.stderr.join('')}`)),
        timeoutMs,
      );
      this.waiters.push({
        uri,
        version,
        resolve: (d) => {
          clearTimeout(timer);
          resolve(d);
        },
      });
    });
  }

  request<R>(method: string, params: unknown): Promise<R> {
    return this.conn.sendRequest(method, params) as Promise<R>;
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** shutdown + exit, then wait for the process to end (killed after 5 s). */
  async stop(): Promise<number | null> {
    const exited = new Promise<number | null>((resolve) => {
      if (!this.alive) resolve(this.proc.exitCode);
      else this.proc.once('exit', (code) => resolve(code));
    });
    try {
      await this.conn.sendRequest('shutdown');
      await this.conn.sendNotification('exit');
    } catch {
      // Already gone: the exit code tells.
    }
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    const code = await exited;
    clearTimeout(timer);
    this.conn.dispose();
    return code;
  }
}

/** Applies LSP text edits to a text (edits must not overlap). */
export function applyEdits(text: string, edits: TextEdit[]): string {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  const off = (p: { line: number; character: number }): number => (starts[p.line] ?? text.length) + p.character;
  const sorted = [...edits].sort((a, b) => off(b.range.start) - off(a.range.start));
  let out = text;
  for (const e of sorted) out = out.slice(0, off(e.range.start)) + e.newText + out.slice(off(e.range.end));
  return out;
}

/** 0-based line of the first line containing `needle`. */
export function lineOf(text: string, needle: string): number {
  const i = text.indexOf(needle);
  if (i < 0) throw new Error(`"${needle}" not in text`);
  return text.slice(0, i).split('\n').length - 1;
}

/** 0-based position of `needle` (plus `delta` characters). */
export function positionOf(text: string, needle: string, delta = 0): { line: number; character: number } {
  const i = text.indexOf(needle);
  if (i < 0) throw new Error(`"${needle}" not in text`);
  const before = text.slice(0, i + delta);
  const line = before.split('\n').length - 1;
  return { line, character: before.length - (before.lastIndexOf('\n') + 1) };
}
