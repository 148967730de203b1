/**
 * Stands in for the kubelet (and Argo's pod creation): step pods bound to a node, their status as a
 * kubelet reports it, and their container output written to the stand-in kubelet.
 */
import {
  type ArgoNodePhase,
  type ArgoWorkflow,
  argoNodeId,
  argoPodName,
  type DagPosition,
} from './argo-nodes.js';
import {
  KubeApiError,
  type KubeClient,
  type KubeObject,
  RESOURCES,
  resourcePath,
} from './kube-client.js';
import type { StandInKubelet } from './stand-in-kubelet.js';

/** What the drivers write through: the admin client and the stand-in kubelet. */
export interface DriverTarget {
  admin: KubeClient;
  kubelet: StandInKubelet;
}

/** RFC 3339 without fractions, as Kubernetes writes timestamps. */
export const now = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

export interface StepPodOptions {
  /** Node the pod is bound to (default `cpu-node-0`). */
  nodeName?: string;
  /** Text its main container prints. */
  log?: string;
  exitCode?: number;
  message?: string;
}

export function podPhaseOf(phase: ArgoNodePhase): string | undefined {
  switch (phase) {
    case 'Pending':
      return 'Pending';
    case 'Running':
      return 'Running';
    case 'Succeeded':
      return 'Succeeded';
    case 'Failed':
    case 'Error':
      return 'Failed';
    default:
      return undefined;
  }
}

/** Creates or updates the pod of a Pod node and its status; writes/ends its log. */
export async function syncStepPod(
  target: DriverTarget,
  workflow: ArgoWorkflow & KubeObject,
  namespace: string,
  position: DagPosition,
  phase: ArgoNodePhase,
  options: StepPodOptions,
): Promise<void> {
  const podPhase = podPhaseOf(phase);
  if (podPhase === undefined) return;
  const workflowName = workflow.metadata.name ?? '';
  const podName = argoPodName(workflowName, position.nodeName, position.template.name);
  const container = (position.template.container ?? position.template.script ?? {}) as {
    image?: string;
    command?: string[];
    args?: string[];
    resources?: unknown;
  };
  try {
    await target.admin.create(resourcePath(RESOURCES.pods, { namespace }), {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: podName,
        namespace,
        labels: {
          'workflows.argoproj.io/workflow': workflowName,
          'workflows.argoproj.io/completed': 'false',
          ...(workflow.metadata.labels?.['pipeline/runid'] !== undefined
            ? { 'pipeline/runid': workflow.metadata.labels['pipeline/runid'] }
            : {}),
        },
        annotations: {
          'workflows.argoproj.io/node-id': argoNodeId(workflowName, position.nodeName),
          'workflows.argoproj.io/node-name': position.nodeName,
        },
        ownerReferences: [
          {
            apiVersion: 'argoproj.io/v1alpha1',
            kind: 'Workflow',
            name: workflowName,
            uid: workflow.metadata.uid ?? '',
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: {
        nodeName: options.nodeName ?? 'cpu-node-0',
        restartPolicy: 'Never',
        automountServiceAccountToken: false,
        containers: [
          {
            name: 'main',
            image: container.image ?? 'busybox',
            ...(container.command !== undefined ? { command: container.command } : {}),
            ...(container.args !== undefined ? { args: container.args } : {}),
          },
          { name: 'wait', image: 'quay.io/argoproj/argoexec:latest' },
        ],
      },
    });
  } catch (error) {
    if (!(error instanceof KubeApiError && error.status === 409)) throw error;
  }
  if (options.log !== undefined) target.kubelet.writeLog(namespace, podName, 'main', options.log);
  await setPodPhase(target, namespace, podName, podPhase as PodPhase, {
    exitCode: options.exitCode,
    message: options.message,
  });
}

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

/**
 * Sets a pod's status as a kubelet reports it (phase, conditions, container states) and, once the
 * pod has finished, ends its log streams.
 */
export async function setPodPhase(
  target: DriverTarget,
  namespace: string,
  podName: string,
  phase: PodPhase,
  options: { exitCode?: number; message?: string } = {},
): Promise<KubeObject> {
  const pod = await target.admin.get<
    KubeObject & { spec: { containers: { name: string; image: string }[] } }
  >(resourcePath(RESOURCES.pods, { namespace, name: podName }));
  const t = now();
  const running = phase === 'Running';
  const finished = phase === 'Succeeded' || phase === 'Failed';
  const exitCode = phase === 'Succeeded' ? 0 : (options.exitCode ?? 1);
  if (running || finished) {
    for (const c of pod.spec.containers) target.kubelet.writeLog(namespace, podName, c.name, '');
  }
  const containerStatuses = pod.spec.containers.map((c) => ({
    name: c.name,
    image: c.image,
    imageID: '',
    ready: running,
    restartCount: 0,
    started: running,
    state: running
      ? { running: { startedAt: t } }
      : finished
        ? {
            terminated: {
              exitCode,
              reason: exitCode === 0 ? 'Completed' : 'Error',
              startedAt: t,
              finishedAt: t,
              ...(options.message !== undefined ? { message: options.message } : {}),
            },
          }
        : { waiting: { reason: 'ContainerCreating' } },
  }));
  const updated = await target.admin.mergePatch(
    resourcePath(RESOURCES.pods, { namespace, name: podName, subresource: 'status' }),
    {
      status: {
        phase,
        hostIP: '127.0.0.1',
        podIP: running || finished ? '10.244.0.10' : undefined,
        startTime: t,
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: t },
          { type: 'Initialized', status: 'True', lastTransitionTime: t },
          { type: 'ContainersReady', status: running ? 'True' : 'False', lastTransitionTime: t },
          { type: 'Ready', status: running ? 'True' : 'False', lastTransitionTime: t },
        ],
        containerStatuses,
      },
    },
  );
  if (finished) target.kubelet.endPodLogs(namespace, podName);
  return updated;
}
