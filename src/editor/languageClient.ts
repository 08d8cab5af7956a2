// Starts the *.rlhf.yaml language server (dist/language-server.js) over IPC.
import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  LanguageClient,
  TransportKind,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import { DerivedRequest, ValidateRequest, type DerivedResult, type ValidateResult } from '../protocol/lsp';
import { renamedSettingValue } from './renamedSetting';

/**
 * The GPU size setting. Renamed from `factRlhf.gpuMemoryGiB` because VS Code titles a setting from
 * its key alone (no title field for a contributed setting): the last segment's camelCase is split
 * before each capital that follows a lowercase letter or digit, and a run of capitals stays whole
 * (`memoryPerGPU` → "Memory Per GPU", but `gpuMemoryGiB` → "Gpu Memory Gi B").
 * test/unit/settingTitles.test.ts applies that rule to every contributed key.
 */
export const GPU_MEMORY_SETTING = 'memoryPerGPU';
/** The old name: still read where the new one is not set (deprecated in package.json). */
export const LEGACY_GPU_MEMORY_SETTING = 'gpuMemoryGiB';

const isGiB = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/** GPU memory per device in GiB from the settings, new key or old; 0: detect, or skip the check. */
export function gpuMemoryGiB(): number {
  const settings = vscode.workspace.getConfiguration('factRlhf');
  return renamedSettingValue(settings.inspect(GPU_MEMORY_SETTING), settings.inspect(LEGACY_GPU_MEMORY_SETTING), 0, isGiB);
}

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
    // No configurationSection: the server is sent the resolved GPU size (below), not the raw section,
    // so that the renamed key's precedence lives in one place.
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher('**/*.{rlhf.yaml,json,jsonl}') },
    // Read at each (re)start. Untrusted: the server runs no program and reads no file a config names.
    initializationOptions: () => ({ gpuMemoryGiB: gpuMemoryGiB(), workspaceTrusted: vscode.workspace.isTrusted }),
    outputChannelName: 'Fact-RLHF Language Server',
  };
  const client = new LanguageClient('factRlhf', 'Fact-RLHF Config', serverOptions, clientOptions);
  // Trust is granted once per workspace and never revoked in a session: restart with it.
  context.subscriptions.push(vscode.workspace.onDidGrantWorkspaceTrust(() => void client.restart().catch(() => undefined)));
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration(`factRlhf.${GPU_MEMORY_SETTING}`) && !e.affectsConfiguration(`factRlhf.${LEGACY_GPU_MEMORY_SETTING}`))
        return;
      // The server's option keeps its old name; before the client runs, initializationOptions carries it.
      if (!client.isRunning()) return;
      const settings = { factRlhf: { gpuMemoryGiB: gpuMemoryGiB() } };
      void client.sendNotification(DidChangeConfigurationNotification.type, { settings }).catch(() => undefined);
    }),
  );
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
