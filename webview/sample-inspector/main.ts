// Entry point of the sample inspector webview (bundled to dist/webview/sample-inspector.js): the
// app behind the shared messaging channel, which validates every host message against the
// contract before the app sees it. Sends `ready` once listening; the host answers with `summary`.
import { sampleInspectorContract } from '../../src/protocol/webviews/sampleInspector';
import { ViewChannel, type ViewChannelStats } from '../shared/messaging/channel';
import { getVsCodeApi, vsCodePort } from '../shared/messaging/vscodeApi';
import { InspectorApp, type UiState } from './app';

function start(): void {
  const api = getVsCodeApi<UiState>();
  const root = document.getElementById('root') ?? document.body;
  const app = new InspectorApp(root, api.getState(), {
    post: (m) => channel.send(m),
    request: (method, params, timeoutMs) => channel.request(method, params, timeoutMs),
    saveState: (s) => api.setState(s),
  });
  const channel = new ViewChannel({
    contract: sampleInspectorContract,
    port: vsCodePort(api),
    notifications: {
      summary: (m) => app.handle(m),
      reveal: (m) => app.handle(m),
      compareRun: (m) => app.handle(m),
      labels: (m) => app.handle(m),
    },
  });
  // Message counts (dropped ones too), for the webview devtools and the browser tests.
  (window as unknown as { factRlhfMessageStats: ViewChannelStats }).factRlhfMessageStats = channel.stats;
  channel.ready();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
else start();
