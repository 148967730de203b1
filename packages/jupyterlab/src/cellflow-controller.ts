/**
 * What the commands do: keeps an analysis and cell decorations for every open notebook, talks to
 * the agent, tracks runs, studies and endpoints, and feeds the panel. Commands, buttons and the
 * toolbar all land here; nothing here registers anything with JupyterLab.
 */
import { hasErrors, type Diagnostic } from '@cellflow/core';
import type { AgentClient } from '@cellflow/ui';
import { showErrorMessage } from '@jupyterlab/apputils';
import type { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { DisposableSet, type IDisposable } from '@lumino/disposable';
import { CellDecorations } from './cells/cell-decorations.js';
import { editCellTags } from './cells/tag-editor.js';
import { NotebookAnalysis } from './notebook/notebook-analysis.js';
import type { CellflowPanel } from './panel/cellflow-panel.js';
import { PipelineRuns } from './runs/pipeline-runs.js';

export interface CellflowConfig {
  agentUrl: string;
  concurrency: number;
  diagnosticsDelay: number;
}

interface OpenNotebook {
  readonly analysis: NotebookAnalysis;
  readonly decorations: CellDecorations;
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function describeDiagnostics(diagnostics: readonly Diagnostic[]): string {
  return diagnostics
    .filter((d) => d.severity === 'error')
    .map((d) => `${d.cell !== null ? `Cell ${d.cell + 1}: ` : ''}${d.message}`)
    .join('\n');
}

export class CellflowController implements IDisposable {
  readonly runs: PipelineRuns;
  private readonly notebooks = new Map<NotebookPanel, OpenNotebook>();
  private readonly disposables = new DisposableSet();
  private clientValue: AgentClient;

  constructor(
    private readonly tracker: INotebookTracker,
    readonly panel: CellflowPanel,
    readonly config: CellflowConfig,
    private readonly makeClient: (agentUrl: string) => AgentClient,
  ) {
    this.clientValue = makeClient(config.agentUrl);
    this.runs = new PipelineRuns(() => this.clientValue);
    this.disposables.add(this.runs);
    this.runs.changed.connect(this.onRunChanged, this);
    tracker.widgetAdded.connect(this.onNotebookAdded, this);
    tracker.currentChanged.connect(this.onCurrentChanged, this);
    tracker.forEach((panel) => this.onNotebookAdded(tracker, panel));
    this.onCurrentChanged();
    void this.refreshAgent();
  }

  get client(): AgentClient {
    return this.clientValue;
  }

  get isDisposed(): boolean {
    return this.disposables.isDisposed;
  }

  /** Settings changed: a new agent URL means a new client. */
  configure(next: CellflowConfig): void {
    const agentChanged = next.agentUrl !== this.config.agentUrl;
    Object.assign(this.config, next);
    if (agentChanged) {
      this.clientValue = this.makeClient(next.agentUrl);
      void this.refreshAgent();
    }
  }

  /** The analysis of the notebook in focus. */
  get current(): NotebookAnalysis | null {
    const panel = this.tracker.currentWidget;
    return panel !== null ? (this.notebooks.get(panel)?.analysis ?? null) : null;
  }

  async refreshAgent(): Promise<void> {
    try {
      const [info, capacity] = await Promise.all([
        this.clientValue.info(),
        this.clientValue.capacity(),
      ]);
      this.panel.setAgent(info, capacity, null);
    } catch (error) {
      this.panel.setAgent(
        null,
        null,
        `The Cellflow agent is not reachable: ${describeError(error)} Fix: install and enable the Cellflow server extension, or set "Agent URL" in the Cellflow settings.`,
      );
    }
  }

  async runCurrent(): Promise<void> {
    const analysis = this.current;
    if (analysis === null) {
      await showErrorMessage('Cellflow', 'Open a notebook first: Run runs the notebook in focus.');
      return;
    }
    analysis.refresh();
    const compiled = analysis.compile();
    if (compiled.pipeline === undefined || hasErrors(compiled.diagnostics)) {
      await showErrorMessage(
        'Cellflow: the notebook has errors',
        describeDiagnostics(compiled.diagnostics) || 'The notebook could not be compiled.',
      );
      return;
    }
    try {
      await this.runs.submit(compiled.pipeline, analysis.path, this.config.concurrency);
    } catch (error) {
      await showErrorMessage('Cellflow: the run did not start', describeError(error));
    }
  }

  async cancelCurrent(): Promise<void> {
    const path = this.current?.path;
    const run = path !== undefined ? this.runs.latestFor(path) : this.runs.all[0];
    if (run === undefined) return;
    try {
      await this.runs.cancel(run);
    } catch (error) {
      await showErrorMessage('Cellflow: cancel failed', describeError(error));
    }
  }

  async editTagsOfActiveCell(): Promise<void> {
    const panel = this.tracker.currentWidget;
    const cell = panel?.content.activeCell;
    if (panel === null || panel === undefined || cell === null || cell === undefined) return;
    const steps = this.notebooks.get(panel)?.analysis.result.graph?.steps.map((s) => s.name) ?? [];
    await editCellTags(cell, steps);
  }

  private onNotebookAdded(_: INotebookTracker, panel: NotebookPanel): void {
    if (this.notebooks.has(panel)) return;
    void panel.context.ready.then(() => {
      if (this.isDisposed || panel.isDisposed || this.notebooks.has(panel)) return;
      const analysis = new NotebookAnalysis(panel, () => this.config.diagnosticsDelay);
      const decorations = new CellDecorations(panel, analysis, (cell) => {
        panel.content.activeCellIndex = panel.content.widgets.indexOf(cell);
        const steps = analysis.result.graph?.steps.map((s) => s.name) ?? [];
        void editCellTags(cell, steps);
      });
      this.notebooks.set(panel, { analysis, decorations });
      const run = this.runs.latestFor(analysis.path);
      if (run !== undefined) decorations.setRunStates(run.steps);
      panel.disposed.connect(() => {
        decorations.dispose();
        analysis.dispose();
        this.notebooks.delete(panel);
        this.onCurrentChanged();
      });
      if (this.tracker.currentWidget === panel) this.onCurrentChanged();
    });
  }

  private onCurrentChanged(): void {
    this.panel.setAnalysis(this.current);
  }

  private onRunChanged(): void {
    this.panel.setRuns(this.runs.all);
    for (const { analysis, decorations } of this.notebooks.values()) {
      const run = this.runs.latestFor(analysis.path);
      if (run !== undefined) decorations.setRunStates(run.steps);
    }
  }

  dispose(): void {
    if (this.isDisposed) return;
    this.tracker.widgetAdded.disconnect(this.onNotebookAdded, this);
    this.tracker.currentChanged.disconnect(this.onCurrentChanged, this);
    for (const { analysis, decorations } of this.notebooks.values()) {
      decorations.dispose();
      analysis.dispose();
    }
    this.notebooks.clear();
    this.disposables.dispose();
  }
}
