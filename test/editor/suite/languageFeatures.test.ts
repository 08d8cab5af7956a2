// The language server's features through the real VS Code API (the same commands the editor's UI
// calls): a quick fix applied with workspace.applyEdit, completion with documentation, hover with
// the LLaVA-RLHF reference value, inlay hints with the derived gradient accumulation, and a
// cross-field diagnostic at its line. Workspace files: language-features.rlhf.yaml, misspelt-key.rlhf.yaml.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activateApi, waitFor, workspaceFile } from './helpers';

/** Opens a workspace config in an editor once the language client is up. */
async function openConfig(name: string): Promise<vscode.TextDocument> {
  const api = await activateApi();
  await api.languageClientReady();
  const doc = await vscode.workspace.openTextDocument(workspaceFile(name));
  await vscode.window.showTextDocument(doc);
  return doc;
}

/** 0-based line of the first line that, trimmed, starts with `prefix`. */
function lineOf(doc: vscode.TextDocument, prefix: string): number {
  const line = doc
    .getText()
    .split(/\r?\n/)
    .findIndex((l) => l.trimStart().startsWith(prefix));
  assert.ok(line >= 0, `${doc.uri.path} has a line starting with ${prefix}`);
  return line;
}

function codeOf(d: vscode.Diagnostic): string {
  return String(typeof d.code === 'object' ? d.code.value : d.code);
}

function ours(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'fact-rlhf');
}

function markdown(
  contents: ReadonlyArray<vscode.MarkdownString | vscode.MarkedString> | vscode.MarkdownString | string | undefined,
): string {
  if (contents === undefined) return '';
  if (typeof contents === 'string') return contents;
  if (contents instanceof vscode.MarkdownString) return contents.value;
  return contents.map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : '')).join('\n');
}

describe('language features', () => {
  it('a misspelt key: unknown-key diagnostic, and its quick fix removes it', async () => {
    const doc = await openConfig('misspelt-key.rlhf.yaml');
    const line = lineOf(doc, 'kl_coeff:');
    const diag = await waitFor('the unknown-key diagnostic', 20_000, () => ours(doc.uri).find((d) => codeOf(d) === 'unknown-key'));
    assert.equal(diag.range.start.line, line);
    assert.equal(doc.getText(diag.range), 'kl_coeff');
    assert.match(diag.message, /did you mean `kl_coef`/);

    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
      'vscode.executeCodeActionProvider',
      doc.uri,
      diag.range,
      vscode.CodeActionKind.QuickFix.value,
    );
    const fix = actions.find((a) => a.title === 'Change `kl_coeff` to `kl_coef`');
    assert.ok(fix?.edit, `no rename fix among: ${actions.map((a) => a.title).join(' | ')}`);
    assert.equal(fix.isPreferred, true);
    assert.ok(await vscode.workspace.applyEdit(fix.edit), 'applyEdit refused the fix');
    assert.equal(doc.lineAt(line).text, '  kl_coef: 0.1');
    await waitFor('the diagnostic to go away', 20_000, () => (ours(doc.uri).length === 0 ? true : undefined));
  });

  it('completion inside ppo: offers kl_coef with its documentation', async () => {
    const doc = await openConfig('language-features.rlhf.yaml');
    const line = lineOf(doc, 'kl_coef:');
    // The cursor after "kl_co", as while typing the key.
    const list = await vscode.commands.executeCommand<vscode.CompletionList>(
      'vscode.executeCompletionItemProvider',
      doc.uri,
      new vscode.Position(line, '  kl_co'.length),
    );
    const item = list.items.find((i) => (typeof i.label === 'string' ? i.label : i.label.label) === 'kl_coef');
    assert.ok(
      item,
      `kl_coef not offered; got ${list.items
        .slice(0, 20)
        .map((i) => (typeof i.label === 'string' ? i.label : i.label.label))
        .join(', ')}`,
    );
    assert.equal(item.kind, vscode.CompletionItemKind.Property);
    const docs = markdown(item.documentation as vscode.MarkdownString | string | undefined);
    assert.match(docs, /β of the per-token KL penalty/);
    assert.match(docs, /LLaVA-RLHF reference: `0\.1`/);
    // Keys of another section are not offered here.
    assert.ok(
      !list.items.some((i) => (typeof i.label === 'string' ? i.label : i.label.label) === 'max_length'),
      'model.max_length offered inside ppo:',
    );
  });

  it('hover on kl_coef shows its meaning, default and reference value', async () => {
    const doc = await openConfig('language-features.rlhf.yaml');
    const line = lineOf(doc, 'kl_coef:');
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
      'vscode.executeHoverProvider',
      doc.uri,
      new vscode.Position(line, 4),
    );
    const text = hovers.map((h) => markdown(h.contents)).join('\n');
    assert.match(text, /\*\*ppo\.kl_coef\*\*/);
    assert.match(text, /β of the per-token KL penalty/);
    assert.match(text, /Default: `0\.1`/);
    assert.match(text, /LLaVA-RLHF reference: `0\.1`/);
  });

  it('inlay hints show the gradient-accumulation steps of the step batch', async () => {
    const doc = await openConfig('language-features.rlhf.yaml');
    const line = lineOf(doc, 'step_batch_size:');
    const full = new vscode.Range(0, 0, doc.lineCount, 0);
    const hints = await waitFor('inlay hints', 20_000, async () => {
      const h = await vscode.commands.executeCommand<vscode.InlayHint[]>('vscode.executeInlayHintProvider', doc.uri, full);
      return h.length > 0 ? h : undefined;
    });
    const label = (h: vscode.InlayHint): string => (typeof h.label === 'string' ? h.label : h.label.map((p) => p.value).join(''));
    // 16 per step over 4 GPUs = 4 per GPU, in micro-batches of 2: 2 accumulation steps.
    const accum = hints.find((h) => label(h).includes('accumulation'));
    assert.ok(accum, `no accumulation hint; got ${hints.map(label).join(' | ')}`);
    assert.equal(label(accum), '2 per device × 4 GPUs × 1 node → 2 accumulation steps');
    assert.equal(accum.position.line, line);
    assert.ok(hints.some((h) => label(h) === 'world size 4'));
  });

  it('a batch that does not split over the GPUs is an error at its line', async () => {
    const doc = await openConfig('language-features.rlhf.yaml');
    const line = lineOf(doc, 'rollout_batch_size:');
    const diag = await waitFor('the batch-divisibility diagnostic', 20_000, () =>
      ours(doc.uri).find((d) => codeOf(d) === 'batch-divisibility'),
    );
    assert.equal(diag.range.start.line, line);
    assert.equal(diag.severity, vscode.DiagnosticSeverity.Error);
    assert.match(diag.message, /`ppo\.rollout_batch_size` \(48\) must be divisible by .* = 8 × 4 × 1 = 32/);
    assert.deepEqual(ours(doc.uri).map(codeOf), ['batch-divisibility'], 'the only problem in the file');
  });
});
