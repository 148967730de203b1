/**
 * Core's diagnostics shown on the cells they name, re-checked shortly after edits, with quick fixes
 * where core offers a tag change (`fix.tags`).
 */
import * as vscode from 'vscode';
import type { DiagnosticFix, Severity } from '@cellflow/core';
import { CommandIds } from '../command-ids.js';
import type { Config } from '../config.js';
import type { NotebookAnalysis } from '../notebook/notebook-analysis.js';
import { isJupyterNotebook, type CellRef } from '../notebook/notebook-cells.js';

const SEVERITY: Readonly<Record<Severity, vscode.DiagnosticSeverity>> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
};

/** Identifies a shown diagnostic again when VS Code hands it back to the code action provider. */
function fixKey(
  uri: vscode.Uri,
  d: { code?: unknown; message: string; range: vscode.Range },
): string {
  const code =
    typeof d.code === 'object' && d.code !== null ? (d.code as { value: unknown }).value : d.code;
  return `${uri.toString()}#${d.range.start.line}#${String(code)}#${d.message}`;
}

export class CellDiagnostics implements vscode.CodeActionProvider, vscode.Disposable {
  static readonly metadata: vscode.CodeActionProviderMetadata = {
    providedCodeActionKinds: [vscode.CodeActionKind.QuickFix],
  };
  private readonly collection = vscode.languages.createDiagnosticCollection('cellflow');
  private readonly fixes = new Map<string, DiagnosticFix & { notebook: string }>();
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly analysis: NotebookAnalysis,
    private readonly config: Config,
  ) {
    this.subscriptions.push(
      this.collection,
      vscode.workspace.onDidOpenNotebookDocument((d) => this.schedule(d, 0)),
      vscode.workspace.onDidChangeNotebookDocument((e) => this.schedule(e.notebook)),
      vscode.workspace.onDidCloseNotebookDocument((d) => this.clear(d)),
    );
    for (const doc of vscode.workspace.notebookDocuments) this.schedule(doc, 0);
  }

  /** Re-checks `doc` once edits pause for the configured delay. */
  schedule(doc: vscode.NotebookDocument, delay = this.config.diagnosticsDelay): void {
    if (!isJupyterNotebook(doc)) return;
    const key = doc.uri.toString();
    clearTimeout(this.pending.get(key));
    this.pending.set(
      key,
      setTimeout(() => {
        this.pending.delete(key);
        if (!doc.isClosed) this.update(doc);
      }, delay),
    );
  }

  /** Shows the notebook's diagnostics now. */
  update(doc: vscode.NotebookDocument): void {
    this.clear(doc);
    const byCell = new Map<number, vscode.Diagnostic[]>();
    for (const d of this.analysis.analyze(doc).diagnostics) {
      const index = d.cell ?? 0;
      if (index >= doc.cellCount) continue;
      const cellDoc = doc.cellAt(index).document;
      const line = d.line !== null ? Math.min(d.line - 1, cellDoc.lineCount - 1) : 0;
      const range = cellDoc.lineAt(Math.max(0, line)).range;
      const shown = new vscode.Diagnostic(
        range,
        d.cell === null ? `Notebook: ${d.message}` : d.message,
        SEVERITY[d.severity],
      );
      shown.source = 'cellflow';
      shown.code = d.code;
      if (d.fix !== undefined)
        this.fixes.set(fixKey(cellDoc.uri, shown), { ...d.fix, notebook: doc.uri.toString() });
      byCell.set(index, [...(byCell.get(index) ?? []), shown]);
    }
    for (const [index, list] of byCell) this.collection.set(doc.cellAt(index).document.uri, list);
  }

  private clear(doc: vscode.NotebookDocument): void {
    for (const cell of doc.getCells()) {
      this.collection.delete(cell.document.uri);
      const prefix = `${cell.document.uri.toString()}#`;
      for (const k of this.fixes.keys()) if (k.startsWith(prefix)) this.fixes.delete(k);
    }
  }

  /** For tests and the Problems view: what is shown on one cell. */
  diagnosticsOf(cell: vscode.NotebookCell): readonly vscode.Diagnostic[] {
    return this.collection.get(cell.document.uri) ?? [];
  }

  provideCodeActions(
    document: vscode.TextDocument,
    _range: vscode.Range,
    context: vscode.CodeActionContext,
  ): vscode.CodeAction[] {
    const actions: vscode.CodeAction[] = [];
    for (const d of context.diagnostics) {
      if (d.source !== 'cellflow') continue;
      const fix = this.fixes.get(fixKey(document.uri, d));
      if (fix?.tags === undefined) continue;
      const action = new vscode.CodeAction(fix.title, vscode.CodeActionKind.QuickFix);
      action.diagnostics = [d];
      action.isPreferred = true;
      const target: CellRef = { notebook: fix.notebook, cell: fix.tags.cell };
      action.command = {
        title: fix.title,
        command: CommandIds.applyTags,
        arguments: [target, fix.tags.tags],
      };
      actions.push(action);
    }
    return actions;
  }

  dispose(): void {
    for (const t of this.pending.values()) clearTimeout(t);
    for (const s of this.subscriptions) s.dispose();
  }
}
