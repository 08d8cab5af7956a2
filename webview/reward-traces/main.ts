// Entry point of the reward-trace webview (bundled to dist/webview/reward-traces.js).
// Talks to the extension host through VS Code's webview messaging: sends `ready` once listening,
// then applies `snapshot`/`delta`/`status` messages as they come.
import type { HostToTraceWebview, TraceWebviewToHost } from '../../src/protocol/webviews/rewardTraces';
import { drawStats } from '../shared/charts/lineChart';
import { getVsCodeApi } from '../shared/messaging/vscodeApi';
import type { UiState } from './app';
import { TraceApp } from './app';

const HOST_MESSAGE_TYPES = new Set(['snapshot', 'delta', 'status']);

function isHostMessage(data: unknown): data is HostToTraceWebview {
  return typeof data === 'object' && data !== null && HOST_MESSAGE_TYPES.has((data as { type?: unknown }).type as string);
}

function start(): void {
  const api = getVsCodeApi<UiState>();
  const root = document.getElementById('root') ?? document.body;
  const app = new TraceApp(root, api.getState(), {
    post: (m: TraceWebviewToHost) => api.postMessage(m),
    saveState: (s) => api.setState(s),
  });
  window.addEventListener('message', (e: MessageEvent<unknown>) => {
    if (isHostMessage(e.data)) app.handle(e.data);
  });
  // Draw timings for benchmarks and for diagnosing a slow view from the webview devtools.
  (window as unknown as { factRlhfTraceStats: typeof drawStats }).factRlhfTraceStats = drawStats;
  api.postMessage({ type: 'ready' } satisfies TraceWebviewToHost);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
else start();
