/**
 * A run's outputs under the cells of one notebook (the "Outputs on cells" toggle): each cell that
 * ran with the code it has now shows what it showed in the run, in an area of its own under the
 * cell, drawn by JupyterLab's output renderers. The cells' own outputs (the notebook model) are
 * never touched: the notebook does not become dirty and nothing of this is saved with it.
 */
import type { NotebookFile } from '@cellflow/core';
import { runOutputsForCells, type CellNow, type CellRunOutputs } from '@cellflow/ui';
import type { Cell } from '@jupyterlab/cells';
import type * as nbformat from '@jupyterlab/nbformat';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { OutputArea, OutputAreaModel } from '@jupyterlab/outputarea';
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import type { IDisposable } from '@lumino/disposable';
import { Panel, Widget, type PanelLayout } from '@lumino/widgets';

/** The run whose outputs the cells show. */
export interface ShownRunOutputs {
  readonly runId: string;
  readonly executed: NotebookFile;
}

/** One cell's outputs from the run, under the cell. */
class CellRunOutputsWidget extends Panel {
  private readonly model: OutputAreaModel;

  constructor(
    readonly key: string,
    runId: string,
    ran: CellRunOutputs,
    rendermime: IRenderMimeRegistry,
  ) {
    super();
    this.addClass('cf-cell-run-outputs');
    this.node.dataset.run = runId;
    const label = new Widget();
    label.addClass('cf-cell-run-outputs-label');
    label.node.textContent = `Run ${runId} [${ran.executionCount}] · shown here, not saved in the notebook`;
    this.model = new OutputAreaModel({
      values: ran.outputs as unknown as nbformat.IOutput[],
      trusted: true,
    });
    this.addWidget(label);
    this.addWidget(new OutputArea({ model: this.model, rendermime }));
  }

  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    this.model.dispose();
  }
}

function cellNow(cell: Cell): CellNow {
  const kind = cell.model.type;
  return {
    kind: kind === 'code' || kind === 'markdown' ? kind : 'raw',
    source: cell.model.sharedModel.getSource(),
    id: cell.model.id,
  };
}

export class InlineRunOutputs implements IDisposable {
  private readonly areas = new Map<Cell, CellRunOutputsWidget>();
  private shownRun: ShownRunOutputs | undefined;
  private disposed = false;

  constructor(
    private readonly panel: NotebookPanel,
    private readonly rendermime: IRenderMimeRegistry,
  ) {}

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** The run shown on the cells, or undefined when the toggle is off. */
  get shown(): ShownRunOutputs | undefined {
    return this.shownRun;
  }

  /** Shows `run`'s outputs on the cells (undefined: none, the toggle is off). */
  show(run: ShownRunOutputs | undefined): void {
    this.shownRun = run;
    this.update();
  }

  /** Matches the cells again (after an edit: a changed cell no longer shows the run's outputs). */
  update(): void {
    if (this.disposed) return;
    const cells = this.panel.content.widgets;
    const found =
      this.shownRun !== undefined
        ? runOutputsForCells(this.shownRun.executed, cells.map(cellNow))
        : [];
    const wanted = new Map<Cell, CellRunOutputs>();
    cells.forEach((cell, i) => {
      const ran = found[i];
      if (ran !== undefined && ran.outputs.length > 0) wanted.set(cell, ran);
    });
    for (const [cell, area] of this.areas) {
      const ran = wanted.get(cell);
      if (ran === undefined || area.key !== this.keyOf(ran)) {
        area.dispose();
        this.areas.delete(cell);
      }
    }
    for (const [cell, ran] of wanted) {
      if (this.areas.has(cell)) continue;
      // Resolves at once for a rendered cell; a windowed-out cell gets its area when it renders.
      void cell.ready.then(() => this.attach(cell, ran));
    }
  }

  private keyOf(ran: CellRunOutputs): string {
    return `${this.shownRun?.runId ?? ''}/${ran.executionCount}`;
  }

  private attach(cell: Cell, ran: CellRunOutputs): void {
    const run = this.shownRun;
    if (this.disposed || run === undefined || cell.isDisposed || this.areas.has(cell)) return;
    const layout = cell.layout as PanelLayout | null;
    if (layout === null) return;
    const area = new CellRunOutputsWidget(this.keyOf(ran), run.runId, ran, this.rendermime);
    layout.addWidget(area);
    this.areas.set(cell, area);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const area of this.areas.values()) area.dispose();
    this.areas.clear();
  }
}
