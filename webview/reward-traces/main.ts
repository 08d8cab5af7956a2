// Entry point of the reward-trace webview (bundled to dist/webview/reward-traces.js).
// Talks to the extension host through the shared messaging channel: sends `ready` once listening,
// then applies the `snapshot`/`delta`/`status`/`alarms` notifications that pass the contract's validation.
import { rewardTracesContract } from '../../src/protocol/webviews/rewardTraces';
import { drawStats } from '../shared/charts/lineChart';
import { ViewChannel, type ViewChannelStats } from '../shared/messaging/channel';
import { getVsCodeApi, vsCodePort } from '../shared/messaging/vscodeApi';
import type { UiState } from './app';
import { TraceApp } from './app';

function start(): void {
  const api = getVsCodeApi<UiState>();
  const root = document.getElementById('root') ?? document.body;
  const app = new TraceApp(root, api.getState(), {
    post: (m) => channel.send(m),
    saveState: (s) => api.setState(s),
    // A save dialog waits on the user: no timeout worth having short.
    saveExport: (params) => channel.request('saveExport', params, 10 * 60_000),
  });
  const channel = new ViewChannel({
    contract: rewardTracesContract,
    port: vsCodePort(api),
    notifications: {
      snapshot: (m) => app.handle(m),
      delta: (m) => app.handle(m),
      status: (m) => app.handle(m),
      alarms: (m) => app.handle(m),
    },
  });
  // Draw timings for benchmarks and message counts (dropped ones too) for diagnosing the view from
  // the webview devtools and for the browser tests.
  const diagnostics = window as unknown as { factRlhfTraceStats: typeof drawStats; factRlhfMessageStats: ViewChannelStats };
  diagnostics.factRlhfTraceStats = drawStats;
  diagnostics.factRlhfMessageStats = channel.stats;
  channel.ready();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
else start();
