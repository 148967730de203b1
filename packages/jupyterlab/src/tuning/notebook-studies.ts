/**
 * Tuning from the panel: the study in the notebook's metadata (`metadata.cellflow.tuning`, or
 * Kale's `katib_metadata`; a default study from the parameters and metrics otherwise) is started
 * through the agent and followed live; the best trial's values can be written into the
 * parameters cell of the open notebook.
 */
import {
  applyParameterValues,
  defaultStudyFor,
  hasErrors,
  readStudySpec,
  type CompiledPipeline,
  type Diagnostic,
  type StudySpec,
} from '@cellflow/core';
import type { StudyRef, StudySummary, TrialSummary, TuneOptions } from '@cellflow/protocol';
import { applyStudyEvent, type AgentClient } from '@cellflow/ui';
import type { IDisposable } from '@lumino/disposable';
import { Signal, type ISignal } from '@lumino/signaling';
import type { NotebookAnalysis } from '../notebook/notebook-analysis.js';

export class NotebookStudies implements IDisposable {
  private readonly changedSignal = new Signal<this, StudySummary>(this);
  private readonly studies = new Map<string, StudySummary>();
  private disposed = false;

  constructor(private readonly client: () => AgentClient) {}

  get changed(): ISignal<this, StudySummary> {
    return this.changedSignal;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** The latest study started from this page for a notebook. */
  latestFor(notebookPath: string): StudySummary | null {
    return this.studies.get(notebookPath) ?? null;
  }

  /**
   * The study Tune starts from: the notebook's (`metadata.cellflow.tuning`, Kale's
   * `katib_metadata`), else one around the parameters cell's defaults; or diagnostics saying why
   * there is none.
   */
  studyFor(
    analysis: NotebookAnalysis,
    pipeline: CompiledPipeline,
  ): { study: StudySpec | null; diagnostics: readonly Diagnostic[] } {
    const metadata = analysis.panel.content.model?.metadata ?? {};
    const read = readStudySpec(metadata, pipeline.graph);
    if (hasErrors(read.diagnostics)) return { study: null, diagnostics: read.diagnostics };
    const study = read.study ?? defaultStudyFor(pipeline.graph);
    if (study !== null) return { study, diagnostics: [] };
    return {
      study: null,
      diagnostics: [
        {
          severity: 'error',
          code: 'no-study',
          cell: null,
          line: null,
          message:
            'Nothing to tune: the notebook has no study in metadata.cellflow.tuning and no pipeline metric to maximize. Fix: add a pipeline-metrics cell, or a study to the notebook metadata.',
        },
      ],
    };
  }

  /** Starts `study` on the agent's target and follows it. */
  async start(
    analysis: NotebookAnalysis,
    pipeline: CompiledPipeline,
    study: StudySpec,
    options: Omit<TuneOptions, 'notebookPath'> = {},
  ): Promise<void> {
    const client = this.client();
    const ref = await client.tune(pipeline, study, { ...options, notebookPath: analysis.path });
    void this.follow(client, analysis.path, ref);
  }

  private async follow(client: AgentClient, notebookPath: string, ref: StudyRef): Promise<void> {
    let summary: StudySummary | null = null;
    try {
      for await (const event of client.watchStudy(ref)) {
        if (this.disposed) return;
        summary = applyStudyEvent(summary, event);
        if (summary === null) continue;
        this.studies.set(notebookPath, summary);
        this.changedSignal.emit(summary);
      }
    } catch {
      // The stream ended early; the last summary stays shown.
    }
  }

  /**
   * Writes a trial's values into the parameters cell of the open notebook (one edit per value,
   * only the value's text changes). Returns the cells changed, or diagnostics when a value
   * cannot be written.
   */
  applyTrial(
    analysis: NotebookAnalysis,
    trial: TrialSummary,
  ): { diagnostics: readonly Diagnostic[]; cells: readonly number[] } {
    const graph = analysis.result.graph;
    if (graph === undefined) return { diagnostics: [], cells: [] };
    const result = applyParameterValues(analysis.notebookJson(), graph, trial.parameters);
    if (hasErrors(result.diagnostics)) return { diagnostics: result.diagnostics, cells: [] };
    const cells = analysis.panel.content.model?.cells;
    for (const change of result.changes) {
      const cell = cells?.get(change.cell);
      if (cell === undefined) continue;
      const lines = cell.sharedModel.getSource().split('\n');
      const line = lines[change.line - 1];
      if (line === undefined) continue;
      lines[change.line - 1] = line.replace(change.before, change.after);
      cell.sharedModel.setSource(lines.join('\n'));
    }
    return { diagnostics: [], cells: [...new Set(result.changes.map((c) => c.cell))] };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    Signal.clearData(this);
  }
}
