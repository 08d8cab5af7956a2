// Entry point of the experiment form webview (bundled to dist/webview/experiment-form.js): the UI
// kit's components, the shared messaging channel (every inbound message checked against the
// contract), `ready` once listening.
import { experimentFormContract } from '../../src/protocol/webviews/experimentForm';
import { ViewChannel } from '../shared/messaging/channel';
import { getVsCodeApi, vsCodePort } from '../shared/messaging/vscodeApi';
import { registerToolkit } from '../shared/toolkit';
import { FormApp } from './app';

/** Page-clock milestones (performance.now()), for the benchmark and the webview devtools. */
const timings: Record<string, number> = { scriptStart: performance.now() };

function start(): void {
  registerToolkit();
  timings.toolkitRegistered = performance.now();
  const api = getVsCodeApi<unknown>();
  const root = document.getElementById('root') ?? document.body;
  const app = new FormApp(root, {
    post: (m) => channel.send(m),
    edit: (params) => channel.request('edit', params),
    applyFix: (diagnostic, fix) => channel.request('applyFix', { diagnostic, fix }),
  });
  const channel = new ViewChannel({
    contract: experimentFormContract,
    port: vsCodePort(api),
    notifications: {
      init: (m) => {
        timings.initReceived ??= performance.now();
        app.handle(m);
        timings.initDrawn ??= performance.now();
      },
      values: (m) => {
        timings.valuesReceived ??= performance.now();
        app.handle(m);
        timings.valuesDrawn ??= performance.now();
      },
      diagnostics: (m) => app.handle(m),
      derived: (m) => app.handle(m),
    },
  });
  const diagnostics = window as unknown as { factRlhfMessageStats: unknown; factRlhfFormTimings: unknown };
  diagnostics.factRlhfMessageStats = channel.stats;
  diagnostics.factRlhfFormTimings = timings;
  timings.ready = performance.now();
  channel.ready();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
else start();
