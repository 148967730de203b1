/**
 * A run's outputs on the cells of a notebook (**Toggle Run Outputs on Cells**), without touching
 * the notebook: VS Code saves a `.ipynb` cell's outputs with the file and marks the notebook dirty
 * when they change, and it has no API to draw extra content under a cell. So each cell that ran
 * with the code it has now gets a decoration after its last line: its outputs as one line of text
 * (printed text, values, `[image/png image]`), and the whole of them (text and images) in the
 * decoration's hover. **Show Run Outputs** draws them in full, beside the notebook.
 */
import type { NotebookFile, NotebookOutput } from '@cellflow/core';
import { outputText, outputsAsOneLine, runOutputsForCells, type CellNow } from '@cellflow/ui';
import * as vscode from 'vscode';

/** The run whose outputs a notebook's cells show. */
export interface ShownRunOutputs {
  readonly runId: string;
  readonly executed: NotebookFile;
}

const HOVER_TEXT_CHARS = 20_000;
const HOVER_IMAGE_BYTES = 512 * 1024;

function cellNow(cell: vscode.NotebookCell): CellNow {
  const id: unknown = (cell.metadata as { id?: unknown } | undefined)?.id;
  return {
    kind: cell.kind === vscode.NotebookCellKind.Code ? 'code' : 'markdown',
    source: cell.document.getText(),
    ...(typeof id === 'string' ? { id } : {}),
  };
}

/** The hover of a cell's run outputs: all their text, and their PNG and JPEG images. */
function hoverOf(
  runId: string,
  count: number,
  outputs: readonly NotebookOutput[],
): vscode.MarkdownString {
  const hover = new vscode.MarkdownString(
    `**Run ${runId}** [${count}], shown here, not saved in the notebook\n\n`,
  );
  const text = outputs
    .map(outputText)
    .filter((t) => t !== '')
    .join('\n');
  if (text !== '')
    hover.appendCodeblock(
      text.length > HOVER_TEXT_CHARS ? `${text.slice(0, HOVER_TEXT_CHARS)}\n…` : text,
      'text',
    );
  for (const output of outputs) {
    const data = (output['data'] ?? {}) as Record<string, unknown>;
    for (const mime of ['image/png', 'image/jpeg']) {
      const image = data[mime];
      const base64 = Array.isArray(image) ? image.join('') : typeof image === 'string' ? image : '';
      if (base64 !== '' && base64.length <= HOVER_IMAGE_BYTES)
        hover.appendMarkdown(`\n\n![${mime}](data:${mime};base64,${base64.replace(/\s+/g, '')})`);
    }
  }
  return hover;
}

export class InlineRunOutputs implements vscode.Disposable {
  private readonly shown = new Map<string, ShownRunOutputs>();
  private readonly decoration = vscode.window.createTextEditorDecorationType({
    after: {
      margin: '0 0 0 2em',
      color: new vscode.ThemeColor('editorCodeLens.foreground'),
      fontStyle: 'italic',
    },
    isWholeLine: false,
    rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
  });
  private readonly subscriptions: vscode.Disposable[];

  constructor() {
    this.subscriptions = [
      this.decoration,
      vscode.window.onDidChangeVisibleTextEditors(() => this.render()),
      vscode.workspace.onDidChangeNotebookDocument((e) => {
        if (this.shown.has(e.notebook.uri.toString())) this.render();
      }),
      vscode.workspace.onDidCloseNotebookDocument((nb) => this.shown.delete(nb.uri.toString())),
    ];
  }

  /** The run a notebook's cells show, or undefined. */
  shownFor(notebook: vscode.NotebookDocument): ShownRunOutputs | undefined {
    return this.shown.get(notebook.uri.toString());
  }

  /** Shows `run`'s outputs on the notebook's cells; undefined takes them away. */
  show(notebook: vscode.NotebookDocument, run: ShownRunOutputs | undefined): void {
    if (run === undefined) this.shown.delete(notebook.uri.toString());
    else this.shown.set(notebook.uri.toString(), run);
    this.render();
  }

  /** A run of a notebook ended: if its cells show an earlier run's outputs, they show this one's. */
  async runEnded(
    notebook: string,
    runId: string,
    load: () => Promise<NotebookFile>,
  ): Promise<void> {
    const shown = this.shown.get(notebook);
    if (shown === undefined || shown.runId === runId) return;
    const executed = await load().catch(() => undefined);
    if (executed === undefined || !this.shown.has(notebook)) return;
    this.shown.set(notebook, { runId, executed });
    this.render();
  }

  /** Decorates every visible cell editor of a notebook that shows a run's outputs. */
  private render(): void {
    const byNotebook = new Map<vscode.NotebookDocument, vscode.TextEditor[]>();
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document.uri.scheme !== 'vscode-notebook-cell') continue;
      const notebook = vscode.workspace.notebookDocuments.find((nb) =>
        nb.getCells().some((c) => c.document === editor.document),
      );
      if (notebook === undefined) continue;
      byNotebook.set(notebook, [...(byNotebook.get(notebook) ?? []), editor]);
    }
    for (const [notebook, editors] of byNotebook) {
      const run = this.shown.get(notebook.uri.toString());
      const cells = notebook.getCells();
      const found = run !== undefined ? runOutputsForCells(run.executed, cells.map(cellNow)) : [];
      for (const editor of editors) {
        const index = cells.findIndex((c) => c.document === editor.document);
        const ran = found[index];
        const line = editor.document.lineAt(Math.max(0, editor.document.lineCount - 1));
        const text = ran !== undefined ? outputsAsOneLine(ran.outputs) : '';
        editor.setDecorations(
          this.decoration,
          run === undefined || ran === undefined || text === ''
            ? []
            : [
                {
                  range: new vscode.Range(line.range.end, line.range.end),
                  hoverMessage: hoverOf(run.runId, ran.executionCount, ran.outputs),
                  renderOptions: { after: { contentText: `⇢ ${text}` } },
                },
              ],
        );
      }
    }
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.shown.clear();
  }
}
