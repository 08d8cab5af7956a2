// Small runtime validators for messages that cross a trust boundary (webview ↔ host). Each returns
// undefined when the value fits, or a one-line reason naming the offending path, so a dropped
// message can be logged with why. Hand-written rather than ajv: the webview bundle stays small and
// a 4M-point snapshot is checked with plain loops, no per-element allocation.

/** A validator of T: `check(value, path)` is undefined when `value` is a T. */
export interface Validator<T> {
  check(value: unknown, path: string): string | undefined;
  /** Phantom: carries T for type inference only, never set. */
  readonly __type?: T;
}

export type Infer<V> = V extends Validator<infer T> ? T : never;

export function is<T>(validator: Validator<T>, value: unknown): value is T {
  return validator.check(value, '') === undefined;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? 'a long string' : JSON.stringify(value);
  if (typeof value === 'number') return String(value);
  return typeof value === 'object' ? 'an object' : typeof value;
}

const at = (path: string): string => path || 'message';

function leaf<T>(what: string, test: (value: unknown) => boolean): Validator<T> {
  return { check: (value, path) => (test(value) ? undefined : `${at(path)} must be ${what}, got ${describe(value)}`) };
}

export const string = leaf<string>('a string', (v) => typeof v === 'string');
export const number = leaf<number>('a number', (v) => typeof v === 'number');
export const finite = leaf<number>('a finite number', (v) => typeof v === 'number' && Number.isFinite(v));
export const integer = leaf<number>('an integer', (v) => Number.isInteger(v));
export const boolean = leaf<boolean>('a boolean', (v) => typeof v === 'boolean');

export function literal<const L extends readonly (string | number | boolean)[]>(...values: L): Validator<L[number]> {
  const set = new Set<unknown>(values);
  return leaf(`one of ${values.map((v) => JSON.stringify(v)).join(', ')}`, (v) => set.has(v));
}

export function optional<T>(inner: Validator<T>): Validator<T | undefined> {
  return { check: (value, path) => (value === undefined ? undefined : inner.check(value, path)) };
}

export function nullable<T>(inner: Validator<T>): Validator<T | null> {
  return { check: (value, path) => (value === null ? undefined : inner.check(value, path)) };
}

export function arrayOf<T>(item: Validator<T>): Validator<T[]> {
  return {
    check(value, path) {
      if (!Array.isArray(value)) return `${at(path)} must be an array, got ${describe(value)}`;
      for (let i = 0; i < value.length; i++) {
        const reason = item.check(value[i], `${path}[${i}]`);
        if (reason) return reason;
      }
      return undefined;
    },
  };
}

/** number[] (nulls allowed when `withNull`): one tight loop, for the long columns of a series. */
export function numberArray(withNull: true): Validator<(number | null)[]>;
export function numberArray(withNull?: false): Validator<number[]>;
export function numberArray(withNull = false): Validator<(number | null)[]> {
  return {
    check(value, path) {
      if (!Array.isArray(value)) return `${at(path)} must be an array, got ${describe(value)}`;
      for (let i = 0; i < value.length; i++) {
        const v: unknown = value[i];
        if (typeof v !== 'number' && !(withNull && v === null))
          return `${path}[${i}] must be a number${withNull ? ' or null' : ''}, got ${describe(v)}`;
      }
      return undefined;
    },
  };
}

/**
 * A column of a series: a Float64Array (any float64 is a number; NaN stands for "no value"), or a
 * number[] as numberArray checks it. The typed array is accepted as it is, with no per-element loop.
 */
export function numberColumn(withNull: true): Validator<Float64Array | (number | null)[]>;
export function numberColumn(withNull?: false): Validator<Float64Array | number[]>;
export function numberColumn(withNull = false): Validator<Float64Array | (number | null)[]> {
  const plain = withNull ? numberArray(true) : numberArray();
  return { check: (value, path) => (isFloat64Array(value) ? undefined : plain.check(value, path)) };
}

/** instanceof, or the tag for an array made in another realm (a frame, a worker). */
export function isFloat64Array(value: unknown): value is Float64Array {
  return value instanceof Float64Array || Object.prototype.toString.call(value) === '[object Float64Array]';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function recordOf<T>(item: Validator<T>): Validator<Record<string, T>> {
  return {
    check(value, path) {
      if (!isPlainObject(value)) return `${at(path)} must be an object, got ${describe(value)}`;
      for (const key of Object.keys(value)) {
        const reason = item.check(value[key], `${path}[${JSON.stringify(key)}]`);
        if (reason) return reason;
      }
      return undefined;
    },
  };
}

type Shape = Record<string, Validator<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: undefined extends Infer<S[K]> ? K : never }[keyof S];
type ObjectOf<S extends Shape> = { [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> };

/** An object with (at least) these fields; fields it does not name are allowed and ignored. */
export function object<S extends Shape>(shape: S): Validator<{ [K in keyof ObjectOf<S>]: ObjectOf<S>[K] }> {
  const keys = Object.keys(shape);
  return {
    check(value, path) {
      if (!isPlainObject(value)) return `${at(path)} must be an object, got ${describe(value)}`;
      for (const key of keys) {
        const reason = shape[key].check(value[key], path ? `${path}.${key}` : key);
        if (reason) return reason;
      }
      return undefined;
    },
  };
}
