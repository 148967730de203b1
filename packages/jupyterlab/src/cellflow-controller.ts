/**
 * What the commands do: keeps an analysis and cell decorations for every open notebook, talks to
 * the agent, tracks runs, studies and endpoints, and feeds the panel. Commands, buttons and the
 * toolbar all land here; nothing here registers anything with JupyterLab.
 */
import {
  checkStepImagesForCluster,
  describeDiagnostic,
  describeLocation,
  hasErrors,
  withDefaultImage,
  type CompiledPipeline,
  type Diagnostic,
  type ParameterValue,
  type PipelineGraph,
  type PipelineParameter,
} from '@cellflow/core';
import { parseParameterText, type AgentInfo, type StudySummary } from '@cellflow/protocol';
import {
  describeSchedule,
  describeUpload,
  gpuChoicesOf,
  gpuFitOf,
  type AgentClient,
  type GpuChoice,
  type GpuFit,
} from '@cellflow/ui';
import type { Widget } from '@lumino/widgets';
import { Dialog, Notification, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import type { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { DisposableSet, type IDisposable } from '@lumino/disposable';
import { CellDecorations } from './cells/cell-decorations.js';
import { editCellTags } from './cells/tag-editor.js';
import { askDeployChoice, askDeployTarget, type DeployAnswer } from './deploy/deploy-dialog.js';
import { changeStepGpus } from './deploy/deploy-gpus.js';
import { NotebookAnalysis } from './notebook/notebook-analysis.js';
import type { CellflowPanel } from './panel/cellflow-panel.js';
import { PipelineGraphWidget } from './panel/pipeline-graph-widget.js';
import { PipelineRuns, type LiveRun } from './runs/pipeline-runs.js';
import { RunOutputs, type RunOfNotebook } from './runs/run-outputs.js';
import type { NotebookRendering } from './runs/run-outputs-view.js';
import {
  askRunWithoutGpus,
  isGpuRefusal,
  RunFeedback,
  type OpenNotebookView,
} from './runs/run-feedback.js';
import { modelToServe, serveModel } from './serving/notebook-endpoints.js';
import { NotebookStudies } from './tuning/notebook-studies.js';
import { editStudy } from './tuning/study-editor.js';

export interface CellflowConfig {
  agentUrl: string;
  concurrency: number;
  diagnosticsDelay: number;
  /** Local runs and studies run steps that ask for GPUs without them (the CLI's --cpu-only). */
  runWithoutGpus: boolean;
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
    .map(describeDiagnostic)
    .join('\n');
}

/** The parameter values typed in Deploy that differ from the defaults, typed by the parameters cell. */
function changedParameters(
  parameters: readonly PipelineParameter[],
  typed: Readonly<Record<string, string>>,
): Record<string, ParameterValue> {
  const values: Record<string, ParameterValue> = {};
  for (const p of parameters) {
    const text = typed[p.name];
    if (text === undefined) continue;
    const value = parseParameterText(p, text);
    if (JSON.stringify(value) !== JSON.stringify(p.default)) values[p.name] = value;
  }
  return values;
}

export interface CellflowHost {
  readonly tracker: INotebookTracker;
  readonly panel: CellflowPanel;
  readonly makeClient: (agentUrl: string) => AgentClient;
  /** Shows a widget in the main area (the graph tab). */
  readonly openTab: (widget: Widget) => void;
  /** Brings a widget already in the shell to the front (by id); false when there is none. */
  readonly activate: (id: string) => boolean;
  /** What JupyterLab draws notebooks and outputs with (a run's outputs use it). */
  readonly rendering: NotebookRendering;
}

export class CellflowController implements IDisposable {
  readonly runs: PipelineRuns;
  readonly studies: NotebookStudies;
  /** A run's outputs: its executed notebook in a tab, or under the notebook's cells. */
  readonly outputs: RunOutputs;
  readonly panel: CellflowPanel;
  private readonly tracker: INotebookTracker;
  private readonly makeClient: (agentUrl: string) => AgentClient;
  private readonly graphs = new Set<PipelineGraphWidget>();
  private info: AgentInfo | null = null;
  private readonly notebooks = new Map<NotebookPanel, OpenNotebook>();
  private readonly feedback: RunFeedback;
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
    this.studies.changed.connect(this.onStudyChanged, this);
    this.runs.changed.connect(this.onRunChanged, this);
    this.outputs = new RunOutputs({
      client: () => this.clientValue,
      rendering: host.rendering,
      openTab: host.openTab,
      activate: host.activate,
      latestRunOf: (path) => this.latestRunOf(path),
    });
    this.disposables.add(this.outputs);
    this.panel.setStepStates((path) => this.notebookOf(path)?.decorations.shownStates());
    this.feedback = new RunFeedback({
      runs: this.runs,
      client: () => this.clientValue,
      notebookOf: (path) => this.notebookOf(path),
      revealCell: (panel, index) => this.revealCell(panel, index),
      openTab: host.openTab,
      activate: host.activate,
    });
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

  /** The notebook in focus (or `analysis`) compiled, or undefined after telling the user why not. */
  private async compileCurrent(
    action: string,
    analysis = this.current,
  ): Promise<{ analysis: NotebookAnalysis; pipeline: CompiledPipeline } | undefined> {
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
    const submit = (cpuOnly: boolean): Promise<LiveRun> =>
      this.runs.submit(compiled.pipeline, compiled.analysis.path, {
        ...(this.config.concurrency > 0 ? { concurrency: this.config.concurrency } : {}),
        ...(cpuOnly ? { cpuOnly } : {}),
      });
    try {
      await submit(this.config.runWithoutGpus);
    } catch (error) {
      if (isGpuRefusal(error) && (await askRunWithoutGpus(describeError(error)))) {
        try {
          await submit(true);
        } catch (again) {
          await showErrorMessage('Cellflow: the run did not start', describeError(again));
        }
        return;
      }
      await showErrorMessage('Cellflow: the run did not start', describeError(error));
    }
  }

  /**
   * Deploy to a cluster, whatever the page runs on: a kubeconfig context the agent can reach and a
   * namespace (default: the agent's cluster target), the GPU steps checked against that cluster
   * (a step's request can be changed there: its `gpu:` tag is rewritten and Deploy asks again),
   * then run now (with parameters), upload as a new version, or schedule (uploads a new version
   * and runs it on the schedule). The same agent keeps running the page's local runs.
   */
  async deployCurrent(): Promise<void> {
    let compiled = await this.compileCurrent('Deploy');
    if (compiled === undefined) return;
    const cluster = await this.chooseCluster();
    if (cluster === undefined) return;
    const { client, info } = cluster;
    let previous: DeployAnswer | undefined;
    let graph: PipelineGraph;
    let answer: DeployAnswer;
    let gpus: GpuFit[];
    // Asked again after a step's GPU request changed, with the new request checked.
    for (;;) {
      // Steps left on the default image run in the notebook server's image when the agent has one.
      graph = withDefaultImage(compiled.pipeline.graph, info.defaultImage);
      const warnings = checkStepImagesForCluster(graph, compiled.pipeline.code).map(
        describeDiagnostic,
      );
      gpus = [];
      let gpuChoices: GpuChoice[] = [];
      if (graph.steps.some((s) => s.resources.gpu !== null)) {
        try {
          const capacity = await client.capacity();
          gpus = gpuFitOf(graph, capacity.pools, capacity.target);
          gpuChoices = gpuChoicesOf(capacity.pools);
        } catch (error) {
          await showErrorMessage("Cellflow: cannot read the cluster's GPUs", describeError(error));
          return;
        }
      }
      const given = await askDeployChoice({
        target: info.description,
        warnings,
        gpus,
        gpuChoices,
        parameters: graph.parameters,
        ...(previous !== undefined ? { previous } : {}),
      });
      if (given === undefined) return;
      answer = given;
      if (answer.gpuChanges.length === 0) break;
      const problem = changeStepGpus(compiled.analysis, graph, answer.gpuChanges);
      if (problem !== undefined)
        await showErrorMessage('Cellflow: the GPU request was not changed', problem);
      previous = { ...answer, gpuChanges: [] };
      compiled = await this.compileCurrent('Deploy', compiled.analysis);
      if (compiled === undefined) return;
    }
    const blocked = gpus.filter((g) => g.severity === 'error');
    if (blocked.length > 0) {
      await showErrorMessage(
        'Cellflow: the cluster cannot give these GPUs',
        `${blocked.map((g) => `${g.step.name}: ${g.message}`).join('\n')}\nOr choose another GPU request for the step in Deploy, or pick another cluster.`,
      );
      return;
    }
    let parameters: Record<string, ParameterValue>;
    try {
      parameters = changedParameters(graph.parameters, answer.parameters);
    } catch (error) {
      await showErrorMessage('Cellflow: a parameter does not fit', describeError(error));
      return;
    }
    const notebookPath = compiled.analysis.path;
    try {
      if (answer.choice === 'run') {
        const run = await this.runs.submit(compiled.pipeline, notebookPath, { parameters }, client);
        this.host.activate(this.panel.id);
        if (run.uiUrl !== undefined)
          this.notifyDeployed(`Submitted run ${run.id} to ${info.description}.`, run.uiUrl);
      } else if (answer.choice === 'upload') {
        const upload = await client.upload(compiled.pipeline, { notebookPath });
        this.notifyDeployed(describeUpload(upload), upload.uiUrl);
      } else {
        const schedule = await client.schedule(compiled.pipeline, {
          trigger: answer.trigger,
          upload: true,
          notebookPath,
          parameters,
        });
        this.notifyDeployed(describeSchedule(schedule), schedule.uiUrl);
      }
    } catch (error) {
      await showErrorMessage('Cellflow: deploy failed', describeError(error));
    }
  }

  /**
   * Asks for the cluster (a context of the agent's kubeconfig and a namespace) and connects to it
   * through the agent; undefined after saying why not, or when cancelled.
   */
  private async chooseCluster(): Promise<{ client: AgentClient; info: AgentInfo } | undefined> {
    let contexts;
    try {
      contexts = await this.clientValue.contexts();
    } catch (error) {
      await showErrorMessage('Cellflow: cannot list clusters', describeError(error));
      return undefined;
    }
    if (contexts.length === 0) {
      await showErrorMessage(
        'Cellflow: no cluster',
        'The Cellflow agent finds no kubeconfig context. Fix: set KUBECONFIG (or CellflowAgent.extra_args=["--kubeconfig", "<file>"]) for the Jupyter server to a kubeconfig with your cluster, then Deploy.',
      );
      return undefined;
    }
    const given = this.info?.defaultTarget;
    const where = await askDeployTarget(
      contexts,
      given?.kind === 'kubeflow'
        ? {
            ...(given.context !== undefined ? { context: given.context } : {}),
            ...(given.namespace !== undefined ? { namespace: given.namespace } : {}),
          }
        : {},
    );
    if (where === undefined) return undefined;
    const client = this.clientValue.withTarget({ kind: 'kubeflow', ...where });
    try {
      return { client, info: await client.info() };
    } catch (error) {
      await showErrorMessage(
        `Cellflow: cannot reach context ${where.context}`,
        describeError(error),
      );
      return undefined;
    }
  }

  private notifyDeployed(message: string, uiUrl: string): void {
    Notification.success(`Cellflow: ${message}`, {
      autoClose: false,
      actions: [{ label: 'Open in KFP UI', callback: () => window.open(uiUrl, '_blank') }],
    });
  }

  /**
   * Tune: the study opens in the editor for review first; once started, the panel's Tuning
   * section comes into view and fills as trials run.
   */
  async tuneCurrent(): Promise<void> {
    const compiled = await this.compileCurrent('Tune');
    if (compiled === undefined) return;
    const { analysis, pipeline } = compiled;
    const { study, diagnostics } = this.studies.studyFor(analysis, pipeline);
    if (study === null) {
      await showErrorMessage('Cellflow: cannot tune', describeDiagnostics(diagnostics));
      return;
    }
    const edited = await editStudy(study, pipeline.graph, this.info?.description ?? 'the target');
    if (edited === undefined) return;
    const start = (cpuOnly: boolean): Promise<void> =>
      this.studies.start(analysis, pipeline, edited, cpuOnly ? { cpuOnly } : {});
    try {
      try {
        await start(this.config.runWithoutGpus);
      } catch (error) {
        if (!isGpuRefusal(error) || !(await askRunWithoutGpus(describeError(error)))) throw error;
        await start(true);
      }
    } catch (error) {
      await showErrorMessage('Cellflow: the study did not start', describeError(error));
      return;
    }
    this.host.activate(this.panel.id);
    this.panel.revealTuning(
      `Starting ${edited.maxTrials} trials of ${pipeline.graph.pipeline.name} (${edited.parallelTrials} at once)…`,
    );
  }

  /** Writes the best trial's values into the parameters cell and shows the cell changed. */
  async applyBest(): Promise<void> {
    const analysis = this.current;
    const study = analysis !== null ? this.studies.latestFor(analysis.path) : null;
    if (analysis === null || study?.best === null || study === null) return;
    const best = study.best;
    const { diagnostics, cells } = this.studies.applyTrial(analysis, best);
    if (diagnostics.length > 0) {
      await showErrorMessage(
        'Cellflow: cannot apply the best values',
        describeDiagnostics(diagnostics),
      );
      return;
    }
    const first = cells[0];
    if (first === undefined) return;
    this.revealCell(analysis.panel, first);
    const values = Object.entries(best.parameters)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(', ');
    Notification.success(
      `Cellflow: trial ${best.index + 1}'s ${values} written to ${describeLocation(first, null)}`,
      { autoClose: 6000 },
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
    if (!graph.steps.some((s) => s.serve.length > 0)) {
      await this.offerServeTag(analysis);
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

  /**
   * Serve needs a `serve:VARIABLE` tag on the step that makes the model: says so, and opens the
   * tag editor of the last step (where the model usually is) at its Serve model field.
   */
  private async offerServeTag(analysis: NotebookAnalysis): Promise<void> {
    const steps = analysis.result.graph?.steps ?? [];
    const last = steps[steps.length - 1];
    const result = await showDialog({
      title: 'Cellflow: nothing to serve',
      body: `No step serves a model. Serve serves the variable a step tags serve:VARIABLE (e.g. serve:model on the step that trains it), from the latest succeeded run.${last !== undefined ? ` Add it to step ${last.name}, or to another step through its Edit tags.` : ''}`,
      buttons: [
        Dialog.cancelButton(),
        ...(last !== undefined
          ? [Dialog.okButton({ label: `Add serve tag to ${last.name}…` })]
          : []),
      ],
    });
    const index = last?.cells[0];
    if (!result.button.accept || index === undefined) return;
    this.revealCell(analysis.panel, index);
    const cell = analysis.panel.content.widgets[index];
    if (cell !== undefined)
      await editCellTags(
        cell,
        steps.map((s) => s.name),
        'serve',
      );
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
    const widget = new PipelineGraphWidget(analysis, (step) => this.revealStep(analysis, step));
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

  /** Opens a run's outputs beside the notebook: run `runId`, else the notebook's latest run. */
  async showRunOutputs(runId?: string): Promise<void> {
    const path = this.current?.path;
    const run =
      runId !== undefined
        ? this.runs.all.find((r) => r.id === runId)
        : path !== undefined
          ? await this.latestRunOf(path)
          : undefined;
    if (run === undefined) {
      await showErrorMessage(
        'Cellflow: no run yet',
        'Run the notebook first: its outputs come from a run.',
      );
      return;
    }
    await this.outputs.show(run);
  }

  /** Whether the notebook in focus shows its latest run's outputs under its cells. */
  get inlineOutputsShown(): boolean {
    const panel = this.tracker.currentWidget;
    return panel !== null && this.outputs.isInline(panel);
  }

  /** Shows (or, `on` false, hides) the latest run's outputs under the cells of the notebook in focus. */
  async setInlineOutputs(on = !this.inlineOutputsShown): Promise<void> {
    const panel = this.tracker.currentWidget;
    const path = this.current?.path;
    if (panel === null || path === undefined) return;
    await this.outputs.setInline(panel, path, on);
    this.panel.setInlineOutputs(this.inlineOutputsShown);
  }

  /** The newest run of a notebook: started from this page, else the newest the agent kept. */
  private async latestRunOf(path: string): Promise<RunOfNotebook | undefined> {
    const live = this.runs.latestFor(path);
    if (live !== undefined) return live;
    try {
      return (await this.clientValue.listRuns()).find(
        (r) =>
          r.notebookPath !== null &&
          (r.notebookPath === path || r.notebookPath.endsWith(`/${path}`)),
      );
    } catch {
      return undefined;
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
      const decorations = new CellDecorations(panel, analysis, {
        onEdit: (cell) => {
          panel.content.activeCellIndex = panel.content.widgets.indexOf(cell);
          const steps = analysis.result.graph?.steps.map((s) => s.name) ?? [];
          void editCellTags(cell, steps);
        },
        onShowFailure: (step) => void this.feedback.showFailure(analysis.path, step),
        onShowLog: (step) => this.feedback.showLog(analysis.path, step),
      });
      this.notebooks.set(panel, { analysis, decorations });
      analysis.changed.connect(() => this.outputs.cellsChanged(panel));
      decorations.setRun(this.runs.latestFor(analysis.path));
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
    this.panel.setInlineOutputs(this.inlineOutputsShown);
    this.showStudy();
  }

  private onRunChanged(_: PipelineRuns, changed: LiveRun): void {
    for (const { analysis, decorations } of this.notebooks.values()) {
      const run = this.runs.latestFor(analysis.path);
      if (run !== undefined) decorations.setRun(run);
    }
    // After the cells: the Steps section shows the states the cells show.
    this.panel.setRuns(this.runs.all);
    for (const graph of this.graphs) {
      const run = this.runs.latestFor(graph.notebookPath);
      if (run !== undefined) graph.setStates(run.steps);
    }
    this.feedback.announce(changed);
    if (changed.state === 'succeeded' || changed.state === 'failed') {
      const open = this.notebookOf(changed.notebookPath);
      if (open !== undefined) void this.outputs.runEnded(open.panel, changed);
    }
  }

  /** A study of a notebook has a trial that succeeded after its run failed: the marks go. */
  private onStudyChanged(_: NotebookStudies, study: StudySummary): void {
    const path = study.notebookPath;
    for (const { analysis, decorations } of this.notebooks.values()) {
      if (path === null || !path.endsWith(analysis.path)) continue;
      const run = this.runs.latestFor(analysis.path);
      const succeededSince = study.trials.some(
        (t) =>
          t.state === 'succeeded' &&
          t.finishedAt !== null &&
          (run === undefined || Date.parse(t.finishedAt) > run.startedAt),
      );
      if (succeededSince) decorations.clearFailures();
    }
    this.panel.setRuns(this.runs.all);
  }

  /** The open notebook a run came from, with its decorations. */
  private notebookOf(path: string): OpenNotebookView | undefined {
    for (const [panel, open] of this.notebooks)
      if (open.analysis.path === path) return { panel, ...open };
    return undefined;
  }

  /** Moves to a step's first cell in its notebook (a click on the graph). */
  private revealStep(analysis: NotebookAnalysis, step: string): void {
    const index = analysis.result.graph?.steps.find((s) => s.name === step)?.cells[0];
    if (index !== undefined) this.revealCell(analysis.panel, index);
  }

  /** Brings the notebook forward, makes cell `index` active and scrolls it into view. */
  private revealCell(panel: NotebookPanel, index: number): void {
    this.host.activate(panel.id);
    const notebook = panel.content;
    notebook.activeCellIndex = index;
    const cell = notebook.widgets[index];
    if (cell !== undefined) void notebook.scrollToCell(cell, 'center');
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
