/**
 * A run's results as a notebook, in JupyterLab: **Show outputs** on a run opens its executed
 * notebook read-only beside the notebook, and the "Outputs on cells" toggle shows the notebook's
 * latest run's outputs under its cells. Both read the executed notebook from the agent
 * (`executedNotebook`, from the run's target: this machine or a cluster); neither writes anything
 * into the user's notebook.
 */
import type { NotebookFile } from '@cellflow/core';
import type { AgentClient } from '@cellflow/ui';
import { showErrorMessage } from '@jupyterlab/apputils';
import type { NotebookPanel } from '@jupyterlab/notebook';
import type { IDisposable } from '@lumino/disposable';
import type { Widget } from '@lumino/widgets';
import { InlineRunOutputs } from '../cells/inline-run-outputs.js';
import {
  createRunOutputsView,
  runOutputsTabId,
  type NotebookRendering,
} from './run-outputs-view.js';

/** A run, as the outputs need it. */
export interface RunOfNotebook {
  readonly id: string;
  readonly pipeline: string;
  /** The client of the run's target (a cluster's for a deployed run); else the page's agent's. */
  readonly backend?: AgentClient;
}

export interface RunOutputsHost {
  readonly client: () => AgentClient;
  readonly rendering: NotebookRendering;
  readonly openTab: (widget: Widget) => void;
  readonly activate: (id: string) => boolean;
  /** The newest run of the notebook at `path` (this page's, else the agent's history). */
  readonly latestRunOf: (path: string) => Promise<RunOfNotebook | undefined>;
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class RunOutputs implements IDisposable {
  private readonly inline = new Map<NotebookPanel, InlineRunOutputs>();
  private disposed = false;

  constructor(private readonly host: RunOutputsHost) {}

  get isDisposed(): boolean {
    return this.disposed;
  }

  private async executedNotebook(run: RunOfNotebook): Promise<NotebookFile | undefined> {
    try {
      return await (run.backend ?? this.host.client()).executedNotebook(run);
    } catch (error) {
      await showErrorMessage(
        'Cellflow: no outputs to show',
        `The outputs of run ${run.id} cannot be shown: ${describeError(error)}`,
      );
      return undefined;
    }
  }

  /** Opens the run's executed notebook beside the notebook, read-only (its tab, if open). */
  async show(run: RunOfNotebook): Promise<void> {
    if (this.host.activate(runOutputsTabId(run.id))) return;
    const executed = await this.executedNotebook(run);
    if (executed === undefined || this.disposed) return;
    this.host.openTab(createRunOutputsView(this.host.rendering, executed, run));
  }

  /** Whether the notebook's cells show a run's outputs. */
  isInline(panel: NotebookPanel): boolean {
    return this.inline.get(panel)?.shown !== undefined;
  }

  /** Turns the notebook's outputs on its cells on (its latest run's) or off. */
  async setInline(panel: NotebookPanel, path: string, on: boolean): Promise<void> {
    if (!on) {
      this.inline.get(panel)?.show(undefined);
      return;
    }
    const run = await this.host.latestRunOf(path);
    if (run === undefined) {
      await showErrorMessage(
        'Cellflow: no run yet',
        'This notebook has no run whose outputs its cells could show. Fix: Run it first.',
      );
      return;
    }
    const executed = await this.executedNotebook(run);
    if (executed === undefined || this.disposed || panel.isDisposed) return;
    this.inlineOf(panel).show({ runId: run.id, executed });
  }

  /** A run of the notebook ended: cells showing outputs show this run's. */
  async runEnded(panel: NotebookPanel, run: RunOfNotebook): Promise<void> {
    const inline = this.inline.get(panel);
    if (inline?.shown === undefined || inline.shown.runId === run.id) return;
    const executed = await (run.backend ?? this.host.client())
      .executedNotebook(run)
      .catch(() => undefined);
    if (executed !== undefined && inline.shown !== undefined)
      inline.show({ runId: run.id, executed });
  }

  /** The notebook's cells changed: each cell shows outputs only while its code is the code that ran. */
  cellsChanged(panel: NotebookPanel): void {
    this.inline.get(panel)?.update();
  }

  private inlineOf(panel: NotebookPanel): InlineRunOutputs {
    let inline = this.inline.get(panel);
    if (inline === undefined) {
      inline = new InlineRunOutputs(panel, this.host.rendering.rendermime);
      this.inline.set(panel, inline);
      panel.disposed.connect(() => {
        this.inline.get(panel)?.dispose();
        this.inline.delete(panel);
      });
    }
    return inline;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const inline of this.inline.values()) inline.dispose();
    this.inline.clear();
  }
}
