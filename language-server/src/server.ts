// Language server for `*.rlhf.yaml` experiment configs. Transport comes from the command line
// (`--stdio`, `--node-ipc`, `--socket=N`), as vscode-languageclient starts it. All knowledge lives
// in ./engine; this file only maps between LSP and the engine, and must never die on any input.
import * as nodePath from 'node:path';
import { readFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  CodeActionKind,
  CompletionItemKind,
  DiagnosticSeverity,
  InsertTextFormat,
  MarkupKind,
  ProposedFeatures,
  TextDocumentSyncKind,
  TextDocuments,
  createConnection,
} from 'vscode-languageserver/node';
import type {
  CodeAction,
  CodeLens,
  CompletionItem,
  Diagnostic,
  DiagnosticRelatedInformation,
  DocumentLink,
  Hover,
  InitializeResult,
  InlayHint,
  Position,
  Range,
  TextEdit,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { DerivedRequest, ValidateRequest } from '../../src/protocol/lsp';
import type { DerivedResult, ValidateResult } from '../../src/protocol/lsp';
import {
  analyze,
  codeActions,
  codeLenses,
  complete,
  createBackgroundHost,
  derivedInfo,
  diagnosticsWithPaths,
  documentLinks,
  findPath,
  hover,
  inlayHints,
  validateFile,
  warmUp,
} from './engine/index';
import type { Analysis, BackgroundHost, CompletionKind, EngineDiagnostic, TextEditSpec } from './engine/index';
import { probeGpuMemory } from './gpuProbe';

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);
const DEBOUNCE_MS = 80;
/**
 * How long a publish waits for file checks that are still being read (they run in the background;
 * requests are answered meanwhile). Past it, diagnostics go out without them and again once they
 * land. `initializationOptions.fileCheckWaitMs` overrides it (0: never wait).
 */
let fileCheckWaitMs = 100;

let gpuMemoryGiB: number | undefined;
/** Where gpuMemoryGiB came from, and how many GPUs nvidia-smi listed (the experiment form shows both). */
let gpuSource: 'nvidia-smi' | 'setting' = 'setting';
let gpuCount: number | undefined;
/**
 * Whether the workspace is trusted (`initializationOptions.workspaceTrusted`; VS Code's client
 * passes it). Untrusted: no program is run and no file a config names is read. A client that
 * does not say (other editors have no Workspace Trust) is taken at its word that the user opened it.
 */
let workspaceTrusted = true;
let inlayRefresh = false;
const analyses = new Map<string, { version: number; analysis: Analysis; epoch: number }>();
/** What was last sent per document, to skip a re-publish that says nothing new. */
const published = new Map<string, { version: number; key: string }>();
const timers = new Map<string, NodeJS.Timeout>();
const pathToUri = new Map<string, string>();

function log(message: string, err?: unknown): void {
  const detail = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : err === undefined ? '' : String(err);
  try {
    connection.console.error(`[fact-rlhf] ${message}${detail ? `: ${detail}` : ''}`);
  } catch {
    // The connection itself is gone; nothing left to tell.
  }
}

/** Runs a handler; an exception is logged and answered with `fallback`, never thrown. */
function safe<A extends unknown[], R>(name: string, fallback: R, fn: (...args: A) => R): (...args: A) => R {
  return (...args: A): R => {
    try {
      return fn(...args);
    } catch (e) {
      log(`${name} failed`, e);
      return fallback;
    }
  };
}

process.on('uncaughtException', (e) => log('uncaught exception', e));
process.on('unhandledRejection', (e) => log('unhandled rejection', e));

function uriToPath(uri: string): string {
  if (uri.startsWith('file:')) {
    try {
      return fileURLToPath(uri);
    } catch {
      return uri;
    }
  }
  return uri; // not absolute: the engine skips checks that need the config's folder
}

function uriOf(path: string): string {
  return pathToUri.get(path) ?? (nodePath.isAbsolute(path) ? pathToFileURL(path).toString() : path);
}

function openText(path: string): string | undefined {
  const uri = pathToUri.get(path);
  return uri ? documents.get(uri)?.getText() : undefined;
}

