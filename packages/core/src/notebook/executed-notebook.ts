/**
 * A run's results as a notebook (papermill's convention): the notebook's cells with the outputs
 * each showed when its step ran and an execution count, nbformat 4. The step runtime records the
 * outputs (`--cell-outputs`, nbformat 4 output objects); this puts them back on their cells.
 */
import type { Notebook, NotebookCell } from './notebook.js';

/** One nbformat 4 output (`stream`, `display_data`, `execute_result`, `error`), as Jupyter writes it. */
export type NotebookOutput = Readonly<Record<string, unknown>> & { readonly output_type: string };

/** What one cell showed while its step ran (the runtime's record for that cell). */
export interface CellOutputs {
  /** 0-based index of the cell in the notebook. */
  readonly cell: number;
  readonly outputs: readonly NotebookOutput[];
}

/** An nbformat 4 notebook as JSON. */
export interface NotebookFile {
  readonly nbformat: 4;
  readonly nbformat_minor: number;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly cells: readonly Readonly<Record<string, unknown>>[];
}

function cellJson(
  cell: NotebookCell,
  withIds: boolean,
  ran?: { count: number; outputs: readonly NotebookOutput[] },
): Record<string, unknown> {
  const id = withIds ? { id: cell.id ?? `cellflow-${cell.index}` } : {};
  const base = { cell_type: cell.kind, ...id, metadata: cell.metadata, source: cell.source };
  if (cell.kind !== 'code') return base;
  const outputs = (ran?.outputs ?? []).map((o) =>
    o.output_type === 'execute_result' ? { ...o, execution_count: ran!.count } : o,
  );
  return { ...base, execution_count: ran?.count ?? null, outputs };
}

/**
 * The notebook with the outputs of the cells that ran, each cell counted in notebook order (1, 2,
 * ...) as if run top to bottom; cells that did not run keep no outputs. nbformat 4.5 cells get ids
 * (kept when the notebook had them).
 */
export function buildExecutedNotebook(
  notebook: Notebook,
  ran: readonly CellOutputs[] = [],
): NotebookFile {
  const byCell = new Map<number, NotebookOutput[]>();
  for (const record of ran) byCell.set(record.cell, [...record.outputs]);
  const minor = Math.max(notebook.nbformat === 4 ? notebook.nbformatMinor : 0, 4);
  const withIds = minor >= 5;
  let count = 0;
  const cells = notebook.cells.map((cell) => {
    const outputs = cell.kind === 'code' ? byCell.get(cell.index) : undefined;
    return cellJson(cell, withIds, outputs && { count: ++count, outputs });
  });
  return { nbformat: 4, nbformat_minor: minor, metadata: notebook.metadata, cells };
}
