/**
 * A step's log lines from its pod, through the Kubernetes API (`pods/log`, following while it
 * runs). The pod is found by the Argo node that runs the step's code.
 */
import { readStepFailure } from '@cellflow/core';
import { BackendError, type RunRef } from '../backend.js';
import type { StepFailure } from '../run-events.js';
import { clusterError } from './cluster-errors.js';
import type { KubeConnection } from './kube-connection.js';
import { streamLines } from './plain-requests.js';
import {
  findRunWorkflow,
  readStepPodLog,
  workflowNamespace,
  workflowPodsByNode,
} from './run-resources.js';
import { readWorkflowStatus } from './workflow-states.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function findStepPod(
  kube: KubeConnection,
  run: RunRef,
  task: string,
  step: string,
  /** Seconds to wait for the pod to appear. */
  waitSeconds = 600,
): Promise<{ namespace: string; pod: string } | 'finished-without-pod'> {
  for (let attempt = 0; ; attempt++) {
    const workflow = await findRunWorkflow(kube, run);
    if (workflow !== undefined) {
      const status = readWorkflowStatus(workflow, new Map([[step, task]])).steps.get(step);
      if (status?.executorNode !== undefined) {
        const pod = (await workflowPodsByNode(kube, workflow)).get(status.executorNode);
        if (pod !== undefined) return { namespace: workflowNamespace(kube, workflow), pod };
      }
      if (status !== undefined && (status.state === 'cached' || status.state === 'cancelled'))
        return 'finished-without-pod';
    }
    if (attempt >= waitSeconds)
      throw new BackendError(
        'step-not-found',
        `Step \`${step}\` of run ${run.id} has no pod after ${waitSeconds} s.`,
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
  // The client's `Log` cannot follow safely (see `streamLines`).
  const path = `/api/v1/namespaces/${encodeURIComponent(found.namespace)}/pods/${encodeURIComponent(found.pod)}/log?container=main&follow=true`;
  streamLines(
    kube,
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

/**
 * Where a failed step failed, from the end of its pod's log: the step runtime prints the
 * notebook-cell traceback and a `Cellflow: Step ... failed at cell N, line L: ...` line.
 */
export async function failureFromStepLog(
  kube: KubeConnection,
  run: RunRef,
  task: string,
  step: string,
  fallback: StepFailure,
): Promise<StepFailure> {
  try {
    const found = await findStepPod(kube, run, task, step, 5);
    if (found === 'finished-without-pod') return fallback;
    const log = await readStepPodLog(kube, found.namespace, found.pod, 80, {
      retries: 1,
      timeoutMs: 5000,
    });
    const report = readStepFailure(log);
    if (report === undefined) return fallback;
    if (report.cell === null) return { ...fallback, message: report.message };
    return { kind: 'exception', ...report };
  } catch {
    return fallback;
  }
}
