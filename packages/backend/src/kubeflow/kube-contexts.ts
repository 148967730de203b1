/**
 * The kubeconfig's contexts, for pickers in the editors: read the way kubectl reads the file
 * (KUBECONFIG, then ~/.kube/config), without connecting to any cluster. Credentials are not returned.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { BackendError } from '../backend.js';

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * Where the kubeconfig comes from when none is named, as kubectl finds it: the files KUBECONFIG
 * lists, else ~/.kube/config, else the pod's service account inside a cluster. Undefined when there
 * is none: the Kubernetes client would then make up a context `loaded-context` on localhost, which
 * nobody configured, so Cellflow says that no kubeconfig was found instead.
 */
export function defaultKubeconfigSource(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const listed = (env.KUBECONFIG ?? '').split(delimiter).filter((f) => f !== '' && existsSync(f));
  if (listed.length > 0) return listed.join(delimiter);
  const home = join(env.HOME ?? homedir(), '.kube', 'config');
  if (existsSync(home)) return home;
  if (env.KUBERNETES_SERVICE_HOST !== undefined && existsSync(SERVICE_ACCOUNT_TOKEN))
    return "the pod's service account";
  return undefined;
}

/** The refusal when no kubeconfig exists (see `defaultKubeconfigSource`). */
export function noKubeconfigError(): BackendError {
  return new BackendError(
    'cluster-config',
    'No kubeconfig found: KUBECONFIG names no existing file, ~/.kube/config does not exist, and this is not inside a cluster. ' +
      'Fix: choose your kubeconfig file (--kubeconfig, or the setting cellflow.cluster.kubeconfig in the editors), or set KUBECONFIG.',
  );
}

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
    else if (defaultKubeconfigSource() === undefined) throw noKubeconfigError();
    else kc.loadFromDefault();
  } catch (error) {
    if (error instanceof BackendError) throw error;
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
