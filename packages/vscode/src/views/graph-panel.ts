/**
 * The pipeline graph webview: the active notebook's steps laid out by `@cellflow/ui`, coloured by
 * the state of its newest run, live. Speaks only the ui package's graph protocol.
 */
import * as vscode from 'vscode';
import type { GraphLayout, GraphToHostMessage, HostToGraphMessage } from '@cellflow/ui';
import type { NotebookAnalysis } from '../notebook/notebook-analysis.js';
import { revealCell } from '../notebook/notebook-cells.js';
import type { RunTracker } from '../runs/run-tracker.js';
import { webviewHtml, webviewOptions } from './webview-html.js';
import type { StepState } from '@cellflow/protocol';

export class GraphPanels implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private notebook: vscode.NotebookDocument | undefined;
  /** What the panel shows now (for tests). */
  layout: GraphLayout | undefined;
  private readonly subscriptions: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly analysis: NotebookAnalysis,
    private readonly tracker: RunTracker,
  ) {
    this.subscriptions.push(
      tracker.onDidChange((run) => {
        if (run.notebook === this.notebook?.uri.toString())
          this.post({ type: 'states', states: this.states() });
      }),
      vscode.workspace.onDidChangeNotebookDocument((e) => {
        if (e.notebook !== this.notebook) return;
        clearTimeout(this.timer);
        this.timer = setTimeout(() => void this.sendGraph(), 500);
      }),
    );
  }

  show(doc: vscode.NotebookDocument): void {
    this.notebook = doc;
    if (this.panel === undefined) {
      this.panel = vscode.window.createWebviewPanel(
        'cellflow.graph',
        'Pipeline Graph',
        vscode.ViewColumn.Beside,
        webviewOptions(this.extensionUri),
      );
      this.panel.webview.html = webviewHtml(this.panel.webview, this.extensionUri, {
        title: 'Pipeline Graph',
        script: 'graph.js',
        style: 'graph.css',
        rootId: 'graph',
      });
      this.panel.webview.onDidReceiveMessage(
        (m: GraphToHostMessage) => this.receive(m),
        undefined,
        this.subscriptions,
      );
      this.panel.onDidDispose(() => (this.panel = undefined), undefined, this.subscriptions);
    } else {
      this.panel.reveal(vscode.ViewColumn.Beside);
      void this.sendGraph();
    }
    this.panel.title = `Pipeline: ${doc.uri.path.split('/').pop() ?? ''}`;
  }

  private receive(message: GraphToHostMessage): void {
    if (message.type === 'ready') void this.sendGraph();
    else if (message.type === 'revealStep' && this.notebook !== undefined) {
      const cell = this.layout?.nodes.find((n) => n.name === message.step)?.cells[0];
      if (cell !== undefined) void revealCell({ notebook: this.notebook.uri.toString(), cell });
    }
  }

  private states(): Record<string, StepState> {
    const run =
      this.notebook !== undefined
        ? this.tracker.latestFor(this.notebook.uri.toString())
        : undefined;
    return Object.fromEntries([...(run?.steps.values() ?? [])].map((s) => [s.name, s.state]));
  }

  /** Lays the graph out (the layout library loads on first use) and sends it. */
  private async sendGraph(): Promise<void> {
    if (this.notebook === undefined || this.notebook.isClosed) return;
    const graph = this.analysis.analyze(this.notebook).graph;
    if (graph === undefined) return;
    const { layoutPipelineGraph } = await import(/* webpackChunkName: "ui" */ '@cellflow/ui');
    this.layout = layoutPipelineGraph(graph);
    this.post({ type: 'graph', layout: this.layout, states: this.states() });
  }

  private post(message: HostToGraphMessage): void {
    void this.panel?.webview.postMessage(message);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.panel?.dispose();
    for (const s of this.subscriptions) s.dispose();
  }
}
