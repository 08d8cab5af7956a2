// Custom LSP requests and notifications between the language client and server (one typed file,
// as rust-analyzer does): each is a typed request object that the client sends and the server
// handles, so params and result types cannot drift apart. Method names are the wire contract.
// The one runtime import of the protocol folder: vscode-languageserver-protocol, the package both
// vscode-languageclient and vscode-languageserver are built on (their RequestType is this one).
import { RequestType } from 'vscode-languageserver-protocol';

export interface ValidateParams {
  uri: string;
}

export interface ValidationDiagnostic {
  /** 1-based line and column of the start of the offending key or value. */
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  severity: 'error' | 'warning' | 'information' | 'hint';
  code: string;
  message: string;
  /** The file the diagnostic belongs to (differs from the validated file under `extends`). */
  file: string;
}

export interface ValidateResult {
  diagnostics: ValidationDiagnostic[];
}

/** Request: validate a document on demand (code lens "Validate", the experiment form, tests). */
export const ValidateRequest = new RequestType<ValidateParams, ValidateResult, void>('factRlhf/validate');

/** The method name on the wire, for clients that speak plain JSON-RPC (protocol tests). */
export const VALIDATE_REQUEST = ValidateRequest.method;
