/**
 * Live status of a cluster run, pushed: a list-watch on the run's Argo Workflow (label
 * `pipeline/runid`, see ./kube-watch.ts), resumed from the last resourceVersion when the connection
 * drops and relisted on 410 Gone. When the user may not watch workflows, the KFP API is polled
 * instead.
 */
import { stepTasksOfPipelineSpec, type StepReport } from '@cellflow/core';
import type { RunRef } from '../backend.js';
import type { RunEvent, RunState, StepFailure, StepState } from '../run-events.js';
import { isTerminalRunState } from '../run-events.js';
import { clusterError } from './cluster-errors.js';
import { failureFromStepLog } from './step-logs.js';
import { readStepReports } from './step-reports.js';
import type { KfpClient, KfpRun } from './kfp-client.js';
import { HttpError, type KubeConnection } from './kube-connection.js';
import { EventQueue, watchCollection, type WatchRestart } from './kube-watch.js';
import { runWorkflowSelector, WORKFLOWS } from './run-resources.js';
import {
  readWorkflowStatus,
  runStateOfKfp,
  stepStateOfKfp,
  type ArgoWorkflowObject,
  type ClusterStepStatus,
} from './workflow-states.js';

const POLL_MS = 1000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Step name -> KFP task name, from the run's pipeline spec. */
function tasksOfRun(run: KfpRun): Map<string, string> {
  const spec = (run as { pipeline_spec?: Record<string, unknown> }).pipeline_spec ?? {};
  const inner = (spec.pipeline_spec as Record<string, unknown> | undefined) ?? spec;
  return new Map(stepTasksOfPipelineSpec(inner).map(({ step, task }) => [step, task]));
}

/** Turns successive snapshots into events: only what changed, in order, numbered. */
class EventDiffer {
  private seq = 0;
  private run: RunState | undefined;
  private readonly steps = new Map<string, StepState>();
  constructor(private readonly runId: string) {}

  diff(
    state: RunState,
    steps: ReadonlyMap<string, ClusterStepStatus>,
    times: { startedAt: string | null; finishedAt: string | null; reason?: string },
  ): RunEvent[] {
    const events: RunEvent[] = [];
    const time = new Date().toISOString();
    for (const [step, s] of steps) {
      if (this.steps.get(step) === s.state) continue;
      this.steps.set(step, s.state);
      const started = s.state !== 'queued' && s.state !== 'cached' && s.state !== 'cancelled';
      const failure: StepFailure | undefined =
        s.state === 'failed'
          ? {
              kind: 'exit',
              message: s.message ?? `Step \`${step}\` failed on the cluster.`,
              cell: null,
              line: null,
            }
          : undefined;
      events.push({
        type: 'step',
        runId: this.runId,
        seq: this.seq++,
        time,
        step,
        state: s.state,
        attempt: started ? 1 : 0,
        maxAttempts: 1,
        startedAt: s.startedAt,
        finishedAt: s.finishedAt,
        durationMs:
          s.startedAt !== null && s.finishedAt !== null
            ? Date.parse(s.finishedAt) - Date.parse(s.startedAt)
            : null,
        ...(failure !== undefined ? { failure } : {}),
      });
    }
    if (this.run !== state) {
      this.run = state;
      const durationMs =
        times.startedAt !== null && times.finishedAt !== null
          ? Date.parse(times.finishedAt) - Date.parse(times.startedAt)
          : null;
      events.push({
        type: 'run',
        runId: this.runId,
        seq: this.seq++,
        time,
        state,
        startedAt: times.startedAt,
        finishedAt: times.finishedAt,
        durationMs,
        metrics: {},
        ...(times.reason !== undefined && (state === 'failed' || state === 'cancelled')
          ? { reason: times.reason }
          : {}),
      });
    }
    return events;
  }
}

