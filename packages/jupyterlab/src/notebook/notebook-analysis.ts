/**
 * Core's analysis of one open notebook (steps, dependencies, diagnostics), redone a moment after
 * each edit by core's `NotebookAnalyzer`, which redoes only what the edit changed. Everything runs
 * in the browser: core is pure.
 */
import {
  compile,
  NotebookAnalyzer,
  readNotebookSettings,
  type AnalyzeResult,
  type CompileResult,
  type NotebookSettings,
} from '@cellflow/core';
import type { ICellModel } from '@jupyterlab/cells';
import type { NotebookPanel } from '@jupyterlab/notebook';
import type { IDisposable } from '@lumino/disposable';
import { Signal, type ISignal } from '@lumino/signaling';

export class NotebookAnalysis implements IDisposable {
  private readonly changedSignal = new Signal<this, void>(this);
  private timer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;
  private readonly watched = new WeakSet<ICellModel>();
  private resultValue: AnalyzeResult = { code: new Map(), diagnostics: [] };
  private settingsValue: NotebookSettings = { stepDefaults: [] };
  private readonly analyzer = new NotebookAnalyzer();

  constructor(
    readonly panel: NotebookPanel,
    private readonly delayMs: () => number,
  ) {
    const model = panel.content.model;
    model?.contentChanged.connect(this.schedule, this);
    model?.metadataChanged.connect(this.schedule, this);
    model?.cells.changed.connect(this.watchCells, this);
    this.watchCells();
    this.refresh();
  }

  /** Fires after each re-analysis. */
  get changed(): ISignal<this, void> {
    return this.changedSignal;
  }

  get result(): AnalyzeResult {
    return this.resultValue;
  }

  get settings(): NotebookSettings {
    return this.settingsValue;
  }

  /** The notebook's path relative to the Jupyter server root. */
  get path(): string {
    return this.panel.context.path;
  }

  /** A notebook without a `name` setting names its pipeline after its file, as the CLI does. */
  private compileOptions(): { fileName: string } {
    return { fileName: this.path.split('/').pop() ?? this.path };
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** nbformat JSON of the notebook as it is in the editor now (saved or not). */
  notebookJson(): string {
    return JSON.stringify(this.panel.content.model?.toJSON() ?? {});
  }

  /** Compiles the notebook as it is now (for Run / Deploy / Tune). */
  compile(): CompileResult {
    return compile(this.notebookJson(), this.compileOptions());
  }

  /** Re-analyses now. */
  refresh(): void {
    if (this.disposed) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    const model = this.panel.content.model;
    if (model === null) return;
    this.settingsValue = readNotebookSettings(model.metadata).settings;
    this.resultValue = this.analyzer.analyze(this.notebookJson(), this.compileOptions());
    this.changedSignal.emit();
  }

  /**
   * Cell metadata edits do not change the notebook's content signal: watch each cell. A tag edit,
   * wherever it is made (Cellflow's form, JupyterLab's tag editor, the property inspector's
   * metadata), is one deliberate change: the chips follow at once, not after the typing delay.
   */
  private watchCells(): void {
    const model = this.panel.content.model;
    if (model === null) return;
    for (const cell of model.cells) {
      if (this.watched.has(cell)) continue;
      this.watched.add(cell);
      cell.metadataChanged.connect(this.onCellMetadataChanged, this);
    }
  }

  private onCellMetadataChanged(_: ICellModel, change: { readonly key: string }): void {
    if (change.key === 'tags') this.refresh();
    else this.schedule();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), this.delayMs());
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    clearTimeout(this.timer);
    Signal.clearData(this);
  }
}
