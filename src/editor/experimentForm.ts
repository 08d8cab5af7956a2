// The experiment form: a CustomTextEditorProvider over `*.rlhf.yaml` with priority "option" (the
// text editor stays the default; "Open as Form" / "Open as Text" switch). Registered at activation;
// the session code (yaml, the schema's fields) loads when the first form opens.
import * as vscode from 'vscode';
import type { ReplyMessage } from '../protocol/ipc';
import type { FormRenderedMessage, HostToFormView } from '../protocol/webviews/experimentForm';
import type { FormLanguage, FormSession } from './experimentFormSession';

export const EXPERIMENT_FORM_VIEW_TYPE = 'factRlhf.experimentForm';
export const OPEN_AS_FORM_COMMAND = 'factRlhf.openAsForm';
export const OPEN_AS_TEXT_COMMAND = 'factRlhf.openAsText';

/** What the editor tests reach the open forms through (FactRlhfApi.experimentForm). */
export interface ExperimentFormTestHooks {
  /** Everything posted to the form of `uri` so far (notifications and replies). */
  sent(uri: vscode.Uri): Array<HostToFormView | ReplyMessage>;
  /** What the form's webview reported drawing so far (its `rendered` messages). */
  rendered(uri: vscode.Uri): FormRenderedMessage[];
  /**
   * Hands `message` to the form's host channel exactly as the webview's would arrive (validated
   * there); for a request, resolves with the reply the channel posted back.
   */
  receive(uri: vscode.Uri, message: unknown): Promise<ReplyMessage | undefined>;
}

export class ExperimentFormProvider implements vscode.CustomTextEditorProvider {
  private readonly sessions = new Map<string, FormSession>();
  private nextTestId = 1_000_000_000;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly language: () => Promise<FormLanguage | undefined>,
    private readonly log: (line: string) => void,
  ) {}

  async resolveCustomTextEditor(document: vscode.TextDocument, panel: vscode.WebviewPanel): Promise<void> {
    const { FormSession } = await import('./experimentFormSession');
    const session = new FormSession(document, panel, this.extensionUri, this.language, this.log);
    const key = document.uri.toString();
    this.sessions.set(key, session);
    panel.onDidDispose(() => {
      if (this.sessions.get(key) === session) this.sessions.delete(key);
    });
  }

  readonly testHooks: ExperimentFormTestHooks = {
    sent: (uri) => [...(this.sessions.get(uri.toString())?.sent ?? [])],
    rendered: (uri) => [...(this.sessions.get(uri.toString())?.rendered ?? [])],
    receive: async (uri, message) => {
      const session = this.sessions.get(uri.toString());
      if (!session) throw new Error(`no experiment form is open on ${uri.toString()}`);
      const isRequest = typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'request';
      if (!isRequest) {
        session.channel.receive(message);
        return undefined;
      }
      // Ids far above the webview's own, so a test's request never answers the page's.
      const id = this.nextTestId++;
      const from = session.sent.length;
      session.channel.receive({ ...(message as object), id });
      for (let waited = 0; waited < 10_000; waited += 20) {
        const reply = session.sent.slice(from).find((m): m is ReplyMessage => m.type === 'reply' && m.id === id);
        if (reply) return reply;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error('the experiment form did not answer within 10 s');
    },
  };
}

/** The file a title-bar or palette command applies to: its argument, else the active tab's. */
function targetUri(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (input instanceof vscode.TabInputText || input instanceof vscode.TabInputCustom) return input.uri;
  return undefined;
}

export function registerExperimentForm(
  context: vscode.ExtensionContext,
  language: () => Promise<FormLanguage | undefined>,
  log: (line: string) => void,
): ExperimentFormProvider {
  const provider = new ExperimentFormProvider(context.extensionUri, language, log);
  context.subscriptions.push(
    vscode.window.registerCustomEditorProvider(EXPERIMENT_FORM_VIEW_TYPE, provider, {
      supportsMultipleEditorsPerDocument: true,
    }),
    vscode.commands.registerCommand(OPEN_AS_FORM_COMMAND, async (arg?: unknown) => {
      const uri = targetUri(arg);
      if (uri) await vscode.commands.executeCommand('vscode.openWith', uri, EXPERIMENT_FORM_VIEW_TYPE);
    }),
    vscode.commands.registerCommand(OPEN_AS_TEXT_COMMAND, async (arg?: unknown) => {
      const uri = targetUri(arg);
      if (uri) await vscode.commands.executeCommand('vscode.openWith', uri, 'default');
    }),
  );
  return provider;
}
