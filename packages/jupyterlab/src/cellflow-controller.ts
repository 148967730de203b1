/**
 * What the commands do: keeps an analysis and cell decorations for every open notebook, talks to
 * the agent, tracks runs, studies and endpoints, and feeds the panel. Commands, buttons and the
 * toolbar all land here; nothing here registers anything with JupyterLab.
 */
import {
  checkStepImagesForCluster,
  hasErrors,
  withDefaultImage,
  type CompiledPipeline,
  type Diagnostic,
} from '@cellflow/core';
import type { AgentInfo } from '@cellflow/backend/agent-protocol';
import { describeSchedule, describeUpload, type AgentClient } from '@cellflow/ui';
import type { Widget } from '@lumino/widgets';
import { Notification, showErrorMessage } from '@jupyterlab/apputils';
import type { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { DisposableSet, type IDisposable } from '@lumino/disposable';
import { CellDecorations } from './cells/cell-decorations.js';
import { editCellTags } from './cells/tag-editor.js';
import { askDeployChoice } from './deploy/deploy-dialog.js';
import { NotebookAnalysis } from './notebook/notebook-analysis.js';
import type { CellflowPanel } from './panel/cellflow-panel.js';
import { PipelineGraphWidget } from './panel/pipeline-graph-widget.js';
import { PipelineRuns } from './runs/pipeline-runs.js';
import { modelToServe, serveModel } from './serving/notebook-endpoints.js';
import { NotebookStudies } from './tuning/notebook-studies.js';

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

export interface CellflowHost {
  readonly tracker: INotebookTracker;
  readonly panel: CellflowPanel;
  readonly makeClient: (agentUrl: string) => AgentClient;
  /** Shows a widget in the main area (the graph tab). */
  readonly openTab: (widget: Widget) => void;
}

export class CellflowController implements IDisposable {
  readonly runs: PipelineRuns;
  readonly studies: NotebookStudies;
  readonly panel: CellflowPanel;
  private readonly tracker: INotebookTracker;
  private readonly makeClient: (agentUrl: string) => AgentClient;
  private readonly graphs = new Set<PipelineGraphWidget>();
  private info: AgentInfo | null = null;
  private readonly notebooks = new Map<NotebookPanel, OpenNotebook>();
  private readonly disposables = new DisposableSet();
  private clientValue: AgentClient;

  constructor(
    private readonly host: CellflowHost,
    readonly config: CellflowConfig,
  ) {
    this.tracker = host.tracker;
    this.panel = host.panel;
    this.makeClient = host.makeClient;
    const tracker = host.tracker;
    this.clientValue = this.makeClient(config.agentUrl);
    this.runs = new PipelineRuns(() => this.clientValue);
    this.disposables.add(this.runs);
    this.studies = new NotebookStudies(() => this.clientValue);
    this.disposables.add(this.studies);
    this.studies.changed.connect(this.showStudy, this);
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
      this.info = info;
      this.panel.setAgent(info, capacity, null);
      await this.refreshEndpoints();
    } catch (error) {
      this.panel.setAgent(
        null,
        null,
        `The Cellflow agent is not reachable: ${describeError(error)} Fix: install and enable the Cellflow server extension, or set "Agent URL" in the Cellflow settings.`,
      );
    }
  }

  /** The notebook in focus compiled, or undefined after telling the user why not. */
  private async compileCurrent(
    action: string,
  ): Promise<{ analysis: NotebookAnalysis; pipeline: CompiledPipeline } | undefined> {
    const analysis = this.current;
    if (analysis === null) {
      await showErrorMessage(
        'Cellflow',
        `Open a notebook first: ${action} uses the notebook in focus.`,
      );
      return undefined;
    }
    analysis.refresh();
    const compiled = analysis.compile();
    if (compiled.pipeline === undefined || hasErrors(compiled.diagnostics)) {
      await showErrorMessage(
        'Cellflow: the notebook has errors',
        describeDiagnostics(compiled.diagnostics) || 'The notebook could not be compiled.',
      );
      return undefined;
    }
    return { analysis, pipeline: compiled.pipeline };
  }

  async runCurrent(): Promise<void> {
    const compiled = await this.compileCurrent('Run');
    if (compiled === undefined) return;
    try {
      await this.runs.submit(compiled.pipeline, compiled.analysis.path, this.config.concurrency);
    } catch (error) {
      await showErrorMessage('Cellflow: the run did not start', describeError(error));
    }
  }

  /**
   * Deploy to the cluster the agent drives (the agent's target decides; see the README): run now,
   * upload as a new version, or schedule (uploads a new version and runs it on the schedule).
   */
  async deployCurrent(): Promise<void> {
    if (this.info !== null && this.info.target !== 'cluster') {
      await showErrorMessage(
        'Cellflow: no cluster',
        `The Cellflow agent drives ${this.info.description}, not a cluster. Fix: start Jupyter with the Cellflow server extension set to a cluster target (see the README, "JupyterLab"), then Deploy.`,
      );
      return;
    }
    const compiled = await this.compileCurrent('Deploy');
    if (compiled === undefined) return;
    // Steps left on the default image run in the notebook server's image when the agent has one.
    const graph = withDefaultImage(compiled.pipeline.graph, this.info?.defaultImage);
    const warnings = checkStepImagesForCluster(graph, compiled.pipeline.code).map(
      (d) => `${d.cell !== null ? `Cell ${d.cell + 1}: ` : ''}${d.message}`,
    );
    const answer = await askDeployChoice(this.info?.description ?? 'the cluster', warnings);
    if (answer === undefined) return;
    if (answer.choice === 'run') {
      await this.runCurrent();
      return;
    }
    const notebookPath = compiled.analysis.path;
    try {
      if (answer.choice === 'upload') {
        const upload = await this.clientValue.upload(compiled.pipeline, { notebookPath });
        this.notifyDeployed(describeUpload(upload), upload.uiUrl);
      } else {
        const schedule = await this.clientValue.schedule(compiled.pipeline, {
          trigger: answer.trigger,
          upload: true,
          notebookPath,
        });
        this.notifyDeployed(describeSchedule(schedule), schedule.uiUrl);
      }
    } catch (error) {
      await showErrorMessage('Cellflow: deploy failed', describeError(error));
    }
  }

  private notifyDeployed(message: string, uiUrl: string): void {
    Notification.success(`Cellflow: ${message}`, {
      autoClose: false,
      actions: [{ label: 'Open in KFP UI', callback: () => window.open(uiUrl, '_blank') }],
    });
  }

  async tuneCurrent(): Promise<void> {
    const compiled = await this.compileCurrent('Tune');
    if (compiled === undefined) return;
    try {
      const { diagnostics } = await this.studies.start(compiled.analysis, compiled.pipeline);
      if (hasErrors(diagnostics))
        await showErrorMessage('Cellflow: cannot tune', describeDiagnostics(diagnostics));
    } catch (error) {
      await showErrorMessage('Cellflow: the study did not start', describeError(error));
    }
  }

  async applyBest(): Promise<void> {
    const analysis = this.current;
    const study = analysis !== null ? this.studies.latestFor(analysis.path) : null;
    if (analysis === null || study?.best === null || study === null) return;
    const problems = this.studies.applyTrial(analysis, study.best);
    if (problems.length > 0)
      await showErrorMessage(
        'Cellflow: cannot apply the best values',
        describeDiagnostics(problems),
      );
  }

  async serveCurrent(): Promise<void> {
    const analysis = this.current;
    const graph = analysis?.result.graph;
    if (analysis === null || graph === undefined) {
      await showErrorMessage(
        'Cellflow',
        'Open a notebook first: Serve serves a model its run trained.',
      );
      return;
    }
    const model = modelToServe(graph, this.runs.latestFor(analysis.path));
    if (typeof model === 'string') {
      await showErrorMessage('Cellflow: nothing to serve', model);
      return;
    }
    try {
      this.panel.setEndpoints(await serveModel(this.clientValue, model));
    } catch (error) {
      await showErrorMessage('Cellflow: serving failed', describeError(error));
    }
  }

  async refreshEndpoints(): Promise<void> {
    try {
      this.panel.setEndpoints(await this.clientValue.listEndpoints());
    } catch {
      // The target section already says when the agent is unreachable.
    }
  }

  showGraph(): void {
    const analysis = this.current;
    if (analysis === null) return;
    const widget = new PipelineGraphWidget(analysis);
    const run = this.runs.latestFor(analysis.path);
    if (run !== undefined) widget.setStates(run.steps);
    this.graphs.add(widget);
    widget.disposed.connect(() => this.graphs.delete(widget));
    this.host.openTab(widget);
  }

  private showStudy(): void {
    const path = this.current?.path;
    this.panel.setStudy(path !== undefined ? this.studies.latestFor(path) : null);
  }

  async cancelCurrent(): Promise<void> {
    const path = this.current?.path;
    const run = path !== undefined ? this.runs.latestFor(path) : this.runs.all[0];
    if (run !== undefined) await this.cancelRun(run.id);
  }

  /** Cancels the live run `runId` (the panel's Cancel button on a run). */
  async cancelRun(runId: string): Promise<void> {
    const run = this.runs.all.find((r) => r.id === runId);
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
    this.showStudy();
  }

  private onRunChanged(): void {
    this.panel.setRuns(this.runs.all);
    for (const { analysis, decorations } of this.notebooks.values()) {
      const run = this.runs.latestFor(analysis.path);
      if (run !== undefined) decorations.setRunStates(run.steps);
    }
    for (const graph of this.graphs) {
      const run = this.runs.latestFor(graph.notebookPath);
      if (run !== undefined) graph.setStates(run.steps);
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
    for (const graph of [...this.graphs]) graph.dispose();
    this.disposables.dispose();
  }
}
