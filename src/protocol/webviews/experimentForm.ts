// The experiment form's contract (see ../ipc.ts for the mechanism): a custom text editor over a
// `*.rlhf.yaml` file. The host owns the document; the view shows the schema's sections and fields
// with their values, where each value comes from, the language server's diagnostics at their
// fields and the derived figures. A field change is a request the host answers once its minimal
// text edit is applied (or refused, with the reason): the text stays the one source of truth.
//
// Host → view: `init` (the fields, from schema/experiment.schema.json; answers `ready`), `values`
// (every field's value and origin, after each change of the text), `diagnostics`, `derived`.
// View → host commands: `reveal` (a diagnostic clicked: show its line in the text editor),
// `openAsText`, `launch` (run a stage on this file), `rendered` (what is on screen, for tests and benches).
// Requests: `edit` (set or reset one field), `applyFix` (a diagnostic's quick fix).
// The pipeline strip and the launch panel (issue #10) get their own messages when they land; the
// view keeps a place for them.

import type { Validator } from '../guards';
import { arrayOf, boolean, finite, integer, literal, number, object, optional, recordOf, string } from '../guards';
import { defineContract } from '../ipc';

/** A value a field holds or writes: YAML scalars and lists of them. */
export type FormValue = string | number | boolean | null | Array<string | number | boolean>;

export type FieldKind = 'number' | 'integer' | 'boolean' | 'enum' | 'string' | 'list';

/** One leaf of the schema. */
export interface FormField {
  /** Dotted key path, e.g. "ppo.kl_coef": the field's id everywhere in this contract. */
  id: string;
  path: string[];
  kind: FieldKind;
  /** Choices of an enum field, or of each item of a list field. */
  choices?: Array<string | number>;
  /** `null` is a valid value (a string-or-null key). */
  nullable?: boolean;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  description?: string;
  default?: FormValue;
  /** The LLaVA-RLHF recipe's value (`x-reference`). */
  reference?: FormValue;
  /** Other names the trainer accepts (`x-aliases`). */
  aliases?: string[];
  /** A file or folder path (`x-path`), resolved against the config's folder. */
  isPath?: boolean;
}

/** Fields of one object of the schema: a section's own leaves, or a nested object such as model.lora. */
export interface FormGroup {
  id: string;
  path: string[];
  description?: string;
  fields: FormField[];
}

/** A top-level section (`general` gathers the top-level leaves: version, extends, name, ...). */
export interface FormSection {
  id: string;
  title: string;
  description?: string;
  groups: FormGroup[];
}

/** Where a field's value comes from. */
export type ValueOrigin =
  { kind: 'file'; line: number } | { kind: 'parent'; file: string; name: string } | { kind: 'default' } | { kind: 'unset' };

export interface FieldState {
  /** Absent when no file sets it and the schema has no default. */
  value?: FormValue | Record<string, unknown>;
  origin: ValueOrigin;
}

export interface FormInitMessage {
  type: 'init';
  /** The file's name, for the title. */
  fileName: string;
  sections: FormSection[];
  /** Edits are refused (an untrusted workspace still edits; a read-only file does not). */
  readOnly: boolean;
}

export interface FormValuesMessage {
  type: 'values';
  /** The TextDocument version these values were read from. */
  version: number;
  /** Field id → state. */
  values: Record<string, FieldState>;
  /** Set when the text cannot be read as YAML: the form shows the reason and stays as it was. */
  parseError?: string;
}

export interface FormDiagnostic {
  id: number;
  /** The field (or group) id it belongs to; absent: shown at the top of the form. */
  field?: string;
  path?: Array<string | number>;
  severity: 'error' | 'warning' | 'information' | 'hint';
  code: string;
  message: string;
  /** Where it is in the text: 1-based. */
  line: number;
  column: number;
  /** The file it belongs to (an `extends` parent for an inherited problem). */
  file: string;
  inherited: boolean;
  fixes: Array<{ title: string }>;
}

export interface FormDiagnosticsMessage {
  type: 'diagnostics';
  version: number;
  items: FormDiagnostic[];
}

export interface FormDerivedMessage {
  type: 'derived';
  version: number;
  /** Figures at the field they follow from. */
  figures: Array<{ field: string; label: string; detail?: string }>;
  memory?: { totalGiB: number; terms: Array<{ label: string; gib: number }> };
  verdict: 'fits' | 'does-not-fit' | 'no-gpu' | 'cpu' | 'unknown';
  summary: string;
}

export type HostToFormView = FormInitMessage | FormValuesMessage | FormDiagnosticsMessage | FormDerivedMessage;

export interface FormRevealMessage {
  type: 'reveal';
  file: string;
  line: number;
  column: number;
}

export interface FormOpenAsTextMessage {
  type: 'openAsText';
}

/** Runs a stage on this file with the existing Start command (the launch panel's backends come later). */
export interface FormLaunchMessage {
  type: 'launch';
  stage: 'sft' | 'rm' | 'ppo' | 'eval';
}

/** After the view has drawn a message: lets the host, tests and benches know what is on screen. */
export interface FormRenderedMessage {
  type: 'rendered';
  /** What was drawn: the init, or the values/diagnostics/derived of a version. */
  what: 'init' | 'values' | 'diagnostics' | 'derived';
  version: number;
  fields: number;
  /** Diagnostics shown at a field. */
  atFields: number;
  /** Milliseconds from the page's start (performance.now()) to this render. */
  at: number;
}

export type FormViewToHost = FormRevealMessage | FormOpenAsTextMessage | FormLaunchMessage | FormRenderedMessage;

export interface EditParams {
  field: string;
  op: 'set' | 'reset';
  value?: FormValue;
}

