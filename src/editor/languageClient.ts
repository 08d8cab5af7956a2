// Starts the *.rlhf.yaml language server (dist/language-server.js) over IPC.
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { DerivedRequest, ValidateRequest, type DerivedResult, type ValidateResult } from '../protocol/lsp';

export function createLanguageClient(context: vscode.ExtensionContext): LanguageClient {
  const module = vscode.Uri.joinPath(context.extensionUri, 'dist', 'language-server.js').fsPath;
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
  };
  const clientOptions: LanguageClientOptions = {
    // Keep VS Code's own YAML language (highlighting); we only claim *.rlhf.yaml files on disk.
    documentSelector: [
      { scheme: 'file', pattern: '**/*.rlhf.yaml' },
      { scheme: 'untitled', language: 'yaml' },
    ],
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher('**/*.{rlhf.yaml,json,jsonl}'),
      configurationSection: 'factRlhf',
    },
    // Read at each (re)start. Untrusted: the server runs no program and reads no file a config names.
    initializationOptions: () => ({
      gpuMemoryGiB: vscode.workspace.getConfiguration('factRlhf').get<number>('gpuMemoryGiB', 0),
      workspaceTrusted: vscode.workspace.isTrusted,
    }),
    outputChannelName: 'Fact-RLHF Language Server',
  };
  const client = new LanguageClient('factRlhf', 'Fact-RLHF Config', serverOptions, clientOptions);
  // Trust is granted once per workspace and never revoked in a session: restart with it.
  context.subscriptions.push(vscode.workspace.onDidGrantWorkspaceTrust(() => void client.restart().catch(() => undefined)));
  return client;
}

/** Validates a config (open or on disk) with the full set of rules, file checks included. */
export function validateConfig(client: LanguageClient, uri: vscode.Uri, withFixes = false): Promise<ValidateResult> {
  return client.sendRequest(ValidateRequest, withFixes ? { uri: uri.toString(), withFixes } : { uri: uri.toString() });
}

/** The derived figures and GPU-memory verdict of a config (the experiment form). */
export function configDerived(client: LanguageClient, uri: vscode.Uri): Promise<DerivedResult> {
  return client.sendRequest(DerivedRequest, { uri: uri.toString() });
}
