// The webview end of a webview's message channel (the host end is src/editor/webviews/channel.ts):
// typed commands to the host, `request()` with a Promise settled by the reply carrying its id (or a
// timeout), and every inbound message validated against the contract before a handler sees it; a
// malformed one is dropped, counted in `stats` and logged. No DOM here, so unit tests run it in Node;
// vscodeApi.ts supplies the port inside a real webview.
import type { AnyContract, CommandOf, MethodOf, NotificationOf, ParamsOf, ResultOf } from '../../../src/protocol/ipc';
import { checkResult, decodeForView } from '../../../src/protocol/ipc';

/** How messages leave and arrive: VS Code's webview API in the app, a plain pair in tests. */
export interface MessagePort {
  post(message: unknown): void;
  /** Registers the inbound handler; returns the unsubscribe. */
  listen(handler: (data: unknown) => void): () => void;
}

export type NotificationHandlers<T extends AnyContract> = {
  [K in NotificationOf<T>['type']]: (message: Extract<NotificationOf<T>, { type: K }>) => void;
};

export interface ViewChannelOptions<T extends AnyContract> {
  contract: T;
  port: MessagePort;
  notifications: NotificationHandlers<T>;
  /** Default time a request waits for its reply. */
  requestTimeoutMs?: number;
  log?(line: string): void;
}

export interface ViewChannelStats {
  received: number;
  /** Inbound messages dropped as malformed (or replies nobody waits for). */
  dropped: number;
  lastDropped?: string;
  sent: number;
}

interface Pending {
  method: string;
  resolve(result: unknown): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

export class ViewChannel<T extends AnyContract> {
  readonly stats: ViewChannelStats = { received: 0, dropped: 0, sent: 0 };
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly unlisten: () => void;

  constructor(private readonly opts: ViewChannelOptions<T>) {
    this.unlisten = opts.port.listen((data) => this.receive(data));
  }

  /** Tells the host this view is listening; it answers with what the view needs. */
  ready(): void {
    this.post({ type: 'ready' });
  }

  send(message: CommandOf<T>): void {
    this.post(message);
  }

  request<M extends MethodOf<T>>(
    method: M,
    params: ParamsOf<T, M>,
    timeoutMs = this.opts.requestTimeoutMs ?? 10_000,
  ): Promise<ResultOf<T, M>> {
    const id = this.nextId++;
    return new Promise<ResultOf<T, M>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.opts.contract.name}: request ${method} got no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { method, resolve: resolve as (r: unknown) => void, reject, timer });
      this.post({ type: 'request', id, method, params });
    });
  }

  /** One message from the host. */
  receive(data: unknown): void {
    this.stats.received++;
    const decoded = decodeForView(this.opts.contract, data);
    if (decoded.kind === 'invalid') {
      this.drop(decoded.reason);
      return;
    }
    if (decoded.kind === 'notification') {
      const handler = this.opts.notifications[decoded.message.type as NotificationOf<T>['type']] as (m: NotificationOf<T>) => void;
      handler(decoded.message);
      return;
    }
    const reply = decoded.message;
    const waiting = this.pending.get(reply.id);
    if (!waiting) {
      this.drop(`reply ${reply.id} answers no pending request`);
      return;
    }
    this.pending.delete(reply.id);
    clearTimeout(waiting.timer);
    if (!reply.ok) {
      waiting.reject(new Error(reply.error));
      return;
    }
    const bad = checkResult(this.opts.contract, waiting.method, reply.result);
    if (bad) {
      this.drop(`reply to ${waiting.method}: ${bad}`);
      waiting.reject(new Error(`${this.opts.contract.name}: malformed reply to ${waiting.method}: ${bad}`));
      return;
    }
    waiting.resolve(reply.result);
  }

  dispose(): void {
    this.unlisten();
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error(`${this.opts.contract.name}: channel closed`));
    }
    this.pending.clear();
  }

  private post(message: unknown): void {
    this.stats.sent++;
    this.opts.port.post(message);
  }

  private drop(reason: string): void {
    this.stats.dropped++;
    this.stats.lastDropped = reason;
    (this.opts.log ?? ((line: string) => console.warn(line)))(
      `${this.opts.contract.name} webview: dropped a malformed message (${reason})`,
    );
  }
}
