/**
 * The run details webview: a run's steps with state, duration, attempts and metrics, its
 * parameters and metrics, a cluster run's saved outputs (URI, type), and where a failed step
 * failed (click reveals the cell). Live for runs
 * of this window; from history (or the cluster) otherwise.
 */
import * as vscode from 'vscode';
import type { RunSummary } from '@cellflow/backend';
import type { HostToRunDetailsMessage, RunDetails, RunDetailsToHostMessage } from '@cellflow/ui';
import { CommandIds } from '../command-ids.js';
import { revealCell } from '../notebook/notebook-cells.js';
import type { RunTarget, RunTracker, TrackedRun } from '../runs/run-tracker.js';
import { ViewPanel } from './view-panel.js';

export function runDetailsOfTracked(
  run: TrackedRun,
  parameters: Readonly<Record<string, unknown>> = {},
): RunDetails {
  return {
    id: run.ref.id,
    pipeline: run.pipeline,
    target: run.target,
    state: run.state,
    startedAt: run.startedAt,
    durationMs: run.durationMs,
    parameters,
    metrics: run.metrics,
    ...(run.reason !== undefined ? { reason: run.reason } : {}),
    steps: [...run.steps.values()].map((s) => ({
      name: s.name,
      state: s.state,
      attempts: s.attempt,
      startedAt: s.startedAt,
      durationMs: s.durationMs,
      metrics: s.metrics ?? {},
      ...(s.cachedFrom !== undefined ? { cachedFrom: s.cachedFrom } : {}),
      ...(s.failure !== undefined ? { failure: s.failure } : {}),
      ...(s.outputs !== undefined ? { outputs: s.outputs } : {}),
    })),
  };
}

export function runDetailsOfSummary(run: RunSummary, target: RunTarget): RunDetails {
  return {
    id: run.id,
    pipeline: run.pipeline,
    target,
    state: run.state,
    startedAt: run.startedAt,
    durationMs: run.durationMs,
    parameters: run.parameters,
    metrics: run.metrics,
    ...(run.reason !== undefined ? { reason: run.reason } : {}),
    steps: run.steps.map((s) => ({
      name: s.name,
      state: s.state,
      attempts: s.attempts,
      startedAt: s.startedAt,
      durationMs: s.durationMs,
      metrics: s.metrics ?? {},
      ...(s.cachedFrom !== undefined ? { cachedFrom: s.cachedFrom } : {}),
      ...(s.failure !== undefined ? { failure: s.failure } : {}),
      ...(s.outputs !== undefined ? { outputs: s.outputs } : {}),
    })),
  };
}

export class RunDetailsPanels implements vscode.Disposable {
  private panel: ViewPanel<HostToRunDetailsMessage, RunDetailsToHostMessage> | undefined;
  /** What the panel shows (for tests). */
  details: RunDetails | undefined;
  private notebook: string | undefined;
  private workspace: string | undefined;
  private readonly subscription: { dispose(): void };

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly tracker: RunTracker,
  ) {
    this.subscription = tracker.onDidChange((run) => {
      if (run.ref.id !== this.details?.id) return;
      this.details = runDetailsOfTracked(run, this.details.parameters);
      this.panel?.post({ type: 'run', run: this.details });
    });
  }

  show(details: RunDetails, notebook?: string, workspace?: string): void {
    this.details = details;
    this.notebook = notebook;
    this.workspace = workspace;
    const title = `Run ${details.id.slice(0, 16)}`;
    if (this.panel === undefined) {
      this.panel = new ViewPanel(this.extensionUri, 'cellflow.runDetails', title, {
        onReady: () => {
          if (this.details !== undefined) this.panel?.post({ type: 'run', run: this.details });
        },
        onMessage: (m) => void this.receive(m),
        onClose: () => (this.panel = undefined),
      });
    } else {
      this.panel.title = title;
      this.panel.reveal();
      this.panel.post({ type: 'run', run: details });
    }
  }

  private async receive(m: Exclude<RunDetailsToHostMessage, { type: 'ready' }>): Promise<void> {
    const run = this.details;
    if (run === undefined) return;
    if (m.type === 'showLogs') {
      await vscode.commands.executeCommand(CommandIds.showStepLogs, {
        runId: run.id,
        pipeline: run.pipeline,
        step: m.step,
        target: run.target,
        workspace: this.workspace,
      });
      return;
    }
    const failure = run.steps.find((s) => s.name === m.step)?.failure;
    if (failure?.cell == null || this.notebook === undefined) return;
    await revealCell({ notebook: this.notebook, cell: failure.cell });
  }

  /** Whether the open panel's script loaded (under its CSP) and asked for data. */
  get viewReady(): boolean {
    return this.panel?.ready === true;
  }

  dispose(): void {
    this.subscription.dispose();
    this.panel?.dispose();
  }
}
