/**
 * The Runs view: runs started in this window (live) and past runs from each workspace folder's
 * history, each with its steps' state, duration and metrics (a cluster step's saved outputs, URI
 * and type, in its tooltip).
 */
import * as vscode from 'vscode';
import { formatMetricValue } from '@cellflow/core';
import type { RunRef, RunState, RunSummary, StepOutputs, StepState } from '@cellflow/backend';
import type { ClusterConnections } from '../cluster/cluster-connections.js';
import { CommandIds } from '../command-ids.js';
import type { BackendLoader } from '../runs/backend-loader.js';
import { formatStateText, stateCodicon } from '../runs/format-run-state.js';
import type { RunTarget, RunTracker } from '../runs/run-tracker.js';
import { shortRunLabel } from '../runs/short-run-label.js';

/** Plain data behind the tree (also what tests read). */
export interface RunsViewStep {
  readonly name: string;
  readonly state: StepState;
  readonly durationMs: number | null;
  readonly startedAt: string | null;
  readonly metrics: Readonly<Record<string, number | string>>;
  readonly outputs?: StepOutputs;
}

export interface RunsViewRun {
  readonly ref: RunRef;
  readonly pipeline: string;
  readonly target: RunTarget;
  readonly state: RunState;
  readonly durationMs: number | null;
  readonly startedAt: string | null;
  readonly live: boolean;
  readonly workspace?: string;
  readonly metrics: Readonly<Record<string, number | string>>;
  readonly steps: readonly RunsViewStep[];
}

type Node =
  | { readonly run: RunsViewRun }
  | { readonly run: RunsViewRun; readonly step: RunsViewStep }
  | { readonly message: string };

const HISTORY_LIMIT = 20;

export class RunsView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscriptions: { dispose(): void }[];
  /** Summaries of the runs listed last, by id (re-run reads their parameters). */
  private readonly summaries = new Map<string, RunSummary & { target: RunTarget }>();
  /** Why the cluster's runs could not be listed, shown as a row. */
  private clusterProblem: string | undefined;

  constructor(
    private readonly tracker: RunTracker,
    private readonly backends: BackendLoader,
    private readonly cluster: ClusterConnections,
  ) {
    this.subscriptions = [
      tracker.onDidChange(() => this.changed.fire(undefined)),
      cluster.onDidChange(() => this.changed.fire(undefined)),
    ];
  }

  /** A listed run's summary (parameters, notebook), fetched from its backend when not listed yet. */
  async summaryOf(runId: string): Promise<(RunSummary & { target: RunTarget }) | undefined> {
    if (!this.summaries.has(runId)) await this.model();
    return this.summaries.get(runId);
  }

  private toViewRun(r: RunSummary, target: RunTarget, workspace?: string): RunsViewRun {
    this.summaries.set(r.id, { ...r, target });
    return {
      ref: { id: r.id },
      pipeline: r.pipeline,
      target,
      state: r.state,
      durationMs: r.durationMs,
      startedAt: r.startedAt,
      live: false,
      ...(workspace !== undefined ? { workspace } : {}),
      metrics: r.metrics,
      steps: r.steps.map((s) => ({ ...s, metrics: s.metrics ?? {} })),
    };
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  /** Live runs first, then history not already shown. */
  async model(): Promise<RunsViewRun[]> {
    const live: RunsViewRun[] = this.tracker.runs().map((r) => ({
      ref: r.ref,
      pipeline: r.pipeline,
      target: r.target,
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
        ...(s.outputs !== undefined ? { outputs: s.outputs } : {}),
      })),
    }));
    const seen = new Set(live.map((r) => r.ref.id));
    const past: RunsViewRun[] = [];
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      const backend = await this.backends.local(folder.uri.fsPath);
      for (const r of await backend.listRuns({ limit: HISTORY_LIMIT })) {
        if (!seen.has(r.id)) past.push(this.toViewRun(r, 'local', folder.uri.fsPath));
        else this.summaries.set(r.id, { ...r, target: 'local' });
      }
    }
    this.clusterProblem = undefined;
    if (this.cluster.configured) {
      try {
        const backend = this.cluster.current ?? (await this.cluster.connect());
        for (const r of await backend.listRuns({ limit: HISTORY_LIMIT })) {
          if (!seen.has(r.id)) past.push(this.toViewRun(r, 'cluster'));
          else this.summaries.set(r.id, { ...r, target: 'cluster' });
        }
      } catch (error) {
        this.clusterProblem = error instanceof Error ? error.message : String(error);
      }
    }
    return [...live, ...past];
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (node === undefined) {
      const runs: Node[] = (await this.model()).map((run) => ({ run }));
      return this.clusterProblem !== undefined
        ? [...runs, { message: `Cluster runs: ${this.clusterProblem}` }]
        : runs;
    }
    if ('message' in node) return [];
    if ('step' in node) return [];
    return node.run.steps.map((step) => ({ run: node.run, step }));
  }

  getTreeItem(node: Node): vscode.TreeItem {
    const now = Date.now();
    if ('message' in node) {
      const item = new vscode.TreeItem(node.message);
      item.iconPath = new vscode.ThemeIcon('warning');
      item.tooltip = node.message;
      return item;
    }
    if ('step' in node) {
      const { step, run } = node;
      const item = new vscode.TreeItem(step.name, vscode.TreeItemCollapsibleState.None);
      const metrics = Object.entries(step.metrics).map(([k, v]) => `${k} ${formatMetricValue(v)}`);
      item.description = [formatStateText(step, now), ...metrics].join(' · ');
      item.iconPath = new vscode.ThemeIcon(stateCodicon(step.state));
      const outputs = Object.entries(step.outputs ?? {}).map(
        ([variable, o]) => `${variable} (${o.type}): ${o.uri}`,
      );
      if (outputs.length > 0) item.tooltip = outputs.join('\n');
      item.contextValue = 'step';
      item.command = {
        title: 'Show Step Logs',
        command: CommandIds.showStepLogs,
        arguments: [
          {
            runId: run.ref.id,
            pipeline: run.pipeline,
            step: step.name,
            workspace: run.workspace,
            target: run.target,
          },
        ],
      };
      return item;
    }
    const { run } = node;
    // Short enough for the state beside it to show in a narrow sidebar; the id is in the tooltip.
    const item = new vscode.TreeItem(
      `${run.pipeline} ${shortRunLabel(run.ref.id, new Date(now))}`,
      vscode.TreeItemCollapsibleState.Collapsed,
    );
    item.description = `${run.target === 'cluster' ? 'cluster · ' : ''}${formatStateText(run, now)}`;
    item.iconPath = new vscode.ThemeIcon(stateCodicon(run.state));
    item.tooltip = [
      `Run ${run.ref.id}`,
      ...Object.entries(run.metrics).map(([k, v]) => `${k}: ${formatMetricValue(v)}`),
    ].join('\n');
    const active = run.state === 'running' || run.state === 'queued';
    // `activeRun` / `run`, then `.cluster` for runs the KFP UI can show.
    item.contextValue = `${(run.live || run.target === 'cluster') && active ? 'activeRun' : 'run'}${run.target === 'cluster' ? '.cluster' : ''}`;
    item.id = run.ref.id;
    return item;
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.changed.dispose();
  }
}
