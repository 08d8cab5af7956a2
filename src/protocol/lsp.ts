// Custom LSP requests and notifications between the language client and server (one typed file,
// as rust-analyzer does). Method names are the wire contract.

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

/** Request: validate a document on demand (code lens "Validate", tests). */
export const VALIDATE_REQUEST = 'factRlhf/validate';
