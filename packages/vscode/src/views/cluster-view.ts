/**
 * The Cluster view: context, namespace, API server, whether Kubeflow Pipelines answers, and GPU
 * capacity by product. Empty (with a welcome to connect) until a cluster is used: opening the
 * view never loads the Kubernetes client by itself.
 */
import * as vscode from 'vscode';
import type { ClusterConnections, ClusterStatus } from '../cluster/cluster-connections.js';
import { CommandIds } from '../command-ids.js';

/** One row: what it is, its value, an icon. Plain data (tests read it). */
export interface ClusterRow {
  readonly label: string;
  readonly value: string;
  readonly icon: string;
  readonly children?: readonly ClusterRow[];
}

/** Rows for a cluster's status. */
export function clusterRows(status: ClusterStatus): ClusterRow[] {
  const capacity = status.capacity;
  const gpus: ClusterRow =
    typeof capacity === 'string'
      ? { label: 'GPUs', value: capacity, icon: 'warning' }
      : {
          label: 'GPUs',
          value:
            capacity.pools.length === 0
              ? 'none'
              : `${capacity.pools.reduce((n, p) => n + p.free, 0)} of ${capacity.pools.reduce((n, p) => n + p.allocatable, 0)} free`,
          icon: 'circuit-board',
          children: byProduct(capacity.pools),
        };
  return [
    { label: 'Context', value: status.context, icon: 'plug' },
    { label: 'Namespace', value: status.namespace, icon: 'symbol-namespace' },
    { label: 'API server', value: status.server, icon: 'server' },
    {
      label: 'Kubeflow Pipelines',
      value: status.kfp === true ? 'reachable' : status.kfp,
      icon: status.kfp === true ? 'pass' : 'error',
    },
    gpus,
  ];
}

function byProduct(
  pools: readonly {
    product: string | null;
    resource: string;
    free: number;
    allocatable: number;
    node: string;
  }[],
): ClusterRow[] {
  const rows = new Map<string, { free: number; total: number; nodes: Set<string> }>();
  for (const p of pools) {
    const key = p.product ?? p.resource;
    const row = rows.get(key) ?? { free: 0, total: 0, nodes: new Set<string>() };
    row.free += p.free;
    row.total += p.allocatable;
    row.nodes.add(p.node);
    rows.set(key, row);
  }
  return [...rows].map(([product, r]) => ({
    label: product,
    value: `${r.free} of ${r.total} free on ${r.nodes.size} node${r.nodes.size === 1 ? '' : 's'}`,
    icon: 'chip',
  }));
}

export class ClusterView implements vscode.TreeDataProvider<ClusterRow>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscription: { dispose(): void };
  /** The rows shown last (for tests). */
  rows: ClusterRow[] = [];

  constructor(private readonly cluster: ClusterConnections) {
    this.subscription = cluster.onDidChange(() => this.refresh());
  }

  refresh(): void {
    this.changed.fire();
  }

  /** Reads the current cluster's status now. */
  async model(): Promise<ClusterRow[]> {
    const status = await this.cluster.status();
    this.rows = status === undefined ? [] : clusterRows(status);
    return this.rows;
  }

  async getChildren(row?: ClusterRow): Promise<ClusterRow[]> {
    if (row !== undefined) return [...(row.children ?? [])];
    return this.model();
  }

  getTreeItem(row: ClusterRow): vscode.TreeItem {
    const item = new vscode.TreeItem(
      row.label,
      row.children !== undefined && row.children.length > 0
        ? vscode.TreeItemCollapsibleState.Expanded
        : vscode.TreeItemCollapsibleState.None,
    );
    item.description = row.value;
    item.tooltip = `${row.label}: ${row.value}`;
    item.iconPath = new vscode.ThemeIcon(row.icon);
    if (row.label === 'Context') {
      item.command = {
        title: 'Connect to a Cluster…',
        command: CommandIds.switchClusterContext,
      };
    }
    return item;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
