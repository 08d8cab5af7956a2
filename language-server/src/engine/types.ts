// Types shared by the engine modules. Offsets are UTF-16 code-unit indexes into a file's text (the
// unit both JavaScript strings and LSP positions use); lines and columns are 1-based.
import type { ValidationDiagnostic } from '../../../src/protocol/lsp';

export type Severity = ValidationDiagnostic['severity'];

/** A text replacement in one file. */
export interface TextEditSpec {
  start: number;
  end: number;
  /** 1-based positions of start and end, for editors that address by line. */
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  newText: string;
}

/** A quick fix attached to a diagnostic. Its edits apply to `file`. */
export interface Fix {
  title: string;
  file: string;
  edits: TextEditSpec[];
  preferred?: boolean;
}

export interface RelatedLocation {
  file: string;
  start: number;
  end: number;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  message: string;
}

/** A diagnostic as the engine produces it: the wire shape plus offsets, fixes and related places. */
export interface EngineDiagnostic extends ValidationDiagnostic {
  start: number;
  end: number;
  fixes: Fix[];
  related: RelatedLocation[];
}

export interface FileStat {
  isFile: boolean;
  isDirectory: boolean;
  size: number;
  mtimeMs: number;
}

export interface DirEntry {
  name: string;
  isDirectory: boolean;
}

/**
 * What the engine needs from the outside world. Only `readFile` and `exists` are required (the
 * public contract); the optional members unlock kind checks, data-record checks, path completion,
 * environment expansion and the GPU-memory check.
 */
export interface EngineHost {
  readFile(path: string): string | undefined;
  exists(path: string): boolean;
  stat?(path: string): FileStat | undefined;
  /** The first `maxBytes` bytes of a file as UTF-8 (a torn last character is harmless). */
  readHead?(path: string, maxBytes: number): string | undefined;
  listDir?(path: string): DirEntry[] | undefined;
  /** Size in bytes of a file, read at once (not in the background), so a huge config is refused before it is read. */
  sizeOf?(path: string): number | undefined;
  /** Environment used to expand `$VAR` / `${VAR}` in paths (default: none, so such paths are not checked). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Memory of the smallest GPU in GiB (nvidia-smi or a setting); enables the fit check. */
  gpuMemoryGiB?: number;
  /**
   * Records in a data file, when the host counts them itself (the server's background host does,
   * off the typing path); without it the engine reads the file through `readFile`.
   */
  countRecords?(path: string): number | undefined;
  /**
   * False while the facts about `path` are still being read in the background: the answers above
   * are then placeholders (missing, unreadable), and rules that need them wait for the re-validation
   * instead of reporting. Hosts that read synchronously omit it.
   */
  known?(path: string): boolean;
  /** How many answers so far were placeholders; an analysis that saw it grow is incomplete. */
  placeholderCount?(): number;
  /**
   * The workspace is not trusted: the host reads no file a config names (open documents only),
   * and the rules say once per document that file checks are off instead of reporting missing files.
   */
  untrusted?: boolean;
}

export type PathSegment = string | number;
export type KeyPath = readonly PathSegment[];

export function pathToString(path: KeyPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out === '' ? '(document)' : out;
}
