/**
 * The HTML page of every Cellflow webview: a CSP that allows only the bundle's script (by nonce)
 * and the extension's styles, and `localResourceRoots` limited to `media/` and the bundle.
 */
import * as vscode from 'vscode';

function nonce(): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from({ length: 32 }, () => chars[Math.floor(Math.random() * chars.length)]).join('');
}

export interface WebviewPage {
  readonly title: string;
  /** Script in dist/webview/ (`graph.js`, `views.js`). */
  readonly script: string;
  /** Stylesheet in media/. */
  readonly style: string;
  /** Id of the element the script draws into. */
  readonly rootId: string;
  /** Which view the script shows (`data-view`). */
  readonly view?: string;
}

export function webviewOptions(
  extensionUri: vscode.Uri,
): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    localResourceRoots: [
      vscode.Uri.joinPath(extensionUri, 'media'),
      vscode.Uri.joinPath(extensionUri, 'dist', 'webview'),
    ],
  };
}

export function webviewHtml(
  webview: vscode.Webview,
  extensionUri: vscode.Uri,
  page: WebviewPage,
): string {
  const n = nonce();
  const script = webview.asWebviewUri(
    vscode.Uri.joinPath(extensionUri, 'dist', 'webview', page.script),
  );
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', page.style));
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${webview.cspSource}; script-src 'nonce-${n}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link href="${style.toString()}" rel="stylesheet">
<title>${page.title}</title>
</head>
<body>
<div id="${page.rootId}" class="cf-root"${page.view !== undefined ? ` data-view="${page.view}"` : ''}>Loading…</div>
<script nonce="${n}" src="${script.toString()}"></script>
</body>
</html>`;
}
