/**
 * Runs a notebook's pipeline on a target (this machine, or a cluster): feeds the run tracker (cell
 * status, Runs view), streams step logs to the "Cellflow" output channel, and points at the
 * failing line. Callers never branch on the target: they hand over a `Backend`.
 */
import * as vscode from 'vscode';
import {
  compile,
  describeLocation,
  formatMetricValue,
  type CompiledPipeline,
} from '@cellflow/core';
import type { Backend, RunEvent, RunOptions, RunRef } from '@cellflow/backend';
import type { Config } from '../config.js';
import type { NotebookAnalysis } from '../notebook/notebook-analysis.js';
import { findNotebook, revealCell, toCoreNotebook } from '../notebook/notebook-cells.js';
import type { BackendLoader } from './backend-loader.js';
import { formatDuration } from './format-run-state.js';
import { openLogTerminal, type LogTerminal } from './log-terminal.js';
import type { RunTarget, RunTracker, TrackedRun } from './run-tracker.js';

/** Where a run goes: a backend and how to name it. */
export interface TargetBackend {
  readonly backend: Backend;
  readonly target: RunTarget;
  /** For messages: "this machine", "cluster context `admin` (namespace kubeflow)". */
  readonly label: string;
}

/** The refusal's button that runs again with the GPU steps on CPUs (`--cpu-only`). */
export const RUN_WITHOUT_GPUS = 'Run without GPUs';

/** The failure marks of one step on one notebook's cells. */
interface FailureMark {
  readonly step: string;
  /** The failing cell (the diagnostic's); the step's own cells are the tracker's. */
  readonly cell: number;
}

export class PipelineRunner implements vscode.Disposable {
  readonly output = vscode.window.createOutputChannel('Cellflow');
  private readonly failures = vscode.languages.createDiagnosticCollection('cellflow-run');
  private readonly finished = new Map<string, Promise<TrackedRun>>();
  /** Failure marks shown, per notebook URI. */
  private readonly marks = new Map<string, FailureMark[]>();
  private readonly subscriptions: vscode.Disposable[] = [];
  /** The last log terminal opened (for tests). */
  lastLogTerminal: LogTerminal | undefined;

  constructor(
    private readonly backends: BackendLoader,
    private readonly analysis: NotebookAnalysis,
    private readonly tracker: RunTracker,
    private readonly config: Config,
  ) {
    // A failure stops being shown once the code it was about changes.
    this.subscriptions.push(
      vscode.workspace.onDidChangeNotebookDocument((e) => {
        const changed = e.cellChanges.filter((c) => c.document !== undefined).map((c) => c.cell);
        if (changed.length > 0) this.forgetFailuresOf(e.notebook, changed);
      }),
    );
  }

  /** The workspace folder holding the notebook (its `.cellflow/` keeps history), else its folder. */
  static workspaceOf(uri: vscode.Uri): string {
    return (
      vscode.workspace.getWorkspaceFolder(uri)?.uri.fsPath ?? vscode.Uri.joinPath(uri, '..').fsPath
    );
  }

  /** The compiled pipeline, or undefined after telling the user what is wrong. */
  async compile(doc: vscode.NotebookDocument): Promise<CompiledPipeline | undefined> {
    const result = compile(toCoreNotebook(doc), this.analysis.compileOptions(doc));
    if (result.pipeline !== undefined) return result.pipeline;
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    const first = errors[0];
    const choice = await vscode.window.showErrorMessage(
      `Cellflow: the notebook has ${errors.length} error(s)${first !== undefined ? `; ${describeLocation(first.cell, first.line)}: ${first.message}` : ''}`,
      'Show Problems',
    );
    if (choice !== undefined)
      await vscode.commands.executeCommand('workbench.actions.view.problems');
    return undefined;
  }

  /**
   * Runs on this machine; resolves once the run started (or was refused: then undefined). Steps
   * that ask for GPUs this machine lacks run without them when `cellflow.run.withoutGpus` is on;
   * otherwise the refusal offers **Run without GPUs**, which starts the run that way.
   */
  async run(doc: vscode.NotebookDocument, opts: RunOptions = {}): Promise<TrackedRun | undefined> {
    const pipeline = await this.compile(doc);
    if (pipeline === undefined) return undefined;
    const backend = await this.backends.local(PipelineRunner.workspaceOf(doc.uri));
    const to: TargetBackend = { backend, target: 'local', label: 'this machine' };
    const given = { ...(this.config.runWithoutGpus ? { cpuOnly: true } : {}), ...opts };
    const started = await this.start(doc, pipeline, to, given, { quiet: ['gpu-unavailable'] });
    if (started !== 'gpu-unavailable') return started;
    return this.start(doc, pipeline, to, { ...given, cpuOnly: true });
  }