function makeHost(): BackgroundHost {
  const h = createBackgroundHost({ overlay: openText, env: process.env, gpuMemoryGiB, untrusted: !workspaceTrusted });
  h.onSettled(safe('file checks landed', undefined, (changed: boolean) => filesSettled(h, changed)));
  return h;
}

let host: BackgroundHost = makeHost();

function rebuildHost(): void {
  host = makeHost();
  analyses.clear();
}

function analysisOf(doc: TextDocument): Analysis {
  const hit = analyses.get(doc.uri);
  // An analysis that lacked some file facts is redone once new facts have landed.
  if (hit && hit.version === doc.version && (!hit.analysis.incomplete || hit.epoch === host.epoch)) return hit.analysis;
  const epoch = host.epoch;
  const analysis = analyze(doc.getText(), uriToPath(doc.uri), host);
  analyses.set(doc.uri, { version: doc.version, analysis, epoch });
  return analysis;
}

/** Background file reads landed: re-validate what they can change, and let the editor re-ask for hints. */
function filesSettled(h: BackgroundHost, changed: boolean): void {
  if (h !== host) return;
  if (changed) analyses.clear(); // a file changed on disk: every analysis may be stale
  let any = false;
  for (const doc of documents.all()) {
    const hit = analyses.get(doc.uri);
    if (!hit || hit.analysis.incomplete) {
      schedule(doc.uri, 0);
      any = true;
    }
  }
  if (any && inlayRefresh) connection.languages.inlayHint.refresh().catch((e: unknown) => log('inlay hint refresh', e));
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * An analysis once its file checks have landed, waiting at most `budgetMs` (the event loop stays
 * free meanwhile). `make` analyses afresh (or from the cache); it returns undefined when what it
 * analyses has gone (a document changed or closed), and so does this.
 */
async function settled(make: () => Analysis | undefined, budgetMs: number): Promise<Analysis | undefined> {
  let a = make();
  const deadline = Date.now() + budgetMs;
  // Each round may ask for more (a folder's stat, then the files inside it); a few rounds suffice.
  for (let round = 0; a?.incomplete && round < 6 && Date.now() < deadline; round++) {
    await Promise.race([host.idle(), delay(deadline - Date.now())]);
    a = make();
  }
  return a;
}

/** The open document's analysis once its file checks have landed (undefined if it changed meanwhile). */
function settledAnalysisOf(uri: string, budgetMs: number): Promise<Analysis | undefined> {
  const version = documents.get(uri)?.version;
  return settled(() => {
    const doc = documents.get(uri);
    return doc && doc.version === version ? analysisOf(doc) : undefined;
  }, budgetMs);
}

const SEVERITY: Record<EngineDiagnostic['severity'], DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

function lineColRange(x: { line: number; column: number; endLine: number; endColumn: number }): Range {
  return { start: { line: x.line - 1, character: x.column - 1 }, end: { line: x.endLine - 1, character: x.endColumn - 1 } };
}

function toLspDiagnostic(doc: TextDocument, a: Analysis, d: EngineDiagnostic): Diagnostic {
  const related: DiagnosticRelatedInformation[] = d.related.map((r) => ({
    location: { uri: uriOf(r.file), range: lineColRange(r) },
    message: r.message,
  }));
  if (d.file === a.file.path) {
    return {
      range: { start: doc.positionAt(d.start), end: doc.positionAt(d.end) },
      severity: SEVERITY[d.severity],
      code: d.code,
      source: 'fact-rlhf',
      message: d.message,
      relatedInformation: related.length ? related : undefined,
    };
  }
  // A problem in an inherited file: shown on this file's `extends`, with a link to the place.
  const ext = findPath(a.file, ['extends']);
  const range = ext
    ? { start: doc.positionAt(ext.valueRange[0]), end: doc.positionAt(ext.valueRange[1]) }
    : { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  return {
    range,
    severity: SEVERITY[d.severity],
    code: d.code,
    source: 'fact-rlhf',
    message: `${nodePath.basename(d.file)}:${d.line}:${d.column}: ${d.message}`,
    relatedInformation: [{ location: { uri: uriOf(d.file), range: lineColRange(d) }, message: d.message }, ...related],
  };
}

async function publish(uri: string): Promise<void> {
  const a = await settledAnalysisOf(uri, fileCheckWaitMs);
  const doc = documents.get(uri);
  if (!a || !doc) return; // a newer version publishes itself
  const diagnostics = a.diagnostics.map((d) => toLspDiagnostic(doc, a, d));
  const key = JSON.stringify(diagnostics);
  const last = published.get(uri);
  if (last && last.version === doc.version && last.key === key) return;
  published.set(uri, { version: doc.version, key });
  void connection.sendDiagnostics({ uri, version: doc.version, diagnostics });
}

const validateNow = safe('validate', undefined, (uri: string): void => {
  timers.delete(uri);
  publish(uri).catch((e: unknown) => log('publish', e));
});

function schedule(uri: string, delay = DEBOUNCE_MS): void {
  const old = timers.get(uri);
  if (old) clearTimeout(old);
  timers.set(
    uri,
    setTimeout(() => validateNow(uri), delay),
  );
}

/** Open documents that inherit from `path` are stale once it changes. */
function revalidateDependents(path: string): void {
  for (const doc of documents.all()) {
    const hit = analyses.get(doc.uri);
    if (hit && hit.analysis.dependencies.includes(path)) {
      analyses.delete(doc.uri);
      schedule(doc.uri);
    }
  }
}

function revalidateAll(): void {
  analyses.clear();
  for (const doc of documents.all()) schedule(doc.uri, 0);
}

connection.onInitialize((params): InitializeResult => {
  const opts = params.initializationOptions as
    { gpuMemoryGiB?: unknown; fileCheckWaitMs?: unknown; workspaceTrusted?: unknown } | undefined;
  if (typeof opts?.fileCheckWaitMs === 'number' && opts.fileCheckWaitMs >= 0) fileCheckWaitMs = opts.fileCheckWaitMs;
  inlayRefresh = params.capabilities.workspace?.inlayHint?.refreshSupport === true;
  workspaceTrusted = opts?.workspaceTrusted !== false;
  if (!workspaceTrusted) log('workspace not trusted: file checks are off and nvidia-smi is not run');
  if (typeof opts?.gpuMemoryGiB === 'number' && opts.gpuMemoryGiB > 0) {
    gpuMemoryGiB = opts.gpuMemoryGiB;
    gpuSource = 'setting';
  } else if (workspaceTrusted) detectGpuMemory();
  rebuildHost();
  return {
    capabilities: {
      textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
      hoverProvider: true,
      completionProvider: { triggerCharacters: [':', ' ', '-', '/', '['], resolveProvider: false },
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, CodeActionKind.Refactor] },
      inlayHintProvider: { resolveProvider: false },
      documentLinkProvider: { resolveProvider: false },
      codeLensProvider: { resolveProvider: false },
    },
    serverInfo: { name: 'fact-rlhf-language-server', version: '0.1.0' },
  };
});

