/**
 * A step's log lines from its pod, through the Kubernetes API (`pods/log`, following while it
 * runs). The pod is found by the Argo node that runs the step's code.
 */
import { BackendError, type RunRef } from '../backend.js';
import { clusterError } from './cluster-errors.js';
import type { KubeConnection } from './kube-connection.js';
import { findRunWorkflow } from './watch-run.js';
import { readWorkflowStatus } from './workflow-states.js';

interface PodListItem {
  readonly metadata: {
    readonly name: string;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly status?: { readonly phase?: string };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function findStepPod(
  kube: KubeConnection,
  run: RunRef,
  task: string,
  step: string,
): Promise<{ namespace: string; pod: string } | 'finished-without-pod'> {
  for (let attempt = 0; ; attempt++) {
    const workflow = await findRunWorkflow(kube, run);
    if (workflow !== undefined) {
      const status = readWorkflowStatus(workflow, new Map([[step, task]])).steps.get(step);
      const namespace = workflow.metadata.namespace ?? kube.namespace;
      if (status?.executorNode !== undefined) {
        const selector = encodeURIComponent(
          `workflows.argoproj.io/workflow=${workflow.metadata.name ?? ''}`,
        );
        const pods = await kube.request<{ items: PodListItem[] }>(
          'GET',
          `/api/v1/namespaces/${namespace}/pods?labelSelector=${selector}`,
        );
        const pod = pods.items.find(
          (p) =>
            p.metadata.annotations?.['workflows.argoproj.io/node-name'] === status.executorNode,
        );
        if (pod !== undefined) return { namespace, pod: pod.metadata.name };
      }
      if (status !== undefined && (status.state === 'cached' || status.state === 'cancelled'))
        return 'finished-without-pod';
    }
    if (attempt > 600)
      throw new BackendError(
        'step-not-found',
        `Step \`${step}\` of run ${run.id} has no pod after 10 minutes.`,
      );
    await sleep(1000);
  }
}

export async function* followStepLogs(
  kube: KubeConnection,
  run: RunRef,
  task: string,
  step: string,
): AsyncIterable<string> {
  let found;
  try {
    found = await findStepPod(kube, run, task, step);
  } catch (error) {
    throw clusterError(error, {
      doing: `find the pod of step ${step}`,
      server: kube.server,
      context: kube.contextName,
    });
  }
  if (found === 'finished-without-pod') return;
  const lines: string[] = [];
  let wake: (() => void) | undefined;
  let done = false;
  let failure: unknown;
  const controller = new AbortController();
  const path = `/api/v1/namespaces/${found.namespace}/pods/${found.pod}/log?container=main&follow=true`;
  kube
    .stream(
      path,
      (line) => {
        lines.push(line);
        wake?.();
      },
      controller.signal,
    )
    .catch((error: unknown) => {
      failure = error;
    })
    .finally(() => {
      done = true;
      wake?.();
    });
  try {
    for (;;) {
      while (lines.length > 0) yield lines.shift()!;
      if (done) break;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
    if (failure !== undefined)
      throw clusterError(failure, {
        doing: `read the logs of step ${step}`,
        server: kube.server,
        context: kube.contextName,
      });
  } finally {
    controller.abort();
  }
}