  /** Says why the run was refused; resolves true when the person chose Run without GPUs. */
  private async offerWithoutGpus(message: string): Promise<boolean> {
    const choice = await vscode.window.showErrorMessage(
      `Cellflow: ${message}`,
      RUN_WITHOUT_GPUS,
      'Always Run without GPUs',
    );
    if (choice === 'Always Run without GPUs') await this.config.setRunWithoutGpus(true);
    return choice !== undefined;
  }

  /** Submits a compiled pipeline to a target and follows it. */
  async start(
    doc: vscode.NotebookDocument,
    pipeline: CompiledPipeline,
    to: TargetBackend,
    opts?: RunOptions,
  ): Promise<TrackedRun | undefined>;
  /** With `refusals`: a refusal whose code is listed is offered its way out instead of reported. */
  async start(
    doc: vscode.NotebookDocument,
    pipeline: CompiledPipeline,
    to: TargetBackend,
    opts: RunOptions,
    refusals: { readonly quiet: readonly 'gpu-unavailable'[] },
  ): Promise<TrackedRun | 'gpu-unavailable' | undefined>;
  async start(
    doc: vscode.NotebookDocument,
    pipeline: CompiledPipeline,
    to: TargetBackend,
    opts: RunOptions = {},
    refusals?: { readonly quiet: readonly 'gpu-unavailable'[] },
  ): Promise<TrackedRun | 'gpu-unavailable' | undefined> {
    let ref: RunRef;
    try {
      ref = await to.backend.submit(pipeline, { notebookPath: doc.uri.fsPath, ...opts });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (
        refusals?.quiet.includes('gpu-unavailable') === true &&
        this.backends.isBackendError(error) &&
        error.code === 'gpu-unavailable'
      )
        return (await this.offerWithoutGpus(message)) ? 'gpu-unavailable' : undefined;
      void vscode.window.showErrorMessage(`Cellflow: ${message}`);
      return undefined;
    }
    this.clearFailures(doc);
    const steps = pipeline.graph.steps.map((s) => ({ name: s.name, cells: s.cells }));
    const pipelineName = pipeline.graph.pipeline.name;
    const run = this.tracker.start(
      { id: ref.id, pipeline: pipelineName },
      doc.uri.toString(),
      steps,
      to.target,
      to.backend,
    );
    this.output.appendLine(
      `Run ${ref.id} on ${to.label}: ${steps.length} steps of ${pipelineName}`,
    );
    this.finished.set(ref.id, this.follow(to.backend, run, doc));
    return run;
  }

  /** Resolves when the run has ended (for the progress notification and tests). */
  whenFinished(runId: string): Promise<TrackedRun> | undefined {
    return this.finished.get(runId);
  }

  /** The backend a run of this window went to (the tracked run carries it). */
  backendFor(runId: string): Backend | undefined {
    return this.tracker.get(runId)?.backend;
  }

  async cancel(runId: string): Promise<void> {
    const run = this.tracker.get(runId);
    if (run?.backend !== undefined) await run.backend.cancel(run.ref);
  }

  /**
   * A step's log in a terminal: lines so far, then live ones. `backend` finds runs of other
   * windows or sessions (history, cluster runs).
   */
  showLogs(ref: RunRef, step: string, backend?: Backend): LogTerminal | undefined {
    const source = backend ?? this.backendFor(ref.id);
    if (source === undefined) return undefined;
    this.lastLogTerminal = openLogTerminal(source, ref, step);
    return this.lastLogTerminal;
  }

