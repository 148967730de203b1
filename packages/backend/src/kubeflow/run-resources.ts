/**
 * The Kubernetes resources of one cluster run, found the same way by everything that reads them
 * (the run watch, step logs, step reports, serving): the run's Argo Workflow (label
 * `pipeline/runid`), the workflow's pods (label `workflows.argoproj.io/workflow`) by the Argo node
 * each runs (annotation `workflows.argoproj.io/node-name`), and the tail of a pod's log.
 */
import type { RunRef } from '../backend.js';
import type { CustomResource } from './kube-watch.js';
import type { KubeConnection, RequestSettings } from './kube-connection.js';
import type { ArgoWorkflowObject } from './workflow-states.js';

export const WORKFLOWS: CustomResource = {
  group: 'argoproj.io',
  version: 'v1alpha1',
  plural: 'workflows',
};

/** KFP labels the Workflow of a run with the run's id. */
export const runWorkflowSelector = (run: RunRef): string => `pipeline/runid=${run.id}`;

/** The Argo Workflow that runs `run`, in the connection's namespace; undefined before it exists. */
export async function findRunWorkflow(
  kube: KubeConnection,
  run: RunRef,
): Promise<ArgoWorkflowObject | undefined> {
  const list = (await kube.read((o) =>
    kube.custom.listNamespacedCustomObject(
      { ...WORKFLOWS, namespace: kube.namespace, labelSelector: runWorkflowSelector(run) },
      o,
    ),
  )) as { items: ArgoWorkflowObject[] };
  return list.items[0];
}

/** The namespace a workflow's pods run in. */
export function workflowNamespace(kube: KubeConnection, workflow: ArgoWorkflowObject): string {
  return workflow.metadata.namespace ?? kube.namespace;
}

/** Argo node name -> pod name, for the pods of `workflow` (one pod list). */
export async function workflowPodsByNode(
  kube: KubeConnection,
  workflow: ArgoWorkflowObject,
): Promise<Map<string, string>> {
  const pods = await kube.read((o) =>
    kube.core.listNamespacedPod(
      {
        namespace: workflowNamespace(kube, workflow),
        labelSelector: `workflows.argoproj.io/workflow=${workflow.metadata.name ?? ''}`,
      },
      o,
    ),
  );
  const byNode = new Map<string, string>();
  for (const pod of pods.items) {
    const node = pod.metadata?.annotations?.['workflows.argoproj.io/node-name'];
    if (node !== undefined && pod.metadata?.name !== undefined) byNode.set(node, pod.metadata.name);
  }
  return byNode;
}

/** The log of a step pod's `main` container (its last `tailLines` lines when given). */
export async function readStepPodLog(
  kube: KubeConnection,
  namespace: string,
  pod: string,
  tailLines?: number,
  settings: RequestSettings = {},
): Promise<string> {
  const log = await kube.read(
    (o) =>
      kube.core.readNamespacedPodLog(
        {
          name: pod,
          namespace,
          container: 'main',
          ...(tailLines !== undefined ? { tailLines } : {}),
        },
        o,
      ),
    settings,
  );
  return typeof log === 'string' ? log : '';
}
