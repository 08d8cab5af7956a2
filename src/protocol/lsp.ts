// Custom LSP requests and notifications between the language client and server (one typed file,
// as rust-analyzer does): each is a typed request object that the client sends and the server
// handles, so params and result types cannot drift apart. Method names are the wire contract.
// The one runtime import of the protocol folder: vscode-languageserver-protocol, the package both
// vscode-languageclient and vscode-languageserver are built on (their RequestType is this one).
import { RequestType } from 'vscode-languageserver-protocol';

export interface ValidateParams {
  uri: string;
  /** Also send each diagnostic's quick fixes (the experiment form offers them at the field). */
  withFixes?: boolean;
}

/** A text replacement of a quick fix, 1-based like the diagnostic; it applies to the fix's `file`. */
export interface ValidationEdit {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  newText: string;
}

export interface ValidationFix {
  title: string;
  file: string;
  edits: ValidationEdit[];
  preferred?: boolean;
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
  /**
   * Key path (in `file`, which is also the merged config's path) of the key or value the diagnostic
   * starts on, e.g. ["ppo", "kl_coef"]; absent for a diagnostic on no key (syntax errors, the file).
   */
  path?: Array<string | number>;
  /** Quick fixes, when the request asked for them (`withFixes`). */
  fixes?: ValidationFix[];
}

export interface ValidateResult {
  diagnostics: ValidationDiagnostic[];
  /** The version of the open document that was validated (absent for a file read from disk). */
  version?: number;
  /** Set when the server could not finish the check (a timeout, an internal error): not "no problems". */
  incomplete?: string;
}

/** Request: validate a document on demand (code lens "Validate", the experiment form, tests). */
export const ValidateRequest = new RequestType<ValidateParams, ValidateResult, void>('factRlhf/validate');

/** The method name on the wire, for clients that speak plain JSON-RPC (protocol tests). */
export const VALIDATE_REQUEST = ValidateRequest.method;

export interface DerivedParams {
  uri: string;
}

/** A figure that follows from the config (the inlay hints' values), at the key it follows from. */
export interface DerivedFigure {
  path: string[];
  label: string;
  /** The arithmetic behind it. */
  detail?: string;
}

export interface MemoryTerm {
  label: string;
  bytes: number;
}

/**
 * fits / does-not-fit: against the smallest detected GPU; no-gpu: none detected (the run goes to the
 * CPU); cpu: `launch.device: cpu`, no GPU memory needed; unknown: no estimate (unknown model shape).
 */
export type MemoryVerdict = 'fits' | 'does-not-fit' | 'no-gpu' | 'cpu' | 'unknown';

export interface DerivedResult {
  figures: DerivedFigure[];
  /** The per-GPU PPO peak-memory estimate, when the model's shape is known. */
  memory?: { totalBytes: number; terms: MemoryTerm[]; assumptions: string[] };
  /** The GPUs found (nvidia-smi) or set (`factRlhf.gpuMemoryGiB`); absent when none. */
  gpu?: { memoryGiB: number; count?: number; source: 'nvidia-smi' | 'setting' };
  verdict: MemoryVerdict;
  /** One line: the verdict in words, with what to change when it does not fit. */
  summary: string;
  version?: number;
}

/** Request: derived figures and the GPU-memory verdict of a config (the experiment form). */
export const DerivedRequest = new RequestType<DerivedParams, DerivedResult, void>('factRlhf/derived');
