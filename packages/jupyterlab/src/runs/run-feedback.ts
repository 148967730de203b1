/**
 * What a person is told about runs: the end of each run in a notification (with the way to the
 * failing cell, the step's log and, for cluster runs, the run in the KFP UI), the failed chip's
 * details, the step log tab, and the refusal of a run asking for GPUs the target lacks.
 */
import { renderStepFailure, stepFailureView, type AgentClient } from '@cellflow/ui';
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { Widget } from '@lumino/widgets';
import type { CellDecorations } from '../cells/cell-decorations.js';
import type { NotebookAnalysis } from '../notebook/notebook-analysis.js';
import type { LiveRun, PipelineRuns } from './pipeline-runs.js';
import { StepLogWidget, stepLogWidgetId } from './step-log-widget.js';

/** The agent refused a run because the target lacks the GPUs its steps ask for. */
export function isGpuRefusal(error: unknown): boolean {
  return error instanceof Error && (error as Error & { code?: unknown }).code === 'gpu-unavailable';
}

/**
 * The target lacks the GPUs steps ask for: the refusal, with a button that runs those steps
 * without GPUs this time (the "Run without GPUs" setting does it every time). True to run so.
 */
export async function askRunWithoutGpus(refusal: string): Promise<boolean> {
  const body = document.createElement('div');
  body.className = 'cf-gpu-refusal';
  const reason = document.createElement('p');
  reason.textContent = refusal;
  const hint = document.createElement('p');
  hint.className = 'cf-muted';
  hint.textContent =
    'Run without GPUs runs those steps here on the CPU; they see no GPU. The Cellflow setting "Run without GPUs" does this for every local run and study; the GPU tags stay for the cluster.';
  body.append(reason, hint);
  const result = await showDialog({
    title: 'Cellflow: not enough GPUs here',
    body: new Widget({ node: body }),
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Run without GPUs' })],
  });
  return result.button.accept;
}

/** An open notebook as the feedback needs it. */
export interface OpenNotebookView {
  readonly panel: NotebookPanel;
  readonly analysis: NotebookAnalysis;
  readonly decorations: CellDecorations;
}

export interface RunFeedbackHost {
  readonly runs: PipelineRuns;
  readonly client: () => AgentClient;
  /** The open notebook at `path` (server-relative), if any. */
  readonly notebookOf: (path: string) => OpenNotebookView | undefined;
  /** Brings the notebook forward and moves to cell `index`. */
  readonly revealCell: (panel: NotebookPanel, index: number) => void;
  readonly openTab: (widget: Widget) => void;
  readonly activate: (id: string) => boolean;
}

export class RunFeedback {
  /** Runs whose end was announced. */
  private readonly announced = new Set<string>();

  constructor(private readonly host: RunFeedbackHost) {}

  /** Once a run has ended: how it went, with the way to the failing cell and the step's log. */
  announce(run: LiveRun): void {
    if (this.announced.has(run.id)) return;
    if (run.state === 'succeeded') {
      this.announced.add(run.id);
      const metrics = Object.entries(run.metrics)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      Notification.success(
        `Cellflow: run of ${run.pipeline} succeeded${metrics !== '' ? `. ${metrics}` : ''}`,
        { autoClose: 6000, actions: this.kfpLink(run) },
      );
      return;
    }
    if (run.state !== 'failed') return;
    this.announced.add(run.id);
    const failed = [...run.steps].find(
      ([name, state]) => state === 'failed' && run.failures.has(name),
    );
    const failure = failed !== undefined ? run.failures.get(failed[0]) : undefined;
    if (failed === undefined || failure === undefined) {
      Notification.error(
        `Cellflow: run of ${run.pipeline} failed${run.message !== undefined ? `: ${run.message}` : ''}`,
        { autoClose: false, actions: this.kfpLink(run) },
      );
      return;
    }
    const step = failed[0];
    const view = stepFailureView(step, failure);
    Notification.error(
      `Cellflow: run of ${run.pipeline} failed at step ${step}${view.where !== '' ? ` (${view.where})` : ''}: ${view.headline}`,
      {
        autoClose: false,
        actions: [
          {
            label: 'Show failing cell',
            caption: 'Move to the cell that failed, where the traceback is',
            callback: () => this.revealFailure(run.notebookPath, step),
          },
          {
            label: 'Show log',
            caption: `Open step ${step}'s log`,
            callback: () => this.showLog(run.notebookPath, step),
          },
          ...this.kfpLink(run),
        ],
      },
    );
  }

  /** A cluster run's page in the KFP UI, as a notification action. */
  private kfpLink(run: LiveRun): Notification.IAction[] {
    const url = run.uiUrl;
    return url !== undefined
      ? [{ label: 'Open in KFP UI', callback: () => window.open(url, '_blank') }]
      : [];
  }

  /** Moves to the cell where `step` failed in the run shown on the notebook at `path`. */
  revealFailure(path: string, step: string): void {
    const open = this.host.notebookOf(path);
    if (open === undefined) return;
    const failure =
      open.decorations.failureOf(step) ?? this.host.runs.latestFor(path)?.failures.get(step);
    const cells = open.analysis.result.graph?.steps.find((s) => s.name === step)?.cells ?? [];
    const index = failure?.cell ?? cells[0];
    if (index !== undefined) this.host.revealCell(open.panel, index);
  }

  /** A step's log (of the notebook's latest run) in a tab; an open tab is brought forward. */
  showLog(path: string, step: string): void {
    const run = this.host.runs.latestFor(path);
    if (run === undefined) return;
    const ref = { id: run.id };
    if (this.host.activate(stepLogWidgetId(ref, step))) return;
    this.host.openTab(new StepLogWidget(run.backend, ref, step));
  }

  /** The failed chip: why the step failed, with the failing cell and the log one click away. */
  async showFailure(path: string, step: string): Promise<void> {
    const open = this.host.notebookOf(path);
    const failure = open?.decorations.failureOf(step);
    if (open === undefined || failure === undefined) return;
    const cell = failure.cell !== null ? open.panel.content.widgets[failure.cell] : undefined;
    const body = document.createElement('div');
    body.className = 'cf-failure-details';
    renderStepFailure(body, stepFailureView(step, failure, cell?.model.sharedModel.getSource()));
    const result = await showDialog({
      title: `Step ${step} failed`,
      body: new Widget({ node: body }),
      buttons: [
        Dialog.cancelButton({ label: 'Close' }),
        Dialog.createButton({ label: 'Show log' }),
        Dialog.okButton({ label: 'Show failing cell' }),
      ],
    });
    if (result.button.accept) this.revealFailure(path, step);
    else if (result.button.label === 'Show log') this.showLog(path, step);
  }
}
