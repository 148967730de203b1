/**
 * Keeps a chip strip on every code cell of one notebook, in step with core's analysis and with
 * the live states of the notebook's current run; the cell where a step failed shows why. A
 * failure mark goes once the step's cells are edited or a later run or trial of it succeeds.
 * Cells render lazily (windowed notebooks), so a cell gets its strip once its DOM exists.
 */
import type { StepFailure } from '@cellflow/protocol';
import {
  EMPTY_CELL_TAGS,
  parseCellTags,
  type CellRole,
  type CellTags,
  type PipelineGraph,
  type PipelineStep,
} from '@cellflow/core';
import { continuedStep, joinedRole, stepFailureView } from '@cellflow/ui';
import type { Cell } from '@jupyterlab/cells';
import type { NotebookPanel } from '@jupyterlab/notebook';
import type { IDisposable } from '@lumino/disposable';
import type { PanelLayout } from '@lumino/widgets';
import type { NotebookAnalysis } from '../notebook/notebook-analysis.js';
import type { StepState } from '@cellflow/protocol';
import { CellChips, type CellChipsActions } from './cell-chips.js';

/** Tags of a cell model as strings (anything else in `metadata.tags` is ignored). */
export function readCellTags(cell: Cell): string[] {
  const tags: unknown = cell.model.getMetadata('tags');
  return Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [];
}

/** The run shown on the cells: its steps' states and why failed steps failed. */
export interface ShownRun {
  readonly id: string;
  readonly steps: ReadonlyMap<string, StepState>;
  readonly failures: ReadonlyMap<string, StepFailure>;
}

/** What the strip's buttons do, for a cell of this notebook. */
export interface CellDecorationsActions {
  readonly onEdit: (cell: Cell) => void;
  readonly onShowFailure: (step: string) => void;
  readonly onShowLog: (step: string) => void;
}

export class CellDecorations implements IDisposable {
  private readonly chips = new Map<Cell, CellChips>();
  private run: ShownRun | undefined;
  /** Per failed step of the shown run: its cells' source when the failure was first shown. */
  private readonly failedSources = new Map<string, string>();
  /** Failed steps whose mark no longer holds (edited since, or a later trial succeeded). */
  private readonly stale = new Set<string>();
  private disposed = false;

  constructor(
    private readonly panel: NotebookPanel,
    private readonly analysis: NotebookAnalysis,
    private readonly actions: CellDecorationsActions,
  ) {
    analysis.changed.connect(this.updateAll, this);
    this.updateAll();
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** The run whose states the cells show (undefined: none). */
  setRun(run: ShownRun | undefined): void {
    if (run?.id !== this.run?.id) {
      this.failedSources.clear();
      this.stale.clear();
    }
    this.run = run;
    this.updateAll();
  }

  /** A later run of every step succeeded (a study's trial): failure marks go. */
  clearFailures(): void {
    for (const [step, state] of this.run?.steps ?? []) if (state === 'failed') this.stale.add(step);
    this.updateAll();
  }

  /** The state a step shows: none once its failure mark is stale. */
  stateOf(step: string): StepState | undefined {
    return this.stale.has(step) ? undefined : this.run?.steps.get(step);
  }

  /** Every step's state as the cells show it (stale failures left out). */
  shownStates(): ReadonlyMap<string, StepState> {
    const shown = new Map<string, StepState>();
    for (const step of this.run?.steps.keys() ?? []) {
      const state = this.stateOf(step);
      if (state !== undefined) shown.set(step, state);
    }
    return shown;
  }

  /** Why a step failed, while its mark holds. */
  failureOf(step: string): StepFailure | undefined {
    return this.stale.has(step) ? undefined : this.run?.failures.get(step);
  }

  private sourceOf(step: PipelineStep): string {
    const widgets = this.panel.content.widgets;
    return step.cells.map((i) => widgets[i]?.model.sharedModel.getSource() ?? '').join('\n\u0000');
  }

  /** Marks failed steps whose cells changed since they failed as stale. */
  private checkFailedSteps(): void {
    const graph = this.analysis.result.graph;
    for (const [name, state] of this.run?.steps ?? []) {
      if (state !== 'failed' || this.stale.has(name)) continue;
      const step = graph?.steps.find((s) => s.name === name);
      if (step === undefined) continue;
      const source = this.sourceOf(step);
      const before = this.failedSources.get(name);
      if (before === undefined) this.failedSources.set(name, source);
      else if (before !== source) this.stale.add(name);
    }
  }

  private updateAll(): void {
    if (this.disposed) return;
    this.checkFailedSteps();
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

  /** What a cell without a role tag continues: a step's block, else the tagged cell above. */
  private continuation(
    graph: PipelineGraph | undefined,
    index: number,
  ): { continues: string } | { joins: CellRole['kind'] } {
    const continues = continuedStep(graph, index);
    return continues !== undefined
      ? { continues }
      : { joins: this.joinedRole(index) ?? 'continue' };
  }

  /** The role of the nearest code cell above `index` that has a role tag. */
  private joinedRole(index: number): CellRole['kind'] | undefined {
    const widgets = this.panel.content.widgets;
    return joinedRole(index, (i) => {
      const cell = widgets[i];
      return cell === undefined || cell.model.type !== 'code'
        ? undefined
        : this.tagsOf(cell).role.kind;
    });
  }

  private tagsOf(cell: Cell): CellTags {
    return parseCellTags(readCellTags(cell)).tags ?? EMPTY_CELL_TAGS;
  }

  private updateCell(cell: Cell, index: number): void {
    if (this.disposed || index < 0 || cell.isDisposed) return;
    let strip = this.chips.get(cell);
    if (strip === undefined || strip.isDisposed) {
      const layout = cell.layout as PanelLayout | null;
      if (layout === null || layout.widgets.length === 0) return;
      const actions: CellChipsActions = {
        onEdit: () => this.actions.onEdit(cell),
        onShowFailure: this.actions.onShowFailure,
        onShowLog: this.actions.onShowLog,
      };
      strip = new CellChips(actions);
      // After the cell header, above the input.
      layout.insertWidget(1, strip);
      this.chips.set(cell, strip);
    }
    const graph = this.analysis.result.graph;
    const step = graph?.steps.find((s) => s.cells.includes(index));
    const tags = this.tagsOf(cell);
    const runState = step !== undefined ? this.stateOf(step.name) : undefined;
    const failure = step !== undefined ? this.failureOf(step.name) : undefined;
    // The failure shows on the cell it names, else on the step's first cell.
    const failingCell =
      failure?.cell != null && step?.cells.includes(failure.cell) === true
        ? failure.cell
        : step?.cells[0];
    strip.render({
      tags,
      step,
      firstOfStep: step?.cells[0] === index,
      diagnostics: this.analysis.result.diagnostics.filter((d) => d.cell === index),
      runState,
      ...(tags.role.kind === 'continue' ? this.continuation(graph, index) : {}),
      ...(failure !== undefined && step !== undefined && failingCell === index
        ? {
            failure: stepFailureView(step.name, failure, cell.model.sharedModel.getSource()),
          }
        : {}),
    });
    cell.node.dataset.cellflowStep = step?.name ?? '';
    cell.node.dataset.cellflowState = runState ?? '';
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.analysis.changed.disconnect(this.updateAll, this);
    for (const strip of this.chips.values()) strip.dispose();
    this.chips.clear();
  }
}
