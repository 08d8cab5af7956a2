// The webview side of VS Code's messaging. `acquireVsCodeApi` exists only inside a VS Code webview
// and may be called once per page, so it is acquired here once and shared; elsewhere messages go
// nowhere and state lives only in memory.
import type { MessagePort } from './channel';

export interface VsCodeApi<State> {
  postMessage(message: unknown): void;
  getState(): State | undefined;
  setState(state: State): void;
}

declare const acquireVsCodeApi: (<State>() => VsCodeApi<State>) | undefined;

let acquired: VsCodeApi<unknown> | undefined;

export function getVsCodeApi<State>(): VsCodeApi<State> {
  if (!acquired) acquired = typeof acquireVsCodeApi === 'function' ? acquireVsCodeApi<unknown>() : inMemoryApi();
  return acquired as VsCodeApi<State>;
}

function inMemoryApi(): VsCodeApi<unknown> {
  let state: unknown;
  return {
    postMessage: () => undefined,
    getState: () => state,
    setState: (s) => {
      state = s;
    },
  };
}

/** Posts through the VS Code API; hears what the host posts (window `message` events). */
export function vsCodePort(api: VsCodeApi<unknown> = getVsCodeApi()): MessagePort {
  return {
    post: (message) => api.postMessage(message),
    listen(handler) {
      const onMessage = (e: MessageEvent<unknown>): void => handler(e.data);
      window.addEventListener('message', onMessage);
      return () => window.removeEventListener('message', onMessage);
    },
  };
}
