/**
 * The Endpoints view: models served on this machine (each workspace folder's local backend) and,
 * once a cluster is in use, its KServe InferenceServices, with state and URL.
 */
import * as vscode from 'vscode';
import type { Backend, Endpoint } from '@cellflow/backend';
import type { ClusterConnections } from '../cluster/cluster-connections.js';
import type { BackendLoader } from '../runs/backend-loader.js';

export interface EndpointsViewItem {
  readonly endpoint: Endpoint;
  /** The backend that serves it (for delete). */
  readonly backend: Backend;
}

type Node = EndpointsViewItem | { readonly message: string };

const ICONS: Readonly<Record<Endpoint['state'], string>> = {
  ready: 'pass',
  pending: 'sync~spin',
  failed: 'error',
};

export class EndpointsView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscription: { dispose(): void };
  private problem: string | undefined;

  constructor(
    private readonly backends: BackendLoader,
    private readonly cluster: ClusterConnections,
  ) {
    this.subscription = cluster.onDidChange(() => this.refresh());
  }

  refresh(): void {
    this.changed.fire();
  }

  /** Local endpoints, then the cluster's. Only reads backends already in use. */
  async model(): Promise<EndpointsViewItem[]> {
    const items: EndpointsViewItem[] = [];
    for (const backend of this.backends.loadedLocals())
      for (const endpoint of await backend.listEndpoints()) items.push({ endpoint, backend });
    this.problem = undefined;
    const cluster = this.cluster.current;
    if (cluster !== undefined) {
      try {
        for (const endpoint of await cluster.listEndpoints())
          items.push({ endpoint, backend: cluster });
      } catch (error) {
        this.problem = `Cluster endpoints: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
    return items;
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (node !== undefined) return [];
    const items: Node[] = await this.model();
    return this.problem !== undefined ? [...items, { message: this.problem }] : items;
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if ('message' in node) {
      const item = new vscode.TreeItem(node.message);
      item.iconPath = new vscode.ThemeIcon('warning');
      return item;
    }
    const { endpoint } = node;
    const item = new vscode.TreeItem(endpoint.name);
    item.description = `${endpoint.target} · ${endpoint.state} · ${endpoint.url || 'no URL yet'}`;
    item.tooltip = [
      `${endpoint.model.variable} from run ${endpoint.model.runId} (step ${endpoint.model.step})`,
      endpoint.url,
      endpoint.message ?? '',
    ]
      .filter((s) => s !== '')
      .join('\n');
    item.iconPath = new vscode.ThemeIcon(ICONS[endpoint.state]);
    item.contextValue = 'endpoint';
    item.id = `${endpoint.target}:${endpoint.name}`;
    return item;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
