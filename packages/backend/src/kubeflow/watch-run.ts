/**
 * Live status of a cluster run, pushed: a watch on the run's Argo Workflow (label
 * `pipeline/runid`), resumed from the last resourceVersion when the connection drops and relisted
 * on 410 Gone. When the user may not watch workflows, the KFP API is polled instead.
 */
import type { RunRef } from '../backend.js';
import type { RunEvent, RunState, StepFailure, StepState } from '../run-events.js';
import { isTerminalRunState } from '../run-events.js';
import { clusterError } from './cluster-errors.js';
import { failureFromStepLog } from './step-logs.js';
import type { KfpClient, KfpRun } from './kfp-client.js';
import { HttpError, type KubeConnection } from './kube-connection.js';
import {
  readWorkflowStatus,
  runStateOfKfp,
  stepStateOfKfp,
  type ArgoWorkflowObject,
  type ClusterStepStatus,
} from './workflow-states.js';

/** How a watch went on after its connection ended: from its last version, or from a new list (410 Gone). */
export type WatchRestart = 'resumed' | 'relisted';

const WORKFLOWS = (ns: string): string =>
  `/apis/argoproj.io/v1alpha1/namespaces/${encodeURIComponent(ns)}/workflows`;
const POLL_MS = 1000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function selector(run: RunRef): string {
  return encodeURIComponent(`pipeline/runid=${run.id}`);
}

export async function findRunWorkflow(
  kube: KubeConnection,
  run: RunRef,
): Promise<ArgoWorkflowObject | undefined> {
  const list = await kube.request<{ items: ArgoWorkflowObject[] }>(
    'GET',
    `${WORKFLOWS(kube.namespace)}?labelSelector=${selector(run)}`,
  );
  return list.items[0];
}

/** Step name -> KFP task name, from the run's pipeline spec. */
function tasksOfRun(run: KfpRun): Map<string, string> {
  const spec = (run as { pipeline_spec?: Record<string, unknown> }).pipeline_spec ?? {};
  const inner = (spec.pipeline_spec as Record<string, unknown> | undefined) ?? spec;
  const tasks =
    (inner.root as { dag?: { tasks?: Record<string, unknown> } } | undefined)?.dag?.tasks ?? {};
  return new Map(Object.keys(tasks).map((t) => [t.replace(/-/g, '_'), t]));
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

/** A queue that an async generator drains while callbacks fill it. */
class EventQueue<T> {
  private readonly items: T[] = [];
  private wake: (() => void) | undefined;
  push(...items: T[]): void {
    this.items.push(...items);
    this.wake?.();
  }
  async next(): Promise<void> {
    if (this.items.length > 0) return;
    await new Promise<void>((resolve) => (this.wake = resolve));
    this.wake = undefined;
  }
  take(): T[] {
    return this.items.splice(0);
  }
  notify(): void {
    this.wake?.();
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

  let resourceVersion: string | undefined;
  let failures = 0;
  for (;;) {
    // List: the current state, and the resourceVersion a watch resumes from.
    let list: { metadata?: { resourceVersion?: string }; items: ArgoWorkflowObject[] };
    try {
      list = await kube.request(
        'GET',
        `${WORKFLOWS(kube.namespace)}?labelSelector=${selector(run)}`,
      );
    } catch (error) {
      if (error instanceof HttpError && error.status === 403) {
        yield* pollKfp(kfp, run, tasks, differ);
        return;
      }
      throw fail(error, `list the workflow of run ${run.id}`);
    }
    resourceVersion = list.metadata?.resourceVersion;
    const current = list.items[0];
    if (current !== undefined) {
      const { events, done } = snapshot(current);
      yield* await withFailureDetails(kube, run, tasks, events);
      if (done) return;
    }
    // Watch from there; on a dropped connection resume from the last version seen.
    let relist = false;
    while (!relist) {
      const queue = new EventQueue<RunEvent>();
      const controller = new AbortController();
      let finished = false;
      let streamError: unknown;
      let ended = false;
      const path =
        `${WORKFLOWS(kube.namespace)}?watch=1&allowWatchBookmarks=true&timeoutSeconds=${watchTimeoutSeconds}&labelSelector=${selector(run)}` +
        (resourceVersion !== undefined
          ? `&resourceVersion=${encodeURIComponent(resourceVersion)}`
          : '');
      kube
        .stream(
          path,
          (line) => {
            if (line.trim() === '') return;
            let event: {
              type?: string;
              object?: {
                code?: number;
                metadata?: { resourceVersion?: string };
              } & ArgoWorkflowObject;
            };
            try {
              event = JSON.parse(line) as typeof event;
            } catch {
              return;
            }
            if (event.type === 'ERROR') {
              if (event.object?.code === 410) relist = true;
              controller.abort();
              return;
            }
            const rv = event.object?.metadata?.resourceVersion;
            if (rv !== undefined) resourceVersion = rv;
            if (event.type === 'BOOKMARK' || event.object === undefined) return;
            if (event.type === 'DELETED') {
              finished = true;
              queue.push(
                ...differ.diff('cancelled', new Map(), {
                  startedAt: null,
                  finishedAt: new Date().toISOString(),
                  reason: 'The run was deleted.',
                }),
              );
              controller.abort();
              return;
            }
            const { events, done } = snapshot(event.object);
            queue.push(...events);
            if (done) {
              finished = true;
              controller.abort();
            }
          },
          controller.signal,
        )
        .catch((error: unknown) => {
          streamError = error;
        })
        .finally(() => {
          ended = true;
          queue.notify();
        });
      while (!ended) {
        await queue.next();
        yield* await withFailureDetails(kube, run, tasks, queue.take());
      }
      yield* await withFailureDetails(kube, run, tasks, queue.take());
      if (finished) return;
      if (streamError !== undefined) {
        if (streamError instanceof HttpError && streamError.status === 410) relist = true;
        else if (streamError instanceof HttpError && streamError.status === 403) {
          yield* pollKfp(kfp, run, tasks, differ);
          return;
        } else if (++failures > 8) throw fail(streamError, `watch run ${run.id}`);
        else await sleep(Math.min(250 * 2 ** failures, 4000));
      } else failures = 0;
      onRestart?.(relist ? 'relisted' : 'resumed');
    }
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