/** The smallest GPU's memory from nvidia-smi (found by absolute path, see gpuProbe), when there is one. */
function detectGpuMemory(): void {
  try {
    probeGpuMemory(
      safe('nvidia-smi result', undefined, (gib: number | undefined, count?: number) => {
        if (gib === undefined || gpuMemoryGiB !== undefined) return; // none, or a setting came first
        gpuMemoryGiB = gib;
        gpuSource = 'nvidia-smi';
        gpuCount = count;
        rebuildHost();
        revalidateAll();
      }),
    );
  } catch (e) {
    log('nvidia-smi', e);
  }
}

// Compile the schema validator while the client is still starting up, not on the first keystroke.
connection.onInitialized(() => {
  setImmediate(safe('warm-up', undefined, () => warmUp()));
});

// The extension sends the resolved GPU size under this option's old name (the factRlhf.memoryPerGPU
// setting, or the deprecated factRlhf.gpuMemoryGiB: src/editor/languageClient.ts).
connection.onDidChangeConfiguration(
  safe('configuration', undefined, (change: { settings?: unknown }) => {
    const settings = change.settings as { factRlhf?: { gpuMemoryGiB?: unknown } } | undefined;
    const gib = settings?.factRlhf?.gpuMemoryGiB;
    if (typeof gib === 'number' && gib > 0) {
      gpuMemoryGiB = gib;
      gpuSource = 'setting';
      gpuCount = undefined;
      rebuildHost();
      revalidateAll();
    }
  }),
);

