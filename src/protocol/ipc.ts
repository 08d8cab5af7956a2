// The one message mechanism between the extension host and every webview app, with no `vscode`
// import so both sides (and tests) share it. Three kinds of message, each an object with `type`:
//   notifications  host → view   e.g. {type: 'snapshot', runs}
//   commands       view → host   e.g. {type: 'selectStep', runId, step}; `ready` is built in
//   requests       view asks, host answers: {type: 'request', id, method, params} →
//                  {type: 'reply', id, ok: true, result} | {type: 'reply', id, ok: false, error}
// Each webview declares its messages once, in a contract (src/protocol/webviews/<app>.ts), with a
// runtime validator per message: anything that comes in is checked before it is acted on.
import type { Validator } from './guards';
import { integer, literal, object, string } from './guards';

export interface WireMessage {
  type: string;
}

/** The view's handshake: sent once its listener is in place; the host posts nothing it would miss before. */
export interface ReadyMessage {
  type: 'ready';
}

export interface RequestMessage<M extends string = string, P = unknown> {
  type: 'request';
  /** Chosen by the view, unique among its pending requests; the reply carries it back. */
  id: number;
  method: M;
  params: P;
}

export type ReplyMessage<R = unknown> =
  { type: 'reply'; id: number; ok: true; result: R } | { type: 'reply'; id: number; ok: false; error: string };

/** Message `type` → the whole message. */
export type MessageSpecs = Record<string, WireMessage>;
export interface RequestSpec<P = unknown, R = unknown> {
  params: P;
  result: R;
}
/** Request method → its params and result. */
export type RequestSpecs = Record<string, RequestSpec>;

type Validators<M> = { readonly [K in keyof M]: Validator<M[K]> };
type RequestValidators<R extends RequestSpecs> = {
  readonly [K in keyof R]: { readonly params: Validator<R[K]['params']>; readonly result: Validator<R[K]['result']> };
};

