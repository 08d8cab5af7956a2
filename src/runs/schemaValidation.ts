// Validators compiled from schema/ — the one contract between the trainer and the editor.
import type Ajv from 'ajv';
import type * as AjvModule from 'ajv';
import type { ValidateFunction, ErrorObject } from 'ajv';
import runEventSchema from '../../schema/run-event.schema.json';
import sampleRecordSchema from '../../schema/sample-record.schema.json';
import runManifestSchema from '../../schema/run-manifest.schema.json';
import type { RunEvent, SampleRecord, RunManifest } from '../protocol';

let ajv: Ajv | undefined;
const compiled = new Map<string, ValidateFunction>();

function validator(name: string, schema: object): ValidateFunction {
  let v = compiled.get(name);
  if (!v) {
    // Loaded on first use, not at import: the extension's activation imports this module's users
    // (the trace view's hub) but validates nothing until a run is opened (DESIGN.md §7, < 100 ms).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const AjvClass = (require('ajv') as typeof AjvModule).default;
    ajv ??= new AjvClass({ strict: false, allErrors: false });
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

// Metric lines are nearly all of a run's events: they take a fast path that checks exactly what the
// schema's MetricEvent says (its key pattern read from the schema), and anything it does not accept
// goes through ajv, which also produces the error message. A unit test keeps both in agreement.
const METRIC_KEY = new RegExp(runEventSchema.definitions.MetricEvent.properties.values.propertyNames.pattern);
const METRIC_FIELDS = Object.keys(runEventSchema.definitions.MetricEvent.properties).length;
const knownMetricKeys = new Set<string>();

export function isValidMetricEventFast(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const e = value as Record<string, unknown>;
  if (e.type !== 'metric' || e.v !== 1 || typeof e.t !== 'number' || typeof e.step !== 'number') return false;
  if (!Number.isInteger(e.step) || e.step < 0) return false;
  let fields = 0;
  for (const _ in e) fields++;
  if (fields !== METRIC_FIELDS) return false; // additionalProperties: false, all required
  const values = e.values;
  if (typeof values !== 'object' || values === null || Array.isArray(values)) return false;
  const v = values as Record<string, unknown>;
  for (const key in v) {
    const x = v[key];
    if (x !== null && typeof x !== 'number') return false;
    if (!knownMetricKeys.has(key)) {
      if (!METRIC_KEY.test(key)) return false;
      if (knownMetricKeys.size < 10_000) knownMetricKeys.add(key);
    }
  }
  return true;
}

/**
 * The reader's hot path for a parsed line: when `value` is a metric event the schema accepts, with a
 * finite `t`, it replaces non-finite values (JSON.parse reads `1e999` as Infinity) by null, as the
 * reader's own sanitising would, and returns how many; otherwise -1 and leaves `value` untouched, for
 * ajv and the full sanitising to judge. One pass over the values; the key pattern is tested only for
 * a key not seen at the same position of the previous line (a run's lines repeat their keys).
 */
export function takeMetricEventFast(value: unknown): number {
  if (typeof value !== 'object' || value === null) return -1;
  const e = value as Record<string, unknown>;
  if (e.type !== 'metric' || e.v !== 1) return -1;
  const t = e.t;
  const step = e.step;
  if (typeof t !== 'number' || t - t !== 0) return -1; // t - t is 0 exactly for finite numbers
  if (typeof step !== 'number' || !Number.isInteger(step) || step < 0) return -1;
  let fields = 0;
  for (const _ in e) fields++;
  if (fields !== METRIC_FIELDS) return -1;
  const values = e.values;
  if (typeof values !== 'object' || values === null || Array.isArray(values)) return -1;
  const v = values as Record<string, unknown>;
  let i = 0;
  let nonFinite = 0;
  for (const key in v) {
    const x = v[key];
    if (typeof x === 'number') {
      if (x - x !== 0) nonFinite++;
    } else if (x !== null) return -1;
    if (lastKeys[i] !== key) {
      if (!knownMetricKeys.has(key)) {
        if (!METRIC_KEY.test(key)) return -1;
        if (knownMetricKeys.size < 10_000) knownMetricKeys.add(key);
      }
      if (i < 256) lastKeys[i] = key;
    }
    i++;
  }
  if (nonFinite) for (const key in v) if (typeof v[key] === 'number' && !Number.isFinite(v[key])) v[key] = null;
  return nonFinite;
}
/** The keys of the last metric line taken, by position: the same key again needs no pattern test. */
const lastKeys: string[] = [];

export const checkRunEvent = (value: unknown): Checked<RunEvent> =>
  isValidMetricEventFast(value) ? { ok: true, value: value as RunEvent } : check('run-event', runEventSchema, value);
export const checkSampleRecord = (value: unknown): Checked<SampleRecord> => check('sample-record', sampleRecordSchema, value);
export const checkRunManifest = (value: unknown): Checked<RunManifest> => check('run-manifest', runManifestSchema, value);
