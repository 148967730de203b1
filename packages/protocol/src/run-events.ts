/**
 * The runner-events protocol: what a backend reports about a run while it happens. Editors (VS Code,
 * JupyterLab through the agent) and the CLI render these and nothing else. Plain JSON data, stable:
 * add fields, never change the meaning of one.
 */

/** A step's life: `queued` -> `running` -> `succeeded` | `failed`, or straight to `cached` / `cancelled`. */
export type StepState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cached' | 'cancelled';

export type RunState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export const TERMINAL_STEP_STATES: readonly StepState[] = [
  'succeeded',
  'failed',
  'cached',
  'cancelled',
];
export const TERMINAL_RUN_STATES: readonly RunState[] = ['succeeded', 'failed', 'cancelled'];

export function isTerminalStepState(state: StepState): boolean {
  return TERMINAL_STEP_STATES.includes(state);
}

export function isTerminalRunState(state: RunState): boolean {
  return TERMINAL_RUN_STATES.includes(state);
}

/** Why a step failed, located in the notebook when the failure is in a cell. */
export interface StepFailure {
  /**
   * `exception` (the cell code raised), `exit` (the process ended without finishing: `os._exit`,
   * a crash, a signal), `timeout`, `launch` (the interpreter could not start), or a runtime kind
   * such as `missing-output`, `unpicklable`, `load-failed`, `bad-parameter`.
   */
  readonly kind: string;
  /** One paragraph for the user: what went wrong, where, and the fix when one is known. */
  readonly message: string;
  /** 0-based notebook cell index, when the failure is in a cell. */
  readonly cell: number | null;
  /** 1-based line within that cell. */
  readonly line: number | null;
  /** Python exception type (`ZeroDivisionError`), for `exception`. */
  readonly type?: string;
  /** Python traceback with frames named `<cell N>`, as Jupyter would show it. */
  readonly traceback?: string;
  readonly exitCode?: number | null;
  readonly signal?: string | null;
}

/** Metric values by metric name (`best-accuracy`). Non-numeric values stay strings. */
export type MetricValues = Readonly<Record<string, number | string>>;

/** A step's saved variables by name: where the cluster keeps each (URI) and its Python type. */
export type StepOutputs = Readonly<Record<string, { readonly uri: string; readonly type: string }>>;

interface EventBase {
  readonly runId: string;
  /** Position in the run's event stream, from 0: replaying in `seq` order rebuilds every state. */
  readonly seq: number;
  /** ISO-8601 time the event happened. */
  readonly time: string;
}

export interface RunStateEvent extends EventBase {
  readonly type: 'run';
  readonly state: RunState;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
  /** Metrics reported so far (all of them once the run has finished). */
  readonly metrics: MetricValues;
  /** Set when the run failed or was cancelled: a sentence for the user. */
  readonly reason?: string;
}

export interface StepStateEvent extends EventBase {
  readonly type: 'step';
  readonly step: string;
  readonly state: StepState;
  /** 1 for the first try; retries count up. 0 when the step never started (queued, cached, cancelled). */
  readonly attempt: number;
  /** Attempts allowed: 1 + the step's `retries:`. */
  readonly maxAttempts: number;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
  /** For `failed`: true when another attempt follows. */
  readonly retrying?: boolean;
  readonly failure?: StepFailure;
  /** For `cached`: the earlier run whose outputs were reused. */
  readonly cachedFrom?: string;
  /** For `cancelled`: why (the user cancelled, an upstream step failed). */
  readonly reason?: string;
  /** For `running`: the GPUs the step was pinned to (`CUDA_VISIBLE_DEVICES`). */
  readonly gpus?: readonly number[];
  /** For `succeeded` and `cached`: the step's metrics. */
  readonly metrics?: MetricValues;
  /** For `succeeded` on a cluster: where each saved variable is kept, and its type. */
  readonly outputs?: StepOutputs;
}

export type RunEvent = RunStateEvent | StepStateEvent;
