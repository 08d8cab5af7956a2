// The experiment form inside a real VS Code (code-server): opened on the tiny config with the
// "Open as Form" command, its real webview draws the schema's fields; a field edit goes through the
// form's host channel (validated there, exactly as the webview's own message) and becomes a
// minimal WorkspaceEdit; after a save only that line differs on disk; the language server's error
// diagnostic reaches the field by its key path, and the webview draws it there.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { ReplyMessage } from '../../../src/protocol/ipc';
import type { FormDiagnosticsMessage } from '../../../src/protocol/webviews/experimentForm';
import { activateApi, waitFor, workspaceFile } from './helpers';

describe('experiment form', () => {
  it('opens on the tiny config, edits ppo.kl_coef as one line, and shows an error at its field', async function () {
    this.timeout(120_000);
    const api = await activateApi();
    await api.languageClientReady();
    const uri = workspaceFile('tiny-ppo.rlhf.yaml');
    const original = readFileSync(uri.fsPath, 'utf8');
    const hooks = api.experimentForm;
    try {
      await vscode.commands.executeCommand('factRlhf.openAsForm', uri);
      const tab = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
      assert.ok(tab instanceof vscode.TabInputCustom && tab.viewType === 'factRlhf.experimentForm', 'the form is the active tab');
      // The real webview drew every field and then the language server's diagnostics.
      const init = await waitFor('the form webview to draw its fields', 30_000, () => hooks.rendered(uri).find((m) => m.what === 'init'));
      assert.ok(init.fields > 100, `${init.fields} fields drawn`);
      await waitFor('diagnostics for the first version', 30_000, () => hooks.sent(uri).find((m) => m.type === 'diagnostics'));

      // Not set in this file (it comes from the extends parent): the edit inserts one line under ppo.
      const values = hooks.sent(uri).find((m) => m.type === 'values');
      assert.equal(values?.type === 'values' && values.values['ppo.kl_coef'].origin.kind, 'parent');
      const edit = async (value: number): Promise<ReplyMessage | undefined> =>
        hooks.receive(uri, { type: 'request', method: 'edit', params: { field: 'ppo.kl_coef', op: 'set', value } });
      const reply = await edit(0.2);
      assert.deepEqual(reply && reply.ok && reply.result, { applied: true });
      const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
      assert.ok(doc?.isDirty, 'the edit made the document dirty (VS Code owns undo, dirty and save)');
      assert.ok(await doc.save());
      const saved = readFileSync(uri.fsPath, 'utf8');
      const before = original.split('\n');
      const after = saved.split('\n');
      assert.equal(after.length, before.length + 1, 'one line added');
      const at = after.indexOf('  kl_coef: 0.2');
      assert.ok(at > 0, saved);
      assert.deepEqual([...after.slice(0, at), ...after.slice(at + 1)], before, 'every other line byte for byte the same');

      // A malformed message from the "view" is dropped by the channel, not acted on.
      const bad = await hooks.receive(uri, { type: 'request', method: 'edit', params: { field: 'ppo.kl_coef', op: 'delete' } });
      assert.ok(bad && !bad.ok, 'the channel refused an edit with an unknown op');

      // An out-of-range value: the server's error arrives at the field, with its key path.
      await edit(-1);
      const version = doc.version;
      const diags = await waitFor('an error diagnostic at ppo.kl_coef', 30_000, () =>
        hooks
          .sent(uri)
          .filter((m): m is FormDiagnosticsMessage => m.type === 'diagnostics' && m.version === version)
          .find((m) => m.items.some((d) => d.field === 'ppo.kl_coef' && d.severity === 'error')),
      );
      const d = diags.items.find((x) => x.field === 'ppo.kl_coef')!;
      assert.deepEqual(d.path, ['ppo', 'kl_coef']);
      assert.equal(d.line, at + 1, 'the diagnostic sits on the edited line');
      await waitFor('the webview to draw it at the field', 30_000, () =>
        hooks.rendered(uri).find((m) => m.what === 'diagnostics' && m.version === version && m.atFields > 0),
      );
    } finally {
      // Leave the workspace's config as the other tests expect it.
      const doc = await vscode.workspace.openTextDocument(uri);
      const all = new vscode.WorkspaceEdit();
      all.replace(uri, new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length)), original);
      await vscode.workspace.applyEdit(all);
      await doc.save();
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  });
});
