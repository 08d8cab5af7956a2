// The host end of a webview's message channel, VS Code-free (unit-tested in Node, also driven by the
// browser tests against the real webview page): every inbound message is validated against the
// webview's contract before anything acts on it; a malformed one is dropped, counted and logged.
// Handles the `ready` handshake (notifications before it are queued or dropped) and answers
// requests with typed replies carrying the request's id.
import type { AnyContract, CommandOf, MethodOf, NotificationOf, ParamsOf, ReplyMessage, ResultOf } from '../../protocol/ipc';
import { decodeForHost } from '../../protocol/ipc';

type CommandType<T extends AnyContract> = Exclude<CommandOf<T>['type'], 'ready'>;

export type CommandHandlers<T extends AnyContract> = {
  [K in CommandType<T>]?: (message: Extract<CommandOf<T>, { type: K }>) => void;
};

export type RequestHandlers<T extends AnyContract> = {
  [M in MethodOf<T>]: (params: ParamsOf<T, M>) => ResultOf<T, M> | Promise<ResultOf<T, M>>;
};

export interface HostChannelOptions<T extends AnyContract> {
  contract: T;
  /** Delivers a message to the view (webview.postMessage). */
  post(message: NotificationOf<T> | ReplyMessage): unknown;
  commands: CommandHandlers<T>;
  requests: RequestHandlers<T>;
  /** Called on each `ready` (the page loaded, or reloaded). */
  onReady?(): void;
  /**
   * Notifications sent before `ready`: queued and delivered on `ready` (the default), or dropped,
   * for a view whose answer to `ready` carries the whole state anyway.
   */
  beforeReady?: 'queue' | 'drop';
  /** Where dropped messages and failed requests are reported (the output channel). */
  log(line: string): void;
  /** Queue bound: past it the oldest queued notification is dropped (and logged once). */
  maxQueued?: number;
}

export interface ChannelStats {
  received: number;
  /** Inbound messages dropped as malformed. */
  dropped: number;
  lastDropped?: string;
  notified: number;
  replies: number;
}

export class HostChannel<T extends AnyContract> {
  readonly stats: ChannelStats = { received: 0, dropped: 0, notified: 0, replies: 0 };
  private ready = false;
  private queue: NotificationOf<T>[] = [];
  private overflowLogged = false;

  constructor(private readonly opts: HostChannelOptions<T>) {}

  get isReady(): boolean {
    return this.ready;
  }

  /** The view's page is gone or being replaced: hold notifications until its next `ready`. */
  reset(): void {
    this.ready = false;
    this.queue = [];
  }

  notify(message: NotificationOf<T>): void {
    if (this.ready) {
      this.stats.notified++;
      void this.opts.post(message);
      return;
    }
    if ((this.opts.beforeReady ?? 'queue') === 'drop') return;
    this.queue.push(message);
    const max = this.opts.maxQueued ?? 1000;
    if (this.queue.length > max) {
      this.queue.shift();
      if (!this.overflowLogged)
        this.opts.log(`${this.opts.contract.name} webview: more than ${max} messages before ready; dropping the oldest`);
      this.overflowLogged = true;
    }
  }

  /** One message from the view (webview.onDidReceiveMessage). */
  receive(data: unknown): void {
    this.stats.received++;
    const decoded = decodeForHost(this.opts.contract, data);
    switch (decoded.kind) {
      case 'invalid':
        this.drop(decoded.reason);
        if (decoded.id !== undefined) this.reply({ type: 'reply', id: decoded.id, ok: false, error: decoded.reason });
        return;
      case 'request':
        void this.answer(decoded.message.id, decoded.message.method, decoded.message.params);
        return;
      case 'command':
        if (decoded.message.type === 'ready') this.onReady();
        else this.dispatch(decoded.message);
        return;
    }
  }

  private onReady(): void {
    this.ready = true;
    const queued = this.queue;
    this.queue = [];
    for (const m of queued) this.notify(m);
    this.opts.onReady?.();
  }

  private dispatch(message: CommandOf<T>): void {
    const handler = this.opts.commands[message.type as CommandType<T>] as ((m: CommandOf<T>) => void) | undefined;
    try {
      handler?.(message);
    } catch (err) {
      this.opts.log(`${this.opts.contract.name} webview: handling ${message.type} failed: ${(err as Error).message}`);
    }
  }

  private async answer(id: number, method: MethodOf<T>, params: unknown): Promise<void> {
    const handler = this.opts.requests[method] as (p: unknown) => unknown;
    try {
      const result = await handler(params);
      this.reply({ type: 'reply', id, ok: true, result });
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      this.opts.log(`${this.opts.contract.name} webview: request ${method} failed: ${error}`);
      this.reply({ type: 'reply', id, ok: false, error });
    }
  }

  private reply(message: ReplyMessage): void {
    this.stats.replies++;
    void this.opts.post(message);
  }

  private drop(reason: string): void {
    this.stats.dropped++;
    this.stats.lastDropped = reason;
    this.opts.log(`${this.opts.contract.name} webview: dropped a malformed message (${reason})`);
  }
}
