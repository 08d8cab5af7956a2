// HTML shell of every webview app, with a strict Content-Security-Policy: nothing loads unless it
// comes from the extension's own resource origin (cspSource), and only the script carrying this
// page's nonce runs. No `vscode` import, so tests render the very same page in a plain browser.
import { randomBytes } from 'node:crypto';

export interface WebviewHtmlOptions {
  title: string;
  /** URI of the app bundle, already converted with webview.asWebviewUri. */
  scriptUri: string;
  styleUris?: string[];
  /** webview.cspSource */
  cspSource: string;
  nonce: string;
}

/** A fresh nonce per page load: 18 random bytes, base64url (valid in a CSP nonce source). */
export function makeNonce(): string {
  return randomBytes(18).toString('base64url');
}

export function renderWebviewHtml(opts: WebviewHtmlOptions): string {
  const { cspSource, nonce } = opts;
  if (!/^[A-Za-z0-9+/_-]+=*$/.test(nonce))
    throw new Error(`renderWebviewHtml: nonce must be base64 characters, got ${JSON.stringify(nonce)}`);
  // cspSource may list several sources (VS Code adds the CDN of a web extension), but must not be
  // able to end the directive and add its own.
  if (/[;,\r\n]/.test(cspSource) || cspSource.trim() === '') {
    throw new Error(`renderWebviewHtml: cspSource must be CSP source expressions only, got ${JSON.stringify(cspSource)}`);
  }
  const csp = [
    `default-src 'none'`,
    `img-src ${cspSource} data:`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
  ].join('; ');
  // `csp-nonce`: where the UI kit (FAST) looks for the nonce of the one <style> element it adds (its
  // focus-visible probe); without it that element is blocked and logged as a CSP violation.
  const styles = (opts.styleUris ?? []).map((uri) => `    <link rel="stylesheet" href="${escapeAttr(uri)}" nonce="${nonce}">`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <meta http-equiv="Content-Security-Policy" content="${escapeAttr(csp)};">
    <meta property="csp-nonce" content="${nonce}">
    <meta name="viewport" content="width=device-width, initial-scale=1.0">
${styles ? `${styles}\n` : ''}    <title>${escapeText(opts.title)}</title>
  </head>
  <body>
    <div id="root"></div>
    <script nonce="${nonce}" src="${escapeAttr(opts.scriptUri)}"></script>
  </body>
</html>
`;
}

function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function escapeAttr(s: string): string {
  return escapeText(s).replace(/"/g, '&quot;');
}
