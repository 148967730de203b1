/**
 * The kubeconfig's contexts, for pickers in the editors: read the way kubectl reads the file
 * (KUBECONFIG, then ~/.kube/config), without connecting to any cluster. Credentials are not returned.
 */
import { BackendError } from '../backend.js';

export interface KubeContext {
  readonly name: string;
  readonly cluster: string;
  /** The context's namespace, or null when it names none. */
  readonly namespace: string | null;
  /** The kubeconfig's current context. */
  readonly current: boolean;
}

/** Contexts of `kubeconfig` (default: KUBECONFIG, then ~/.kube/config). */
export async function listKubeContexts(kubeconfig?: string): Promise<KubeContext[]> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  try {
    if (kubeconfig !== undefined) kc.loadFromFile(kubeconfig);
    else kc.loadFromDefault();
  } catch (error) {
    throw new BackendError(
      'cluster-config',
      `Cannot read the kubeconfig${kubeconfig !== undefined ? ` ${kubeconfig}` : ''}: ${error instanceof Error ? error.message : String(error)}. ` +
        'Fix: point KUBECONFIG at a valid file, e.g. the one `kubectl config view` uses.',
    );
  }
  const current = kc.getCurrentContext();
  return kc.getContexts().map((c) => ({
    name: c.name,
    cluster: c.cluster,
    namespace: c.namespace ?? null,
    current: c.name === current,
  }));
}