connection.onDidChangeWatchedFiles(
  safe('watched files', undefined, (params: { changes: Array<{ uri: string }> }) => {
    host.invalidate(params.changes.map((c) => uriToPath(c.uri)));
    revalidateAll();
  }),
);

documents.onDidOpen(
  safe('open', undefined, (e) => {
    pathToUri.set(uriToPath(e.document.uri), e.document.uri);
    validateNow(e.document.uri);
    revalidateDependents(uriToPath(e.document.uri));
  }),
);
documents.onDidChangeContent(
  safe('change', undefined, (e) => {
    schedule(e.document.uri);
    revalidateDependents(uriToPath(e.document.uri));
  }),
);
documents.onDidSave(safe('save', undefined, () => revalidateAll()));
documents.onDidClose(
  safe('close', undefined, (e) => {
    const t = timers.get(e.document.uri);
    if (t) clearTimeout(t);
    timers.delete(e.document.uri);
    analyses.delete(e.document.uri);
    published.delete(e.document.uri);
    const path = uriToPath(e.document.uri);
    pathToUri.delete(path);
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
    revalidateDependents(path);
  }),
);

connection.onHover(
  safe('hover', null, (params): Hover | null => {
    const doc = documents.get(params.textDocument.uri);
    if (!doc) return null;
    const h = hover(analysisOf(doc), doc.offsetAt(params.position));
    return h
      ? {
          contents: { kind: MarkupKind.Markdown, value: h.markdown },
          range: { start: doc.positionAt(h.start), end: doc.positionAt(h.end) },
        }
      : null;
  }),
);

const COMPLETION_KIND: Record<CompletionKind, CompletionItemKind> = {
  property: CompletionItemKind.Property,
  section: CompletionItemKind.Module,
  value: CompletionItemKind.Value,
  file: CompletionItemKind.File,
  folder: CompletionItemKind.Folder,
  snippet: CompletionItemKind.Snippet,
};

connection.onCompletion(
  safe('completion', [], (params): CompletionItem[] => {
    const doc = documents.get(params.textDocument.uri);
    if (!doc) return [];
    return complete(analysisOf(doc), doc.offsetAt(params.position)).map((c) => ({
      label: c.label,
      kind: COMPLETION_KIND[c.kind],
      detail: c.detail,
      documentation: c.documentation ? { kind: MarkupKind.Markdown, value: c.documentation } : undefined,
      textEdit: { range: { start: doc.positionAt(c.replaceStart), end: doc.positionAt(c.replaceEnd) }, newText: c.insertText },
      insertTextFormat: c.isSnippet ? InsertTextFormat.Snippet : InsertTextFormat.PlainText,
      sortText: c.sortText,
    }));
  }),
);

connection.languages.inlayHint.on(
  safe('inlay hints', [], (params): InlayHint[] => {
    const doc = documents.get(params.textDocument.uri);
    if (!doc) return [];
    const from = doc.offsetAt(params.range.start);
    const to = doc.offsetAt(params.range.end);
    return inlayHints(analysisOf(doc), from, to).map((h) => ({
      position: doc.positionAt(h.offset),
      label: h.label,
      tooltip: h.tooltip,
      paddingLeft: true,
    }));
  }),
);

function toTextEdit(doc: TextDocument, rootPath: string, file: string, e: TextEditSpec): TextEdit {
  const range: Range = file === rootPath ? { start: doc.positionAt(e.start), end: doc.positionAt(e.end) } : lineColRange(e);
  return { range, newText: e.newText };
}

function sameRange(a: Range, b: Range): boolean {
  const eq = (x: Position, y: Position): boolean => x.line === y.line && x.character === y.character;
  return eq(a.start, b.start) && eq(a.end, b.end);
}

