// The real language server (dist/language-server.js over IPC) checks a config opened in the editor.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activateApi, waitFor, workspaceFile } from './helpers';

describe('language server', () => {
  it('flags a wrong-typed key at its line', async function () {
    this.timeout(60_000);
    const api = await activateApi();
    await api.languageClientReady();
    const uri = workspaceFile('wrong-type.rlhf.yaml');
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const seedLine = doc
      .getText()
      .split(/\r?\n/)
      .findIndex((l) => l.startsWith('seed:'));
    assert.ok(seedLine > 0, 'wrong-type.rlhf.yaml has a top-level seed: line');

    const diagnostics = await waitFor('a diagnostic from the fact-rlhf language server', 30_000, () => {
      const ours = vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'fact-rlhf');
      return ours.length ? ours : undefined;
    });
    const seed = diagnostics.find((d) => /`?seed`?/.test(d.message));
    assert.ok(seed, `no diagnostic names seed; got: ${diagnostics.map((d) => d.message).join(' | ')}`);
    assert.equal(seed.range.start.line, seedLine, 'diagnostic line');
    assert.equal(seed.severity, vscode.DiagnosticSeverity.Error);
    assert.match(seed.message, /integer/);
    const code = typeof seed.code === 'object' ? seed.code.value : seed.code;
    assert.equal(code, 'wrong-type');
  });

  it('answers the typed factRlhf/validate request sent through the language client', async function () {
    this.timeout(60_000);
    const api = await activateApi();
    const result = await api.validateConfig(workspaceFile('wrong-type.rlhf.yaml'));
    const seed = result.diagnostics.find((d) => d.code === 'wrong-type' && /seed/.test(d.message));
    assert.ok(seed, `no wrong-type diagnostic for seed; got: ${result.diagnostics.map((d) => d.code).join(', ')}`);
    assert.equal(seed.severity, 'error');
  });
});
