/**
 * Inside a Kubeflow notebook server, steps run by default in the notebook's own image, as Kale
 * does: the image that already has what the notebook imports. Kubeflow's notebook controller sets
 * `NB_PREFIX=/notebook/<namespace>/<name>` in the notebook container, whose pod is `HOSTNAME`.
 */
import type { KubeConnection } from './kube-connection.js';

/** Namespace and notebook name when this process runs in a Kubeflow notebook server. */
export function notebookServerOf(
  env: NodeJS.ProcessEnv = process.env,
): { namespace: string; name: string; pod: string } | undefined {
  const match = /^\/notebook\/([^/]+)\/([^/]+)\/?$/.exec(env.NB_PREFIX ?? '');
  const pod = env.HOSTNAME;
  if (match === null || pod === undefined || pod === '') return undefined;
  return { namespace: match[1]!, name: match[2]!, pod };
}

/**
 * The notebook container's image (the container named after the notebook, else the first), or
 * undefined outside a notebook server or when the pod cannot be read (steps then keep the default).
 */
export async function notebookPodImage(
  kube: KubeConnection,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  const server = notebookServerOf(env);
  if (server === undefined) return undefined;
  try {
    const pod = await kube.read(
      (o) => kube.core.readNamespacedPod({ name: server.pod, namespace: server.namespace }, o),
      { retries: 1 },
    );
    const containers = pod.spec?.containers ?? [];
    const own = containers.find((c) => c.name === server.name) ?? containers[0];
    return own?.image !== undefined && own.image !== '' ? own.image : undefined;
  } catch {
    // Not allowed to read its own pod (a locked-down profile): the default image stays.
    return undefined;
  }
}
