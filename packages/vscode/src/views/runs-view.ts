/**
 * The Runs view: runs started in this window (live) and past runs from each workspace folder's
 * history, each with its steps' state, duration and metrics.
 */
import * as vscode from 'vscode';
import type { RunRef, RunState, StepState } from '@cellflow/backend';
import { CommandIds } from '../command-ids.js';
import type { BackendLoader } from '../runs/backend-loader.js';
import { formatStateText, stateCodicon } from '../runs/format-run-state.js';
import type { RunTracker } from '../runs/run-tracker.js';

/** Plain data behind the tree (also what tests read). */
export interface RunsViewStep {
  readonly name: string;
  readonly state: StepState;
  readonly durationMs: number | null;
  readonly startedAt: string | null;
  readonly metrics: Readonly<Record<string, number | string>>;
}

export interface RunsViewRun {
  readonly ref: RunRef;
  readonly state: RunState;
  readonly durationMs: number | null;
  readonly startedAt: string | null;
  readonly live: boolean;
  readonly workspace?: string;
  readonly metrics: Readonly<Record<string, number | string>>;
  readonly steps: readonly RunsViewStep[];
}

type Node =
  { readonly run: RunsViewRun } | { readonly run: RunsViewRun; readonly step: RunsViewStep };

const HISTORY_LIMIT = 20;

export class RunsView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscription: { dispose(): void };

  constructor(
    private readonly tracker: RunTracker,
    private readonly backends: BackendLoader,
  ) {
    this.subscription = tracker.onDidChange(() => this.changed.fire(undefined));
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  /** Live runs first, then history not already shown. */
  async model(): Promise<RunsViewRun[]> {
    const live: RunsViewRun[] = this.tracker.runs().map((r) => ({
      ref: r.ref,
      state: r.state,
      durationMs: r.durationMs,
      startedAt: r.startedAt,
      live: true,
      metrics: r.metrics,
      steps: [...r.steps.values()].map((s) => ({
        name: s.name,
        state: s.state,
        durationMs: s.durationMs,
        startedAt: s.startedAt,
        metrics: s.metrics ?? {},
      })),
    }));
    const seen = new Set(live.map((r) => r.ref.id));
    const past: RunsViewRun[] = [];
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      const backend = await this.backends.local(folder.uri.fsPath);
      for (const r of await backend.listRuns({ limit: HISTORY_LIMIT })) {
        if (seen.has(r.id)) continue;
        past.push({
          ref: { id: r.id, pipeline: r.pipeline },
          state: r.state,
          durationMs: r.durationMs,
          startedAt: r.startedAt,
          live: false,
          workspace: folder.uri.fsPath,
          metrics: r.metrics,
          steps: r.steps.map((s) => ({ ...s, metrics: s.metrics ?? {} })),
        });
      }
    }
    return [...live, ...past];
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (node === undefined) return (await this.model()).map((run) => ({ run }));
    if ('step' in node) return [];
    return node.run.steps.map((step) => ({ run: node.run, step }));
  }

  getTreeItem(node: Node): vscode.TreeItem {
    const now = Date.now();
    if ('step' in node) {
      const { step, run } = node;
      const item = new vscode.TreeItem(step.name, vscode.TreeItemCollapsibleState.None);
      const metrics = Object.entries(step.metrics).map(([k, v]) => `${k} ${v}`);
      item.description = [formatStateText(step, now), ...metrics].join(' · ');
      item.iconPath = new vscode.ThemeIcon(stateCodicon(step.state));
      item.contextValue = 'step';
      item.command = {
        title: 'Show Step Logs',
        command: CommandIds.showStepLogs,
        arguments: [
          {
            runId: run.ref.id,
            pipeline: run.ref.pipeline,
            step: step.name,
            workspace: run.workspace,
          },
        ],
      };
      return item;
    }
    const { run } = node;
    const item = new vscode.TreeItem(
      `${run.ref.pipeline} ${run.ref.id}`,
      vscode.TreeItemCollapsibleState.Collapsed,
    );
    item.description = formatStateText(run, now);
    item.iconPath = new vscode.ThemeIcon(stateCodicon(run.state));
    item.tooltip =
      Object.entries(run.metrics)
        .map(([k, v]) => `${k}: ${v}`)
        .join('\n') || run.ref.id;
    item.contextValue =
      run.live && (run.state === 'running' || run.state === 'queued') ? 'activeRun' : 'run';
    item.id = run.ref.id;
    return item;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
