/**
 * The Tuning view: studies (live ones of this window, then each workspace's history and the
 * cluster's), their trials with parameters, objective and state, the best trial starred.
 */
import * as vscode from 'vscode';
import type { Backend, StudySummary, TrialSummary } from '@cellflow/backend';
import type { ClusterConnections } from '../cluster/cluster-connections.js';
import type { BackendLoader } from '../runs/backend-loader.js';
import type { StudyTracker } from '../tuning/study-tracker.js';

export interface TuningViewStudy {
  readonly summary: StudySummary;
  /** The backend that runs or ran the study (it cancels it). */
  readonly backend: Backend;
  readonly live: boolean;
  /** Where the notebook is (URI string), when known. */
  readonly notebook?: string;
}

type Node =
  | { readonly study: TuningViewStudy }
  | { readonly study: TuningViewStudy; readonly trial: TrialSummary };

const TRIAL_ICONS: Readonly<Record<TrialSummary['state'], string>> = {
  pending: 'clock',
  running: 'sync~spin',
  succeeded: 'pass',
  failed: 'error',
  'early-stopped': 'debug-step-out',
  cancelled: 'circle-slash',
};

function values(parameters: Readonly<Record<string, unknown>>): string {
  return Object.entries(parameters)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? Number(v.toPrecision(4)) : String(v)}`)
    .join(', ');
}

export class TuningView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscriptions: { dispose(): void }[];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly studies: StudyTracker,
    private readonly backends: BackendLoader,
    private readonly cluster: ClusterConnections,
  ) {
    this.subscriptions = [
      // Trials change often: redraw at most every 300 ms.
      studies.onDidChange(() => {
        this.timer ??= setTimeout(() => {
          this.timer = undefined;
          this.changed.fire();
        }, 300);
      }),
    ];
  }

  refresh(): void {
    this.changed.fire();
  }

  /** Live studies first, then history not already shown. */
  async model(): Promise<TuningViewStudy[]> {
    const live: TuningViewStudy[] = this.studies.studies().map((s) => ({
      summary: s.summary,
      backend: s.backend,
      live: true,
      notebook: s.notebook,
    }));
    const seen = new Set(live.map((s) => s.summary.id));
    const past: TuningViewStudy[] = [];
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      const backend = await this.backends.local(folder.uri.fsPath);
      for (const summary of await backend.listStudies()) {
        if (seen.has(summary.id)) continue;
        past.push({
          summary,
          backend,
          live: false,
          ...(summary.notebookPath !== null
            ? { notebook: vscode.Uri.file(summary.notebookPath).toString() }
            : {}),
        });
      }
    }
    const cluster = this.cluster.current;
    if (cluster !== undefined) {
      for (const summary of await cluster.listStudies().catch(() => []))
        if (!seen.has(summary.id)) past.push({ summary, backend: cluster, live: false });
    }
    return [...live, ...past];
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (node === undefined) return (await this.model()).map((study) => ({ study }));
    if ('trial' in node) return [];
    return [...node.study.summary.trials]
      .sort((a, b) => a.index - b.index)
      .map((trial) => ({ study: node.study, trial }));
  }

  getTreeItem(node: Node): vscode.TreeItem {
    const { summary } = node.study;
    if ('trial' in node) {
      const t = node.trial;
      const best = summary.best?.id === t.id;
      const item = new vscode.TreeItem(`${best ? '★ ' : ''}trial ${t.index + 1}`);
      item.description = [
        t.objective !== null
          ? `${summary.spec.objective} ${Number(t.objective.toPrecision(4))}`
          : t.state,
        values(t.parameters),
      ].join(' · ');
      item.tooltip = t.reason ?? `${t.state}: ${values(t.parameters)}`;
      item.iconPath = new vscode.ThemeIcon(TRIAL_ICONS[t.state]);
      item.contextValue = 'trial';
      return item;
    }
    const item = new vscode.TreeItem(
      `${summary.pipeline} ${summary.id}`,
      vscode.TreeItemCollapsibleState.Collapsed,
    );
    const c = summary.counts;
    item.description = `${summary.target === 'cluster' ? 'cluster · ' : ''}${summary.state} · ${c.succeeded}/${summary.spec.maxTrials} trials${summary.best?.objective != null ? ` · best ${summary.spec.objective} ${Number(summary.best.objective.toPrecision(4))}` : ''}`;
    item.tooltip =
      summary.reason ??
      `${summary.spec.goal} ${summary.spec.objective} (${summary.spec.algorithm})`;
    item.iconPath = new vscode.ThemeIcon(
      summary.state === 'running' ? 'sync~spin' : summary.state === 'succeeded' ? 'pass' : 'error',
    );
    item.contextValue = `study${summary.state === 'running' ? '.running' : ''}${summary.best !== null ? '.best' : ''}`;
    item.id = `study:${summary.id}`;
    item.command = {
      title: 'Show Tuning Results',
      command: 'cellflow.showTuningResults',
      arguments: [{ study: node.study }],
    };
    return item;
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const s of this.subscriptions) s.dispose();
    this.changed.dispose();
  }
}