connection.onCodeAction(
  safe('code actions', [], (params): CodeAction[] => {
    const doc = documents.get(params.textDocument.uri);
    if (!doc) return [];
    const a = analysisOf(doc);
    const only = params.context.only;
    const entries = codeActions(a, doc.offsetAt(params.range.start), doc.offsetAt(params.range.end));
    return entries
      .filter((e) => !only || only.some((k) => (e.kind === 'quickfix' ? CodeActionKind.QuickFix : CodeActionKind.Refactor).startsWith(k)))
      .map((e): CodeAction => {
        const changes: Record<string, TextEdit[]> = {};
        for (const edit of e.fix.edits) (changes[uriOf(e.fix.file)] ??= []).push(toTextEdit(doc, a.file.path, e.fix.file, edit));
        const lspDiag = e.diagnostic ? toLspDiagnostic(doc, a, e.diagnostic) : undefined;
        const matching = lspDiag
          ? params.context.diagnostics.filter((d) => d.code === lspDiag.code && sameRange(d.range, lspDiag.range))
          : [];
        return {
          title: e.fix.title,
          kind: e.kind === 'quickfix' ? CodeActionKind.QuickFix : CodeActionKind.Refactor,
          diagnostics: matching.length ? matching : lspDiag ? [lspDiag] : undefined,
          isPreferred: e.fix.preferred || undefined,
          edit: { changes },
        };
      });
  }),
);

connection.onDocumentLinks(
  safe('document links', [], (params): DocumentLink[] => {
    const doc = documents.get(params.textDocument.uri);
    if (!doc) return [];
    return documentLinks(analysisOf(doc)).map((l) => ({
      range: { start: doc.positionAt(l.start), end: doc.positionAt(l.end) },
      target: uriOf(l.target),
    }));
  }),
);

connection.onCodeLens(
  safe('code lenses', [], (params): CodeLens[] => {
    const doc = documents.get(params.textDocument.uri);
    if (!doc) return [];
    return codeLenses(analysisOf(doc)).map((l) => {
      const pos = doc.positionAt(l.offset);
      return {
        range: { start: pos, end: pos },
        command: { title: l.title, command: l.command, arguments: l.command ? [doc.uri] : undefined },
      };
    });
  }),
);

/**
 * The analysis a custom request answers from: the open document's once its file checks have landed
 * (up to 10 s), else the file on disk, read in the background too. `missing` when it cannot be read.
 */
async function requestAnalysis(uri: string): Promise<{ a?: Analysis; version?: number; missing?: string }> {
  if (documents.get(uri)) await settledAnalysisOf(uri, 10_000);
  const doc = documents.get(uri); // the latest version, if it changed meanwhile
  if (doc) return { a: analysisOf(doc), version: doc.version };
  const path = uriToPath(uri);
  const text = nodePath.isAbsolute(path) ? await readFile(path, 'utf8').catch(() => undefined) : undefined;
  if (text === undefined) return { missing: path };
  return { a: await settled(() => analyze(text, path, host), 10_000) };
}

connection.onRequest(ValidateRequest, async (params): Promise<ValidateResult> => {
  try {
    // A request for the full picture: it waits for the file checks.
    const { a, version, missing } = await requestAnalysis(params.uri);
    if (missing !== undefined) return { diagnostics: validateFile(missing, { env: process.env, gpuMemoryGiB }) }; // says why it cannot be read
    if (!a) return { diagnostics: [], incomplete: 'the file checks did not finish within 10 s' };
    return { diagnostics: params.withFixes ? diagnosticsWithPaths(a, true) : diagnosticsWithPaths(a), version };
  } catch (e) {
    log('validate request failed', e);
    return { diagnostics: [], incomplete: `the check failed: ${(e as Error).message}` };
  }
});

connection.onRequest(DerivedRequest, async (params): Promise<DerivedResult> => {
  const gpu = gpuMemoryGiB ? { memoryGiB: gpuMemoryGiB, count: gpuCount, source: gpuSource } : undefined;
  try {
    const { a, version } = await requestAnalysis(params.uri);
    if (!a) return { figures: [], verdict: 'unknown', summary: 'No estimate: the config cannot be read' };
    return { ...derivedInfo(a, gpu), version };
  } catch (e) {
    log('derived request failed', e);
    return { figures: [], verdict: 'unknown', summary: 'No estimate: the server failed (see its log)' };
  }
});

documents.listen(connection);
connection.listen();