export interface EditResult {
  applied: boolean;
  /** Why not (the file has YAML errors, the field is unknown, the edit was rejected). */
  error?: string;
}

export interface ApplyFixParams {
  diagnostic: number;
  fix: number;
}

// --- runtime validators ---

const scalar: Validator<string | number | boolean | null> = {
  check: (v, path) =>
    v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))
      ? undefined
      : `${path || 'value'} must be a string, finite number, boolean or null`,
};
const listItem: Validator<string | number | boolean> = {
  check: (v, path) =>
    typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))
      ? undefined
      : `${path} must be a string, finite number or boolean`,
};
const list = arrayOf(listItem);
export const formValue: Validator<FormValue> = {
  check: (v, path) => (Array.isArray(v) ? list.check(v, path) : scalar.check(v, path)),
};
/** A value as the host reads it from YAML: anything JSON-like (a section set to a scalar, a map). */
const anyValue: Validator<FormValue | Record<string, unknown>> = {
  check: (v, path) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? undefined : formValue.check(v, path)),
};
const stringList = arrayOf(string);
const choiceList = arrayOf({
  check: (v: unknown, p: string) => (typeof v === 'string' || typeof v === 'number' ? undefined : `${p} must be a string or number`),
});
const field = object({
  id: string,
  path: stringList,
  kind: literal('number', 'integer', 'boolean', 'enum', 'string', 'list'),
  choices: optional(choiceList),
  nullable: optional(boolean),
  minimum: optional(number),
  maximum: optional(number),
  exclusiveMinimum: optional(number),
  exclusiveMaximum: optional(number),
  description: optional(string),
  default: optional(formValue),
  reference: optional(formValue),
  aliases: optional(stringList),
  isPath: optional(boolean),
}) as Validator<FormField>;
const group = object({ id: string, path: stringList, description: optional(string), fields: arrayOf(field) });
const section = object({ id: string, title: string, description: optional(string), groups: arrayOf(group) });
const origin: Validator<ValueOrigin> = {
  check(v, path) {
    const kind = (v as { kind?: unknown } | null)?.kind;
    if (kind === 'file') return object({ line: integer }).check(v, path);
    if (kind === 'parent') return object({ file: string, name: string }).check(v, path);
    if (kind === 'default' || kind === 'unset') return undefined;
    return `${path}.kind must be one of "file", "parent", "default", "unset"`;
  },
};
const fieldState = object({ value: optional(anyValue), origin });
const severity = literal('error', 'warning', 'information', 'hint');
const diagnostic = object({
  id: integer,
  field: optional(string),
  path: optional(
    arrayOf({ check: (v: unknown, p: string) => (typeof v === 'string' || typeof v === 'number' ? undefined : `${p} must be a key`) }),
  ),
  severity,
  code: string,
  message: string,
  line: integer,
  column: integer,
  file: string,
  inherited: boolean,
  fixes: arrayOf(object({ title: string })),
});

export const experimentFormContract = defineContract<
  {
    init: FormInitMessage;
    values: FormValuesMessage;
    diagnostics: FormDiagnosticsMessage;
    derived: FormDerivedMessage;
  },
  {
    reveal: FormRevealMessage;
    openAsText: FormOpenAsTextMessage;
    launch: FormLaunchMessage;
    rendered: FormRenderedMessage;
  },
  {
    edit: { params: EditParams; result: EditResult };
    applyFix: { params: ApplyFixParams; result: EditResult };
  }
>({
  name: 'experiment form',
  notifications: {
    init: object({ type: literal('init'), fileName: string, sections: arrayOf(section), readOnly: boolean }) as Validator<FormInitMessage>,
    values: object({
      type: literal('values'),
      version: integer,
      values: recordOf(fieldState),
      parseError: optional(string),
    }) as Validator<FormValuesMessage>,
    diagnostics: object({
      type: literal('diagnostics'),
      version: integer,
      items: arrayOf(diagnostic),
    }) as Validator<FormDiagnosticsMessage>,
    derived: object({
      type: literal('derived'),
      version: integer,
      figures: arrayOf(object({ field: string, label: string, detail: optional(string) })),
      memory: optional(object({ totalGiB: finite, terms: arrayOf(object({ label: string, gib: finite })) })),
      verdict: literal('fits', 'does-not-fit', 'no-gpu', 'cpu', 'unknown'),
      summary: string,
    }) as Validator<FormDerivedMessage>,
  },
  commands: {
    reveal: object({ type: literal('reveal'), file: string, line: integer, column: integer }) as Validator<FormRevealMessage>,
    openAsText: object({ type: literal('openAsText') }) as Validator<FormOpenAsTextMessage>,
    launch: object({ type: literal('launch'), stage: literal('sft', 'rm', 'ppo', 'eval') }) as Validator<FormLaunchMessage>,
    rendered: object({
      type: literal('rendered'),
      what: literal('init', 'values', 'diagnostics', 'derived'),
      version: integer,
      fields: integer,
      atFields: integer,
      at: finite,
    }) as Validator<FormRenderedMessage>,
  },
  requests: {
    edit: {
      params: object({ field: string, op: literal('set', 'reset'), value: optional(formValue) }) as Validator<EditParams>,
      result: object({ applied: boolean, error: optional(string) }) as Validator<EditResult>,
    },
    applyFix: {
      params: object({ diagnostic: integer, fix: integer }) as Validator<ApplyFixParams>,
      result: object({ applied: boolean, error: optional(string) }) as Validator<EditResult>,
    },
  },
});

export type ExperimentFormContract = typeof experimentFormContract;

/** Field id of a key path ("ppo.kl_coef"). */
export function fieldId(path: readonly (string | number)[]): string {
  return path.join('.');
}
