/**
 * Connections to Kubernetes clusters, made on demand: nothing here loads the Kubernetes client
 * until a cluster feature is used (deploy, the Cluster view's refresh, cluster runs).
 */
import type { Capacity, KubeContext, KubeflowBackend } from '@cellflow/backend';
import type { Config } from '../config.js';
import type { BackendLoader } from '../runs/backend-loader.js';
import type { TargetBackend } from '../runs/pipeline-runner.js';

export interface ClusterChoice {
  /** Kubeconfig context; undefined: the kubeconfig's current one. */
  readonly context?: string;
  readonly namespace?: string;
}

/** What the Cluster view shows. */
export interface ClusterStatus {
  readonly context: string;
  readonly namespace: string;
  readonly server: string;
  /** `true`, or why Kubeflow Pipelines cannot be reached. */
  readonly kfp: true | string;
  /** GPU capacity, or why it could not be read. */
  readonly capacity: Capacity | string;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class ClusterConnections {
  private readonly connected = new Map<string, Promise<KubeflowBackend>>();
  private currentBackend: KubeflowBackend | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly backends: BackendLoader,
    private readonly config: Config,
  ) {}

  /** The cluster last connected to (deploy, switch context), if any. */
  get current(): KubeflowBackend | undefined {
    return this.currentBackend;
  }

  /** Whether the user has pointed Cellflow at a cluster (a setting) or used one this session. */
  get configured(): boolean {
    return this.currentBackend !== undefined || this.config.clusterContext !== undefined;
  }

  async contexts(): Promise<KubeContext[]> {
    const { listKubeContexts } = await this.backends.load();
    return listKubeContexts(this.config.kubeconfig);
  }

  /** Connects (once per context and namespace) and makes it the current cluster. */
  async connect(choice: ClusterChoice = {}): Promise<KubeflowBackend> {
    const context = choice.context ?? this.config.clusterContext;
    const namespace = choice.namespace ?? this.config.clusterNamespace;
    const key = `${context ?? ''}/${namespace ?? ''}`;
    let pending = this.connected.get(key);
    if (pending === undefined) {
      pending = this.open(context, namespace);
      this.connected.set(key, pending);
      pending.catch(() => this.connected.delete(key));
    }
    const backend = await pending;
    if (this.currentBackend !== backend) {
      this.currentBackend = backend;
      this.emit();
    }
    return backend;
  }

  /**
   * Whether a kubeconfig can be read: the setting, else KUBECONFIG, ~/.kube/config or the pod's
   * service account. Without one the Kubernetes client makes up a `loaded-context` on localhost.
   */
  async hasKubeconfig(): Promise<boolean> {
    if (this.config.kubeconfig !== undefined) return true;
    const { defaultKubeconfigSource } = await this.backends.load();
    return defaultKubeconfigSource() !== undefined;
  }

  /** Connects and checks that the API server answers, so a bad context fails here, with the reason. */
  private async open(context?: string, namespace?: string): Promise<KubeflowBackend> {
    const { KubeflowBackend } = await this.backends.load();
    const endpoint = this.config.kfpEndpoint;
    const kubeconfig = this.config.kubeconfig;
    const backend = await KubeflowBackend.connect({
      ...(kubeconfig !== undefined ? { kubeconfig } : {}),
      ...(context !== undefined ? { context } : {}),
      ...(namespace !== undefined ? { namespace } : {}),
      ...(endpoint !== undefined ? { kfp: { endpoint } } : {}),
    });
    try {
      await backend.kube.serverVersion({ retries: 1, timeoutMs: 10_000 });
    } catch (error) {
      throw new Error(
        `cannot reach the API server of context \`${backend.kube.contextName}\` (${backend.kube.server}): ${messageOf(error)}`,
      );
    }
    return backend;
  }

  /** The current cluster as a run target. */
  target(backend: KubeflowBackend): TargetBackend {
    return { backend, target: 'cluster', label: backend.describe() };
  }

  /** Context, namespace, KFP reachability and GPU capacity of the current cluster. */
  async status(): Promise<ClusterStatus | undefined> {
    const backend = this.currentBackend;
    if (backend === undefined) return undefined;
    const [kfp, capacity] = await Promise.all([
      backend.kfp.healthz().then(
        () => true as const,
        (e: unknown) => messageOf(e),
      ),
      backend.capacity().catch((e: unknown) => messageOf(e)),
    ]);
    return {
      context: backend.kube.contextName,
      namespace: backend.kube.namespace,
      server: backend.kube.server,
      kfp,
      capacity,
    };
  }

  /** Settings changed: connect afresh next time. */
  reset(): void {
    this.connected.clear();
    this.currentBackend = undefined;
    this.emit();
  }

  onDidChange(listener: () => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private emit(): void {
    for (const l of this.listeners) l();
  }
}
