// The config engine: everything the language server and the CLI know about `*.rlhf.yaml` files,
// with no editor dependency. `validateText`/`validateFile` are the CLI's entry points; the server
// uses `analyze` and the editor features built on it.
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import type { ValidationDiagnostic } from '../../../src/protocol/lsp';
import { analyze } from './analyze';
import { createNodeHost } from './host';
import type { EngineHost } from './types';
import { toValidationDiagnostic } from './formInfo';

export { analyze } from './analyze';
export type { Analysis } from './analyze';
export { hover } from './hover';
export type { HoverResult } from './hover';
export { complete } from './completion';
export type { CompletionEntry, CompletionKind } from './completion';
export { inlayHints } from './inlayHints';
export type { InlayHintEntry } from './inlayHints';
export { codeActions, codeLenses, documentLinks } from './actions';
export type { CodeActionEntry, CodeLensEntry, DocumentLinkEntry } from './actions';
export { createNodeHost } from './host';
export type { NodeHostOptions } from './host';
export { createBackgroundHost } from './backgroundHost';
export type { BackgroundHost, BackgroundHostOptions } from './backgroundHost';
export { estimatePpoMemory } from './memory';
export { derivedInfo, diagnosticsWithPaths, toValidationDiagnostic } from './formInfo';
export type { GpuFacts } from './formInfo';
export type { EngineDiagnostic, EngineHost, Fix, TextEditSpec, RelatedLocation } from './types';

/** The largest config file `validateFile` reads (its `extends` parents: MAX_CONFIG_BYTES). */
export const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

/**
 * Validates config text. `filePath` names the file (relative paths in the config resolve against
 * its folder; it should be absolute). Without `host` nothing outside the text is read, so
 * `extends` and file checks report what they cannot find. Never throws.
 */
export function validateText(text: string, filePath: string, host?: EngineHost): ValidationDiagnostic[] {
  try {
    return analyze(text, filePath, host).diagnostics.map(toValidationDiagnostic);
  } catch (e) {
    return [
      {
        line: 1,
        column: 1,
        endLine: 1,
        endColumn: 1,
        severity: 'error',
        code: 'internal-error',
        message: `Internal error: ${e instanceof Error ? e.message : String(e)}`,
        file: filePath,
      },
    ];
  }
}

/** Validates a config file on disk, following `extends` and checking the paths it names. */
export function validateFile(
  filePath: string,
  options: { env?: Readonly<Record<string, string | undefined>>; gpuMemoryGiB?: number } = {},
): ValidationDiagnostic[] {
  const abs = nodePath.resolve(filePath);
  let text: string;
  try {
    // A config is small; a huge file given by mistake is refused before it fills the memory.
    const size = fs.statSync(abs).size;
    if (size > MAX_DOCUMENT_BYTES) {
      return [
        {
          line: 1,
          column: 1,
          endLine: 1,
          endColumn: 1,
          severity: 'error',
          code: 'file-too-large',
          message: `${abs} is ${(size / 1024 / 1024).toFixed(1)} MB; a config file is at most ${MAX_DOCUMENT_BYTES / 1024 / 1024} MB, so it is not read`,
          file: abs,
        },
      ];
    }
    text = fs.readFileSync(abs, 'utf8');
  } catch (e) {
    const reason = e instanceof Error && 'code' in e && e.code === 'ENOENT' ? 'file not found' : e instanceof Error ? e.message : String(e);
    return [
      {
        line: 1,
        column: 1,
        endLine: 1,
        endColumn: 1,
        severity: 'error',
        code: 'file-unreadable',
        message: `Cannot read ${abs}: ${reason}`,
        file: abs,
      },
    ];
  }
  return validateText(text, abs, createNodeHost({ env: options.env ?? process.env, gpuMemoryGiB: options.gpuMemoryGiB }));
}
export { findPath } from './yamlFile';
export { warmUp } from './schemaRules';
export { configsForStage, stageFit } from './runnable';
export type { LaunchStage, StageFit } from './runnable';
