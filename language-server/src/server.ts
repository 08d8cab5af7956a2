// Language server for `*.rlhf.yaml` experiment configs. Transport comes from the command line
// (`--stdio`, `--node-ipc`, `--socket=N`), as vscode-languageclient starts it. All knowledge lives
// in ./engine; this file only maps between LSP and the engine, and must never die on any input.
import * as nodePath from 'node:path';
import { execFile } from 'node:child_process';
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
import { VALIDATE_REQUEST } from '../../src/protocol/lsp';
import type { ValidateParams, ValidateResult } from '../../src/protocol/lsp';
import {
  analyze,
  codeActions,
  codeLenses,
  complete,
  createNodeHost,
  documentLinks,
  findPath,
  hover,
  inlayHints,
  toValidationDiagnostic,
  validateFile,
  warmUp,
} from './engine/index';
import type { Analysis, CompletionKind, EngineDiagnostic, EngineHost, TextEditSpec } from './engine/index';

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);
const DEBOUNCE_MS = 80;

let gpuMemoryGiB: number | undefined;
const analyses = new Map<string, { version: number; analysis: Analysis }>();
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

let host: EngineHost = createNodeHost({ overlay: openText, env: process.env });

function rebuildHost(): void {
  host = createNodeHost({ overlay: openText, env: process.env, gpuMemoryGiB });
  analyses.clear();
}

function analysisOf(doc: TextDocument): Analysis {
  const hit = analyses.get(doc.uri);
  if (hit && hit.version === doc.version) return hit.analysis;
  const analysis = analyze(doc.getText(), uriToPath(doc.uri), host);
  analyses.set(doc.uri, { version: doc.version, analysis });
  return analysis;
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
  const related: DiagnosticRelatedInformation[] = d.related.map((r) => ({ location: { uri: uriOf(r.file), range: lineColRange(r) }, message: r.message }));
  if (d.file === a.file.path) {
    return { range: { start: doc.positionAt(d.start), end: doc.positionAt(d.end) }, severity: SEVERITY[d.severity], code: d.code, source: 'fact-rlhf', message: d.message, relatedInformation: related.length ? related : undefined };
  }
  // A problem in an inherited file: shown on this file's `extends`, with a link to the place.
  const ext = findPath(a.file, ['extends']);
  const range = ext ? { start: doc.positionAt(ext.valueRange[0]), end: doc.positionAt(ext.valueRange[1]) } : { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  return {
    range,
    severity: SEVERITY[d.severity],
    code: d.code,
    source: 'fact-rlhf',
    message: `${nodePath.basename(d.file)}:${d.line}:${d.column}: ${d.message}`,
    relatedInformation: [{ location: { uri: uriOf(d.file), range: lineColRange(d) }, message: d.message }, ...related],
  };
}

function publish(doc: TextDocument): void {
  const a = analysisOf(doc);
  void connection.sendDiagnostics({ uri: doc.uri, version: doc.version, diagnostics: a.diagnostics.map((d) => toLspDiagnostic(doc, a, d)) });
}

const validateNow = safe('validate', undefined, (uri: string): void => {
  timers.delete(uri);
  const doc = documents.get(uri);
  if (doc) publish(doc);
});

function schedule(uri: string, delay = DEBOUNCE_MS): void {
  const old = timers.get(uri);
  if (old) clearTimeout(old);
  timers.set(uri, setTimeout(() => validateNow(uri), delay));
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
  const opts = params.initializationOptions as { gpuMemoryGiB?: unknown } | undefined;
  if (typeof opts?.gpuMemoryGiB === 'number' && opts.gpuMemoryGiB > 0) {
    gpuMemoryGiB = opts.gpuMemoryGiB;
    rebuildHost();
  } else detectGpuMemory();
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

/** The smallest GPU's memory from nvidia-smi, when there is one; the fit check needs it. */
function detectGpuMemory(): void {
  try {
    execFile('nvidia-smi', ['--query-gpu=memory.total', '--format=csv,noheader,nounits'], { timeout: 5000 }, (err, stdout) => {
      if (err) return;
      const mib = stdout.split('\n').map((l) => Number(l.trim())).filter((n) => Number.isFinite(n) && n > 0);
      if (mib.length === 0) return;
      gpuMemoryGiB = Math.min(...mib) / 1024;
      rebuildHost();
      revalidateAll();
    });
  } catch (e) {
    log('nvidia-smi', e);
  }
}

// Compile the schema validator while the client is still starting up, not on the first keystroke.
connection.onInitialized(() => {
  setImmediate(safe('warm-up', undefined, () => warmUp()));
});

connection.onDidChangeConfiguration(
  safe('configuration', undefined, (change: { settings?: unknown }) => {
    const settings = change.settings as { factRlhf?: { gpuMemoryGiB?: unknown } } | undefined;
    const gib = settings?.factRlhf?.gpuMemoryGiB;
    if (typeof gib === 'number' && gib > 0) {
      gpuMemoryGiB = gib;
      rebuildHost();
      revalidateAll();
    }
  }),
);

connection.onDidChangeWatchedFiles(safe('watched files', undefined, () => revalidateAll()));

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
    return h ? { contents: { kind: MarkupKind.Markdown, value: h.markdown }, range: { start: doc.positionAt(h.start), end: doc.positionAt(h.end) } } : null;
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
    return inlayHints(analysisOf(doc), from, to).map((h) => ({ position: doc.positionAt(h.offset), label: h.label, tooltip: h.tooltip, paddingLeft: true }));
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
        const matching = lspDiag ? params.context.diagnostics.filter((d) => d.code === lspDiag.code && sameRange(d.range, lspDiag.range)) : [];
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
    return documentLinks(analysisOf(doc)).map((l) => ({ range: { start: doc.positionAt(l.start), end: doc.positionAt(l.end) }, target: uriOf(l.target) }));
  }),
);

connection.onCodeLens(
  safe('code lenses', [], (params): CodeLens[] => {
    const doc = documents.get(params.textDocument.uri);
    if (!doc) return [];
    return codeLenses(analysisOf(doc)).map((l) => {
      const pos = doc.positionAt(l.offset);
      return { range: { start: pos, end: pos }, command: { title: l.title, command: l.command, arguments: l.command ? [doc.uri] : undefined } };
    });
  }),
);

connection.onRequest(
  VALIDATE_REQUEST,
  safe('validate request', { diagnostics: [] }, (params: ValidateParams): ValidateResult => {
    const doc = documents.get(params.uri);
    if (doc) return { diagnostics: analysisOf(doc).diagnostics.map(toValidationDiagnostic) };
    return { diagnostics: validateFile(uriToPath(params.uri), { env: process.env, gpuMemoryGiB }) };
  }),
);

documents.listen(connection);
connection.listen();
