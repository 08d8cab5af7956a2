// Entry point of the experiment form webview (bundled to dist/webview/experiment-form.js): the UI
// kit's components, the shared messaging channel (every inbound message checked against the
// contract), `ready` once listening.
import { experimentFormContract } from '../../src/protocol/webviews/experimentForm';
import { ViewChannel } from '../shared/messaging/channel';
import { getVsCodeApi, vsCodePort } from '../shared/messaging/vscodeApi';
import { registerToolkit } from '../shared/toolkit';
import { FormApp } from './app';

function start(): void {
  registerToolkit();
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
      init: (m) => app.handle(m),
      values: (m) => app.handle(m),
      diagnostics: (m) => app.handle(m),
      derived: (m) => app.handle(m),
    },
  });
  (window as unknown as { factRlhfMessageStats: unknown }).factRlhfMessageStats = channel.stats;
  channel.ready();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
else start();
