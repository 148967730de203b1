/**
 * A run's executed notebook, read-only, in a main-area tab beside the notebook: JupyterLab's own
 * notebook widget over a model made from the notebook the agent gives (`executedNotebook`), so
 * tables, plots and errors are drawn by JupyterLab's renderers. No document, no file and no
 * kernel: nothing here can be saved or run, and closing the tab leaves nothing behind.
 */
import type { NotebookFile } from '@cellflow/core';
import { MainAreaWidget } from '@jupyterlab/apputils';
import type { IEditorMimeTypeService } from '@jupyterlab/codeeditor';
import type * as nbformat from '@jupyterlab/nbformat';
import { Notebook, NotebookModel, StaticNotebook, type NotebookPanel } from '@jupyterlab/notebook';
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { Widget } from '@lumino/widgets';

/** What JupyterLab draws notebooks and outputs with (the application's own services). */
export interface NotebookRendering {
  readonly rendermime: IRenderMimeRegistry;
  readonly contentFactory: NotebookPanel.IContentFactory;
  readonly mimeTypeService: IEditorMimeTypeService;
}

/** The tab id of a run's outputs (one tab per run). */
export function runOutputsTabId(runId: string): string {
  return `cellflow-run-outputs-${runId}`;
}

/**
 * The executed notebook with every cell read-only and its outputs trusted: they are what the
 * user's own code showed in the run, as a kernel's outputs are trusted in the notebook that ran it.
 */
function readOnlyContent(executed: NotebookFile): nbformat.INotebookContent {
  return {
    ...executed,
    cells: executed.cells.map((cell) => ({
      ...cell,
      metadata: {
        ...((cell['metadata'] ?? {}) as Record<string, unknown>),
        editable: false,
        deletable: false,
        trusted: true,
      },
    })),
  } as unknown as nbformat.INotebookContent;
}

export function createRunOutputsView(
  rendering: NotebookRendering,
  executed: NotebookFile,
  run: { readonly id: string; readonly pipeline: string },
): MainAreaWidget<Notebook> {
  const content = new Notebook({
    rendermime: rendering.rendermime,
    contentFactory: rendering.contentFactory,
    mimeTypeService: rendering.mimeTypeService,
    notebookConfig: { ...StaticNotebook.defaultNotebookConfig, windowingMode: 'none' },
  });
  content.addClass('jp-NotebookPanel-notebook');
  const model = new NotebookModel();
  model.fromJSON(readOnlyContent(executed));
  content.model = model;
  // Every cell (all are made at once: no windowing) takes no input.
  for (const cell of content.widgets) cell.readOnly = true;
  const widget = new MainAreaWidget({ content });
  widget.id = runOutputsTabId(run.id);
  widget.addClass('cf-run-outputs');
  widget.node.dataset.run = run.id;
  widget.title.label = `${run.pipeline || 'run'} outputs · ${run.id}`;
  widget.title.caption = `The outputs of run ${run.id}, read-only: nothing here is saved to the notebook`;
  widget.title.closable = true;
  const note = new Widget();
  note.addClass('cf-run-outputs-note');
  note.node.textContent = `Run ${run.id}: each cell with what it showed in the run (read-only).`;
  widget.toolbar.addItem('cellflowRunOutputsNote', note);
  widget.disposed.connect(() => model.dispose());
  return widget;
}
