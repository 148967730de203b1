/**
 * One webview panel showing a `packages/ui` view (run details, tuning results, endpoint tester):
 * the page, the typed messages both ways, and `ready` handling (the host sends its data once the
 * view's script runs). Reused while open; `onClose` lets the owner forget it.
 */
import * as vscode from 'vscode';
import type { ReadyMessage } from '@cellflow/ui';
import { webviewHtml, webviewOptions } from './webview-html.js';

export class ViewPanel<ToView, FromView extends { readonly type: string }>
  implements vscode.Disposable
{
  private readonly panel: vscode.WebviewPanel;
  private readonly subscriptions: vscode.Disposable[] = [];
  /** Whether the view's script has said `ready`. */
  ready = false;
  closed = false;

  constructor(
    extensionUri: vscode.Uri,
    viewType: string,
    title: string,
    private readonly handlers: {
      readonly onReady: () => void;
      readonly onMessage: (message: Exclude<FromView, ReadyMessage>) => void;
      readonly onClose: () => void;
    },
  ) {
    this.panel = vscode.window.createWebviewPanel(viewType, title, vscode.ViewColumn.Beside, {
      ...webviewOptions(extensionUri),
      retainContextWhenHidden: true,
    });
    this.panel.webview.html = webviewHtml(this.panel.webview, extensionUri, {
      title,
      script: 'views.js',
      style: 'views.css',
      rootId: 'root',
      view: viewType,
    });
    this.panel.webview.onDidReceiveMessage(
      (m: FromView) => {
        if (m.type === 'ready') {
          this.ready = true;
          handlers.onReady();
        } else handlers.onMessage(m as Exclude<FromView, ReadyMessage>);
      },
      undefined,
      this.subscriptions,
    );
    this.panel.onDidDispose(
      () => {
        this.closed = true;
        handlers.onClose();
        for (const s of this.subscriptions) s.dispose();
      },
      undefined,
      this.subscriptions,
    );
  }

  set title(title: string) {
    this.panel.title = title;
  }

  reveal(): void {
    this.panel.reveal(vscode.ViewColumn.Beside);
  }

  /** Sends when the view is ready (earlier messages are dropped: `onReady` sends the state). */
  post(message: ToView): void {
    if (this.ready && !this.closed) void this.panel.webview.postMessage(message);
  }

  dispose(): void {
    if (!this.closed) this.panel.dispose();
  }
}
