// The webview side of VS Code's messaging. `acquireVsCodeApi` exists only inside a VS Code webview
// (and may be called once); elsewhere messages go nowhere and state lives only in memory.

export interface VsCodeApi<State> {
  postMessage(message: unknown): void;
  getState(): State | undefined;
  setState(state: State): void;
}

declare const acquireVsCodeApi: (<State>() => VsCodeApi<State>) | undefined;

export function getVsCodeApi<State>(): VsCodeApi<State> {
  if (typeof acquireVsCodeApi === 'function') return acquireVsCodeApi<State>();
  let state: State | undefined;
  return {
    postMessage: () => undefined,
    getState: () => state,
    setState: (s) => {
      state = s;
    },
  };
}
