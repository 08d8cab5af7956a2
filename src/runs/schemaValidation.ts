// Validators compiled from schema/ — the one contract between the trainer and the editor.
import Ajv, { type ValidateFunction, type ErrorObject } from 'ajv';
import runEventSchema from '../../schema/run-event.schema.json';
import sampleRecordSchema from '../../schema/sample-record.schema.json';
import runManifestSchema from '../../schema/run-manifest.schema.json';
import type { RunEvent, SampleRecord, RunManifest } from '../protocol';

let ajv: Ajv | undefined;
const compiled = new Map<string, ValidateFunction>();

function validator(name: string, schema: object): ValidateFunction {
  let v = compiled.get(name);
  if (!v) {
    ajv ??= new Ajv({ strict: false, allErrors: false });
    v = ajv.compile(schema);
    compiled.set(name, v);
  }
  return v;
}

export function formatSchemaErrors(errors: ErrorObject[] | null | undefined): string {
  if (!errors || errors.length === 0) return 'invalid';
  // oneOf failures list every branch; the most specific error is the deepest one.
  const deepest = [...errors].sort((a, b) => b.instancePath.length - a.instancePath.length)[0];
  const where = deepest.instancePath ? deepest.instancePath.slice(1).replace(/\//g, '.') : '(root)';
  return `${where}: ${deepest.message ?? 'invalid'}`;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

function check<T>(name: string, schema: object, value: unknown): Checked<T> {
  const v = validator(name, schema);
  return v(value) ? { ok: true, value: value as T } : { ok: false, error: formatSchemaErrors(v.errors) };
}

export const checkRunEvent = (value: unknown): Checked<RunEvent> => check('run-event', runEventSchema, value);
export const checkSampleRecord = (value: unknown): Checked<SampleRecord> =>
  check('sample-record', sampleRecordSchema, value);
export const checkRunManifest = (value: unknown): Checked<RunManifest> =>
  check('run-manifest', runManifestSchema, value);
