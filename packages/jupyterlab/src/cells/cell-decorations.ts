/**
 * Keeps a chip strip on every code cell of one notebook, in step with core's analysis and with
 * the live states of the notebook's current run. Cells render lazily (windowed notebooks), so a
 * cell gets its strip once its DOM exists.
 */
import { EMPTY_CELL_TAGS, parseCellTags } from '@cellflow/core';
import type { Cell } from '@jupyterlab/cells';
import type { NotebookPanel } from '@jupyterlab/notebook';
import type { IDisposable } from '@lumino/disposable';
import type { PanelLayout } from '@lumino/widgets';
import type { NotebookAnalysis } from '../notebook/notebook-analysis.js';
import { CellChips, type StepRunState } from './cell-chips.js';

/** Tags of a cell model as strings (anything else in `metadata.tags` is ignored). */
export function readCellTags(cell: Cell): string[] {
  const tags: unknown = cell.model.getMetadata('tags');
  return Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [];
}

export class CellDecorations implements IDisposable {
  private readonly chips = new Map<Cell, CellChips>();
  private runStates: ReadonlyMap<string, StepRunState> = new Map();
  private disposed = false;

  constructor(
    private readonly panel: NotebookPanel,
    private readonly analysis: NotebookAnalysis,
    private readonly onEdit: (cell: Cell) => void,
  ) {
    analysis.changed.connect(this.updateAll, this);
    this.updateAll();
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Step states of the run shown on the cells (empty: none). */
  setRunStates(states: ReadonlyMap<string, StepRunState>): void {
    this.runStates = states;
    this.updateAll();
  }

  private updateAll(): void {
    if (this.disposed) return;
    const widgets = this.panel.content.widgets;
    const alive = new Set(widgets);
    for (const [cell, strip] of this.chips) {
      if (!alive.has(cell) || cell.model.type !== 'code') {
        strip.dispose();
        this.chips.delete(cell);
      }
    }
    for (const cell of widgets) {
      if (cell.model.type !== 'code') continue;
      // Resolves at once for a rendered cell; a windowed-out cell gets its strip when it renders.
      void cell.ready.then(() => this.updateCell(cell, this.panel.content.widgets.indexOf(cell)));
    }
  }

  private updateCell(cell: Cell, index: number): void {
    if (this.disposed || index < 0 || cell.isDisposed) return;
    let strip = this.chips.get(cell);
    if (strip === undefined || strip.isDisposed) {
      const layout = cell.layout as PanelLayout | null;
      if (layout === null || layout.widgets.length === 0) return;
      strip = new CellChips(() => this.onEdit(cell));
      // After the cell header, above the input.
      layout.insertWidget(1, strip);
      this.chips.set(cell, strip);
    }
    const graph = this.analysis.result.graph;
    const step = graph?.steps.find((s) => s.cells.includes(index));
    strip.render({
      tags: parseCellTags(readCellTags(cell)).tags ?? EMPTY_CELL_TAGS,
      step,
      firstOfStep: step?.cells[0] === index,
      diagnostics: this.analysis.result.diagnostics.filter((d) => d.cell === index),
      runState: step !== undefined ? this.runStates.get(step.name) : undefined,
    });
    cell.node.dataset.cellflowStep = step?.name ?? '';
    cell.node.dataset.cellflowState = (step && this.runStates.get(step.name)) ?? '';
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.analysis.changed.disconnect(this.updateAll, this);
    for (const strip of this.chips.values()) strip.dispose();
    this.chips.clear();
  }
}
