/**
 * What KFP's persistence agent reports for a run, read from its Argo Workflow: the run state
 * (PENDING, RUNNING, SUCCEEDED, FAILED, CANCELING, CANCELED) and one task detail per pipeline task
 * with its state, times and pod name.
 */
import {
  type ArgoNodePhase,
  type ArgoWorkflow,
  argoNodeId,
  dagPositions,
  isPodTemplate,
  argoPodName,
} from '../argo-nodes.js';
import { userTasks } from '../drive-workflows.js';

export type RuntimeState =
  | 'RUNTIME_STATE_UNSPECIFIED'
  | 'PENDING'
  | 'RUNNING'
  | 'SUCCEEDED'
  | 'SKIPPED'
  | 'FAILED'
  | 'CANCELING'
  | 'CANCELED'
  | 'PAUSED';

export interface TaskDetail {
  run_id: string;
  task_id: string;
  display_name: string;
  create_time: string;
  start_time: string;
  end_time: string;
  state: RuntimeState;
  pod_name?: string;
  child_tasks?: { pod_name: string }[];
  error?: { code: number; message: string };
}

/** KFP renders an unset timestamp as the Unix epoch. */
export const EPOCH = '1970-01-01T00:00:00Z';

function stateOfPhase(phase: ArgoNodePhase | undefined, terminating: boolean): RuntimeState {
  switch (phase) {
    case undefined:
    case 'Pending':
      return terminating ? 'CANCELING' : 'PENDING';
    case 'Running':
      return terminating ? 'CANCELING' : 'RUNNING';
    case 'Succeeded':
      return 'SUCCEEDED';
    case 'Skipped':
    case 'Omitted':
      return 'SKIPPED';
    case 'Failed':
    case 'Error':
      return terminating ? 'CANCELED' : 'FAILED';
  }
}

export function runStateOfWorkflow(workflow: ArgoWorkflow, terminating: boolean): RuntimeState {
  return stateOfPhase(workflow.status?.phase, terminating);
}

export function taskDetailsOfWorkflow(
  workflow: ArgoWorkflow,
  runId: string,
  terminating: boolean,
): TaskDetail[] {
  const name = workflow.metadata.name ?? '';
  const nodes = workflow.status?.nodes ?? {};
  const positions = dagPositions(workflow);
  const details: TaskDetail[] = [];
  for (const task of userTasks(workflow)) {
    const position = positions.find((p) => p.task?.name === task && p.parent?.task?.name === 'root')
      ?? positions.find((p) => p.task?.name === task); // prettier-ignore
    if (position === undefined) continue;
    const node = nodes[argoNodeId(name, position.nodeName)];
    if (node === undefined) continue;
    const pods = positions.filter(
      (p) =>
        (p === position || p.nodeName.startsWith(`${position.nodeName}.`)) &&
        isPodTemplate(p.template) &&
        nodes[argoNodeId(name, p.nodeName)] !== undefined,
    );
    const podNames = pods.map((p) => argoPodName(name, p.nodeName, p.template.name));
    const state = stateOfPhase(node.phase, terminating);
    details.push({
      run_id: runId,
      task_id: node.id,
      display_name: task,
      create_time: node.startedAt ?? EPOCH,
      start_time: node.startedAt ?? EPOCH,
      end_time: node.finishedAt ?? EPOCH,
      state,
      ...(podNames[0] !== undefined ? { pod_name: podNames[0] } : {}),
      ...(podNames.length > 0 ? { child_tasks: podNames.map((pod_name) => ({ pod_name })) } : {}),
      ...(state === 'FAILED' ? { error: { code: 2, message: node.message ?? 'task failed' } } : {}),
    });
  }
  return details;
}