  private async follow(
    backend: Backend,
    run: TrackedRun,
    doc: vscode.NotebookDocument,
  ): Promise<TrackedRun> {
    const logging: Promise<void>[] = [];
    try {
      for await (const event of backend.watch(run.ref)) {
        this.tracker.apply(event);
        this.report(event);
        if (event.type === 'step' && event.state === 'running' && event.attempt <= 1)
          logging.push(this.streamLogs(backend, run.ref, event.step));
        if (
          event.type === 'step' &&
          event.state === 'failed' &&
          event.failure !== undefined &&
          !event.retrying
        )
          this.showFailure(doc, event.step, event.failure);
        if (event.type === 'step' && event.state === 'succeeded')
          this.forgetFailures(doc.uri.toString(), (mark) => mark.step === event.step);
      }
    } catch (error) {
      this.output.appendLine(
        `Lost track of run ${run.ref.id}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    await Promise.allSettled(logging);
    void this.announce(run, doc);
    return run;
  }

  private async streamLogs(backend: Backend, ref: RunRef, step: string): Promise<void> {
    for await (const line of backend.logs(ref, step)) this.output.appendLine(`[${step}] ${line}`);
  }

  private report(event: RunEvent): void {
    const duration = event.durationMs !== null ? ` in ${formatDuration(event.durationMs)}` : '';
    if (event.type === 'step') this.output.appendLine(`${event.step}: ${event.state}${duration}`);
    else if (event.finishedAt !== null)
      this.output.appendLine(
        `Run ${event.state}${duration}${event.reason !== undefined ? `: ${event.reason}` : ''}`,
      );
  }

  private showFailure(
    doc: vscode.NotebookDocument,
    step: string,
    failure: { message: string; cell: number | null; line: number | null },
  ): void {
    this.output.appendLine(failure.message);
    if (failure.cell === null || failure.cell >= doc.cellCount) return;
    const cellDoc = doc.cellAt(failure.cell).document;
    const line = Math.min(Math.max((failure.line ?? 1) - 1, 0), cellDoc.lineCount - 1);
    const d = new vscode.Diagnostic(
      cellDoc.lineAt(line).range,
      failure.message.startsWith(`Step \`${step}\` failed`)
        ? failure.message
        : `Step ${step} failed: ${failure.message}`,
    );
    d.source = 'cellflow run';
    this.failures.set(cellDoc.uri, [d]);
    const key = doc.uri.toString();
    this.marks.set(key, [...(this.marks.get(key) ?? []), { step, cell: failure.cell }]);
  }

  private clearFailures(doc: vscode.NotebookDocument): void {
    for (const cell of doc.getCells()) this.failures.delete(cell.document.uri);
    this.marks.delete(doc.uri.toString());
  }

  /** Edited cells: failures of the steps they belong to (or that failed in them) go. */
  private forgetFailuresOf(
    doc: vscode.NotebookDocument,
    cells: readonly vscode.NotebookCell[],
  ): void {
    const indexes = new Set(cells.map((c) => c.index));
    const notebook = doc.uri.toString();
    const marked = new Set(
      (this.marks.get(notebook) ?? []).filter((m) => indexes.has(m.cell)).map((m) => m.step),
    );
    const steps = this.tracker.dismissFailures(
      notebook,
      (s) => marked.has(s.name) || s.cells.some((c) => indexes.has(c)),
    );
    this.forgetFailures(notebook, (mark) => steps.includes(mark.step) || indexes.has(mark.cell));
  }

  /**
   * Removes failure marks that no longer apply (all of them without `which`): the squiggle and its
   * Problems entry, and the cells' "failed" state.
   */
  forgetFailures(notebook: string, which?: (mark: FailureMark) => boolean): void {
    const doc = findNotebook(notebook);
    const marks = this.marks.get(notebook) ?? [];
    const gone = which === undefined ? marks : marks.filter(which);
    if (which === undefined) this.tracker.dismissFailures(notebook);
    else {
      const steps = new Set(gone.map((m) => m.step));
      this.tracker.dismissFailures(notebook, (s) => steps.has(s.name));
    }
    this.marks.set(
      notebook,
      marks.filter((m) => !gone.includes(m)),
    );
    if (doc === undefined) return;
    for (const mark of gone)
      if (mark.cell < doc.cellCount) this.failures.delete(doc.cellAt(mark.cell).document.uri);
  }

  private async announce(run: TrackedRun, doc: vscode.NotebookDocument): Promise<void> {
    const took = run.durationMs !== null ? ` in ${formatDuration(run.durationMs)}` : '';
    if (run.state === 'succeeded') {
      const metrics = Object.entries(run.metrics)
        .map(([k, v]) => `${k} ${formatMetricValue(v)}`)
        .join(', ');
      void vscode.window.showInformationMessage(
        `Cellflow: run succeeded${took}${metrics !== '' ? `. ${metrics}` : ''}`,
      );
      return;
    }
    const failed = [...run.steps.values()].find(
      (s) => s.state === 'failed' && s.failure !== undefined,
    );
    const actions =
      failed?.failure?.cell != null ? ['Show Failing Cell', 'Show Logs'] : ['Show Logs'];
    const choice = await vscode.window.showErrorMessage(
      `Cellflow: run ${run.state}${took}${failed !== undefined ? ` at step ${failed.name}` : run.reason !== undefined ? `: ${run.reason}` : ''}`,
      ...actions,
    );
    if (choice === 'Show Failing Cell' && failed?.failure?.cell != null)
      await revealCell({ notebook: doc.uri.toString(), cell: failed.failure.cell });
    if (choice === 'Show Logs') this.output.show();
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.output.dispose();
    this.failures.dispose();
    for (const run of this.tracker.active())
      if (run.target === 'local') void this.cancel(run.ref.id);
  }
}
