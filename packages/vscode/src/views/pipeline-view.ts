/** The Pipeline view: the active notebook's steps, their dependencies, data and resources. */
import * as vscode from 'vscode';
import type { PipelineStep } from '@cellflow/core';
import { CommandIds } from '../command-ids.js';
import type { NotebookAnalysis } from '../notebook/notebook-analysis.js';
import { isJupyterNotebook, type CellRef } from '../notebook/notebook-cells.js';

type Node =
  | { readonly kind: 'step'; readonly step: PipelineStep; readonly notebook: string }
  | {
      readonly kind: 'detail';
      readonly label: string;
      readonly value: string;
      readonly notebook: string;
      readonly cell?: number;
    }
  | { readonly kind: 'message'; readonly label: string };

function resources(step: PipelineStep): string {
  const r = step.resources;
  return [
    r.cpu !== null ? `cpu ${r.cpu}` : '',
    r.memory !== null ? `memory ${r.memory}` : '',
    r.gpu !== null ? `${r.gpu.count} × ${r.gpu.product ?? r.gpu.resource}` : '',
  ]
    .filter((s) => s !== '')
    .join(', ');
}

export class PipelineView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscriptions: vscode.Disposable[];
  private timer: NodeJS.Timeout | undefined;
  /** The notebook last active: still shown while a webview or another editor has focus. */
  private notebook: vscode.NotebookDocument | undefined;

  constructor(private readonly analysis: NotebookAnalysis) {
    this.subscriptions = [
      this.changed,
      vscode.window.onDidChangeActiveNotebookEditor(() => this.changed.fire()),
      vscode.workspace.onDidChangeNotebookDocument(() => {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.changed.fire(), 500);
      }),
    ];
  }

  getChildren(node?: Node): Node[] {
    if (node === undefined) {
      const active = vscode.window.activeNotebookEditor?.notebook;
      if (active !== undefined || this.notebook?.isClosed === true) this.notebook = active;
      const doc = this.notebook;
      if (doc === undefined || !isJupyterNotebook(doc))
        return [{ kind: 'message', label: 'Open a notebook to see its pipeline.' }];
      const graph = this.analysis.analyze(doc).graph;
      if (graph === undefined || graph.steps.length === 0)
        return [{ kind: 'message', label: 'No steps yet: tag a cell with Cellflow: Set Step.' }];
      return graph.steps.map((step) => ({ kind: 'step', step, notebook: doc.uri.toString() }));
    }
    if (node.kind !== 'step') return [];
    const { step, notebook } = node;
    const details: [string, string][] = [
      ['after', step.after.join(', ')],
      ['inputs', step.inputs.map((i) => `${i} ← ${step.inputSources[i] ?? '?'}`).join(', ')],
      ['outputs', step.outputs.join(', ')],
      ['parameters', step.parameters.join(', ')],
      ['resources', resources(step)],
      ['image', step.image],
    ];
    return details
      .filter(([, value]) => value !== '')
      .map(([label, value]) => ({ kind: 'detail', label, value, notebook }));
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === 'message') return new vscode.TreeItem(node.label);
    if (node.kind === 'detail') {
      const item = new vscode.TreeItem(node.label);
      item.description = node.value;
      item.tooltip = `${node.label}: ${node.value}`;
      return item;
    }
    const item = new vscode.TreeItem(node.step.name, vscode.TreeItemCollapsibleState.Collapsed);
    item.description = `cells ${node.step.cells.map((c) => c + 1).join(', ')}`;
    item.iconPath = new vscode.ThemeIcon('symbol-event');
    const first = node.step.cells[0];
    if (first !== undefined) {
      const ref: CellRef = { notebook: node.notebook, cell: first };
      item.command = { title: 'Reveal Cell', command: CommandIds.revealCell, arguments: [ref] };
    }
    return item;
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const s of this.subscriptions) s.dispose();
  }
}