export async function* watchClusterRun(
  kube: KubeConnection,
  kfp: KfpClient,
  run: RunRef,
  watchTimeoutSeconds = 300,
  onRestart?: (how: WatchRestart) => void,
): AsyncIterable<RunEvent> {
  const fail = (error: unknown, doing: string): Error =>
    clusterError(error, { doing, server: kube.server, context: kube.contextName });
  let kfpRun: KfpRun;
  try {
    kfpRun = await kfp.getRun(run.id);
  } catch (error) {
    throw fail(error, `read run ${run.id}`);
  }
  const tasks = tasksOfRun(kfpRun);
  const differ = new EventDiffer(run.id);
  const queued = new Map<string, ClusterStepStatus>(
    [...tasks.keys()].map((s) => [s, { state: 'queued', startedAt: null, finishedAt: null }]),
  );
  yield* differ.diff(runStateOfKfp(kfpRun.state) === 'queued' ? 'queued' : 'running', queued, {
    startedAt: null,
    finishedAt: null,
  });

  const snapshot = (workflow: ArgoWorkflowObject): { events: RunEvent[]; done: boolean } => {
    const status = readWorkflowStatus(workflow, tasks);
    const times = {
      startedAt: status.startedAt,
      finishedAt: status.finishedAt,
      ...(status.message !== undefined ? { reason: status.message } : {}),
    };
    return {
      events: differ.diff(status.state, status.steps, times),
      done: isTerminalRunState(status.state),
    };
  };

  const queue = new EventQueue<RunEvent>();
  const controller = new AbortController();
  let finished = false;
  let failure: unknown;
  let ended = false;
  const follow = (workflow: ArgoWorkflowObject): void => {
    if (finished) return;
    const { events, done } = snapshot(workflow);
    queue.push(...events);
    if (done) finished = true;
  };
  const watching = watchCollection<ArgoWorkflowObject>(
    kube,
    {
      resource: WORKFLOWS,
      namespace: kube.namespace,
      labelSelector: runWorkflowSelector(run),
      timeoutSeconds: watchTimeoutSeconds,
      onChange: (type, workflow) => {
        if (finished) return;
        if (type === 'DELETED') {
          finished = true;
          queue.push(
            ...differ.diff('cancelled', new Map(), {
              startedAt: null,
              finishedAt: new Date().toISOString(),
              reason: 'The run was deleted.',
            }),
          );
        } else follow(workflow);
        if (finished) controller.abort();
      },
      ...(onRestart !== undefined ? { onRestart } : {}),
    },
    controller.signal,
  )
    .catch((error: unknown) => {
      failure = error;
    })
    .finally(() => {
      ended = true;
      queue.notify();
    });
  const reported = new StepReportsOfRun(kube, run, tasks);
  try {
    while (!ended) {
      await queue.next();
      yield* await reported.add(await withFailureDetails(kube, run, tasks, queue.take()));
    }
    yield* await reported.add(await withFailureDetails(kube, run, tasks, queue.take()));
    if (finished) return;
    if (failure instanceof HttpError && failure.status === 403) {
      // Without permission to watch workflows: the KFP API's view of the run.
      for await (const event of pollKfp(kfp, run, tasks, differ))
        yield* await reported.add([event]);
      return;
    }
    throw fail(failure, `watch run ${run.id}`);
  } finally {
    // The consumer stopped or the run ended: no request or timer is left behind.
    controller.abort();
    await watching;
  }
}

/**
 * Succeeded steps get the metrics and outputs they reported in their log; the run's last event
 * gets every step's metrics.
 */
class StepReportsOfRun {
  private readonly metrics: Record<string, number | string> = {};
  constructor(
    private readonly kube: KubeConnection,
    private readonly run: RunRef,
    private readonly tasks: ReadonlyMap<string, string>,
  ) {}

  async add(events: readonly RunEvent[]): Promise<RunEvent[]> {
    const succeeded = new Map<string, string>();
    for (const e of events)
      if (e.type === 'step' && e.state === 'succeeded')
        succeeded.set(e.step, this.tasks.get(e.step) ?? e.step);
    const reports =
      succeeded.size > 0
        ? await readStepReports(this.kube, this.run, succeeded).then(
            (read) => read.reports,
            () => new Map<string, StepReport>(),
          )
        : new Map<string, StepReport>();
    return events.map((e) => {
      if (e.type === 'step') {
        const report = reports.get(e.step);
        if (report === undefined) return e;
        Object.assign(this.metrics, report.metrics);
        return {
          ...e,
          ...(Object.keys(report.metrics).length > 0 ? { metrics: report.metrics } : {}),
          ...(Object.keys(report.artifacts).length > 0 ? { outputs: report.artifacts } : {}),
        };
      }
      return isTerminalRunState(e.state) ? { ...e, metrics: { ...this.metrics } } : e;
    });
  }
}

/** Failed steps get the notebook cell and line of the failure, from the end of their log. */
async function withFailureDetails(
  kube: KubeConnection,
  run: RunRef,
  tasks: ReadonlyMap<string, string>,
  events: readonly RunEvent[],
): Promise<RunEvent[]> {
  return Promise.all(
    events.map(async (e) =>
      e.type === 'step' && e.state === 'failed' && e.failure !== undefined
        ? {
            ...e,
            failure: await failureFromStepLog(
              kube,
              run,
              tasks.get(e.step) ?? e.step,
              e.step,
              e.failure,
            ),
          }
        : e,
    ),
  );
}

/** Without permission to watch workflows: the KFP API's view of the run, once a second. */
async function* pollKfp(
  kfp: KfpClient,
  run: RunRef,
  tasks: ReadonlyMap<string, string>,
  differ: EventDiffer,
): AsyncIterable<RunEvent> {
  for (;;) {
    const current = await kfp.getRun(run.id);
    const state = runStateOfKfp(current.state);
    const steps = new Map<string, ClusterStepStatus>();
    for (const [step, task] of tasks) {
      const detail = current.run_details?.task_details?.find((t) => t.display_name === task);
      steps.set(step, {
        state: stepStateOfKfp(detail?.state),
        startedAt: detail?.start_time ?? null,
        finishedAt: detail?.end_time ?? null,
        ...(detail?.error?.message !== undefined ? { message: detail.error.message } : {}),
      });
    }
    yield* differ.diff(state, steps, {
      startedAt: current.created_at ?? null,
      finishedAt: current.finished_at ?? null,
      ...(current.error?.message !== undefined ? { reason: current.error.message } : {}),
    });
    if (isTerminalRunState(state)) return;
    await sleep(POLL_MS);
  }
}