export interface WebviewContract<N extends MessageSpecs, C extends MessageSpecs, R extends RequestSpecs> {
  /** Names the webview in logs. */
  readonly name: string;
  readonly notifications: Validators<N>;
  /** Includes `ready`. */
  readonly commands: Validators<C>;
  readonly requests: RequestValidators<R>;
  /** Phantom: the message types, for inference only. */
  readonly __types?: { notifications: N; commands: C; requests: R };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- matches a contract of any messages
export type AnyContract = WebviewContract<any, any, any>;
type Types<T extends AnyContract> = NonNullable<T['__types']>;
/** Union of the host → view notifications of a contract. */
export type NotificationOf<T extends AnyContract> = Types<T>['notifications'][keyof Types<T>['notifications']];
/** Union of the view → host commands of a contract (with `ready`). */
export type CommandOf<T extends AnyContract> = Types<T>['commands'][keyof Types<T>['commands']];
export type RequestsOf<T extends AnyContract> = Types<T>['requests'];
export type MethodOf<T extends AnyContract> = keyof RequestsOf<T> & string;
export type ParamsOf<T extends AnyContract, M extends MethodOf<T>> = RequestsOf<T>[M]['params'];
export type ResultOf<T extends AnyContract, M extends MethodOf<T>> = RequestsOf<T>[M]['result'];

const RESERVED = new Set(['request', 'reply', 'ready']);
const isReady = object({ type: literal('ready') });

/**
 * Declares a webview's messages once. `ready` is added to the commands; `request`, `reply` and
 * `ready` are reserved and may not be declared.
 */
export function defineContract<N extends MessageSpecs, C extends MessageSpecs, R extends RequestSpecs = Record<never, RequestSpec>>(spec: {
  name: string;
  notifications: Validators<N>;
  commands: Validators<C>;
  requests?: RequestValidators<R>;
}): WebviewContract<N, C & { ready: ReadyMessage }, R> {
  for (const key of [...Object.keys(spec.notifications), ...Object.keys(spec.commands)]) {
    if (RESERVED.has(key)) throw new Error(`webview contract ${spec.name}: message type "${key}" is reserved`);
  }
  return {
    name: spec.name,
    notifications: spec.notifications,
    commands: { ...spec.commands, ready: isReady } as Validators<C & { ready: ReadyMessage }>,
    requests: spec.requests ?? ({} as RequestValidators<R>),
  };
}

const requestEnvelope = object({ type: literal('request'), id: integer, method: string });
const replyEnvelope = object({ type: literal('reply'), id: integer, ok: literal(true, false) });
const replyError = object({ error: string });

/** The validator registered under `key`, if `key` is the table's own entry (not `toString`, `__proto__`, …). */
function own<V>(table: Readonly<Record<string, V>>, key: string): V | undefined {
  return Object.prototype.hasOwnProperty.call(table, key) ? table[key] : undefined;
}

function typeOf(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  const type = (data as { type?: unknown }).type;
  return typeof type === 'string' ? type : undefined;
}

export type HostInbound<T extends AnyContract> =
  | { kind: 'command'; message: CommandOf<T> }
  | { kind: 'request'; message: RequestMessage<MethodOf<T>> }
  /** `id` is set when the message was a request whose id could be read: the view is told it failed. */
  | { kind: 'invalid'; reason: string; id?: number };

/** Checks a message the host received from the view against the contract. */
export function decodeForHost<T extends AnyContract>(contract: T, data: unknown): HostInbound<T> {
  const type = typeOf(data);
  if (type === undefined) return { kind: 'invalid', reason: `not a message object with a string type: ${preview(data)}` };
  if (type === 'request') {
    const reason = requestEnvelope.check(data, '');
    if (reason) return { kind: 'invalid', reason: `request: ${reason}` };
    const request = data as RequestMessage;
    const spec = own(contract.requests, request.method);
    if (!spec) return { kind: 'invalid', reason: `unknown request method ${JSON.stringify(request.method)}`, id: request.id };
    const bad = spec.params.check(request.params, 'params');
    if (bad) return { kind: 'invalid', reason: `request ${request.method}: ${bad}`, id: request.id };
    return { kind: 'request', message: request as RequestMessage<MethodOf<T>> };
  }
  const validator = own(contract.commands, type);
  if (!validator) return { kind: 'invalid', reason: `unknown command type ${JSON.stringify(type)}` };
  const reason = validator.check(data, '');
  return reason ? { kind: 'invalid', reason: `${type}: ${reason}` } : { kind: 'command', message: data as CommandOf<T> };
}

export type ViewInbound<T extends AnyContract> =
  | { kind: 'notification'; message: NotificationOf<T> }
  /** Only the envelope is checked here; the result is checked against the pending request's method. */
  | { kind: 'reply'; message: ReplyMessage }
  | { kind: 'invalid'; reason: string };

/** Checks a message the view received from the host against the contract. */
export function decodeForView<T extends AnyContract>(contract: T, data: unknown): ViewInbound<T> {
  const type = typeOf(data);
  if (type === undefined) return { kind: 'invalid', reason: `not a message object with a string type: ${preview(data)}` };
  if (type === 'reply') {
    const reason = replyEnvelope.check(data, '') ?? ((data as { ok: boolean }).ok ? undefined : replyError.check(data, ''));
    return reason ? { kind: 'invalid', reason: `reply: ${reason}` } : { kind: 'reply', message: data as ReplyMessage };
  }
  const validator = own(contract.notifications, type);
  if (!validator) return { kind: 'invalid', reason: `unknown notification type ${JSON.stringify(type)}` };
  const reason = validator.check(data, '');
  return reason ? { kind: 'invalid', reason: `${type}: ${reason}` } : { kind: 'notification', message: data as NotificationOf<T> };
}

/** Checks a reply's result against what the request's method promises. */
export function checkResult<T extends AnyContract>(contract: T, method: MethodOf<T>, result: unknown): string | undefined {
  const spec = own(contract.requests, method);
  return spec ? spec.result.check(result, 'result') : `unknown request method ${JSON.stringify(method)}`;
}

/** A short rendering of an unreadable message for the log. */
function preview(data: unknown): string {
  if (data === undefined) return 'undefined';
  try {
    const text = JSON.stringify(data) ?? String(data);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return typeof data;
  }
}
