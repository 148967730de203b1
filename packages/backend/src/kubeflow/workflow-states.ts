/**
 * Reads step states out of the Argo Workflow that KFP runs a pipeline as. Each KFP task is a
 * `<task>-driver` pod then a `<task>` DAG node (template `system-container-executor`) holding the
 * `executor` pod (`system-container-impl`); a cached task's executor is skipped.
 */
import type { RunState, StepState } from '../run-events.js';

export interface ArgoNode {
  readonly id: string;
  readonly name: string;
  readonly displayName?: string;
  readonly type?: string;
  readonly templateName?: string;
  readonly phase?: string;
  readonly message?: string;
  readonly startedAt?: string | null;
  readonly finishedAt?: string | null;
  readonly children?: readonly string[];
}

export interface ArgoWorkflowObject {
  readonly metadata: {
    readonly name?: string;
    readonly namespace?: string;
    readonly resourceVersion?: string;
    readonly labels?: Record<string, string>;
  };
  readonly spec?: { readonly shutdown?: string; readonly activeDeadlineSeconds?: number };
  readonly status?: {
    readonly phase?: string;
    readonly message?: string;
    readonly startedAt?: string | null;
    readonly finishedAt?: string | null;
    readonly nodes?: Readonly<Record<string, ArgoNode>>;
  };
}

export interface ClusterStepStatus {
  readonly state: StepState;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly message?: string;
  /** Argo node name of the pod that runs the step's code (for its logs). */
  readonly executorNode?: string;
}

export interface ClusterRunStatus {
  readonly state: RunState;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly message?: string;
  readonly steps: ReadonlyMap<string, ClusterStepStatus>;
}

const EXECUTOR_DAG = 'system-container-executor';
const EXECUTOR_POD = 'system-container-impl';

function runStateOf(workflow: ArgoWorkflowObject): RunState {
  const phase = workflow.status?.phase;
  // KFP terminates a run by setting the workflow's deadline to 0 (Argo's `shutdown` does the same job).
  const stopped =
    (workflow.spec?.shutdown !== undefined && workflow.spec.shutdown !== '') ||
    workflow.spec?.activeDeadlineSeconds === 0;
  switch (phase) {
    case 'Succeeded':
      return 'succeeded';
    case 'Failed':
    case 'Error':
      return stopped ? 'cancelled' : 'failed';
    case 'Running':
      return 'running';
    default:
      return 'queued';
  }
}

/** `tasks` maps step name -> KFP task name. */
export function readWorkflowStatus(
  workflow: ArgoWorkflowObject,
  tasks: ReadonlyMap<string, string>,
): ClusterRunStatus {
  const nodes = Object.values(workflow.status?.nodes ?? {});
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const run = runStateOf(workflow);
  const steps = new Map<string, ClusterStepStatus>();
  for (const [step, task] of tasks) {
    const node =
      nodes.find((n) => n.displayName === task && n.templateName === EXECUTOR_DAG) ??
      nodes.find((n) => n.displayName === task && n.type === 'Pod');
    const executor =
      node === undefined
        ? undefined
        : node.type === 'Pod'
          ? node
          : (node.children ?? [])
              .map((c) => byId.get(c))
              .find((c) => c?.templateName === EXECUTOR_POD);
    const base = { startedAt: node?.startedAt ?? null, finishedAt: node?.finishedAt ?? null };
    let state: StepState;
    switch (node?.phase) {
      case undefined:
      case 'Pending':
        state = run === 'failed' || run === 'cancelled' ? 'cancelled' : 'queued';
        break;
      case 'Running':
        state =
          executor?.phase === 'Running' || executor?.phase === 'Succeeded' ? 'running' : 'queued';
        break;
      case 'Succeeded':
        state =
          executor === undefined || executor.phase === 'Skipped' || executor.phase === 'Omitted'
            ? 'cached'
            : 'succeeded';
        break;
      case 'Failed':
      case 'Error':
        state = run === 'cancelled' ? 'cancelled' : 'failed';
        break;
      default:
        state = 'cancelled';
    }
    if (
      (run === 'failed' || run === 'cancelled') &&
      (state === 'queued' || state === 'running') &&
      workflow.status?.finishedAt
    ) {
      state = 'cancelled';
    }
    const message = executor?.message ?? node?.message;
    steps.set(step, {
      state,
      ...base,
      ...(message !== undefined && message !== '' ? { message } : {}),
      ...(executor !== undefined ? { executorNode: executor.name } : {}),
    });
  }
  return {
    state: run,
    startedAt: workflow.status?.startedAt ?? null,
    finishedAt: workflow.status?.finishedAt ?? null,
    ...(workflow.status?.message !== undefined ? { message: workflow.status.message } : {}),
    steps,
  };
}

/** KFP v2beta1 RuntimeState as Cellflow step states (a skipped task is one KFP took from its cache). */
const KFP_STEP_STATES: Readonly<Record<string, StepState>> = {
  SUCCEEDED: 'succeeded',
  SKIPPED: 'cached',
  FAILED: 'failed',
  CANCELED: 'cancelled',
  CANCELING: 'cancelled',
  RUNNING: 'running',
};

export function stepStateOfKfp(state: string | undefined): StepState {
  return KFP_STEP_STATES[state ?? ''] ?? 'queued';
}

/** A run's RuntimeState: like a step's, except that a skipped (fully cached) run succeeded. */
export function runStateOfKfp(state: string | undefined): RunState {
  const step = stepStateOfKfp(state);
  return step === 'cached' ? 'succeeded' : step;
}
