/**
 * A run's state as its events tell it: the one fold of `RunEvent`s that the editors and the CLI
 * share. Pure: each function returns a new value and leaves its arguments alone.
 */
import type {
  MetricValues,
  RunEvent,
  RunState,
  RunStateEvent,
  StepFailure,
  StepOutputs,
  StepState,
  StepStateEvent,
} from './run-events.js';

/** A step as its events so far tell it. */
export interface StepProgress {
  readonly name: string;
  readonly state: StepState;
  /** 1 for the first try; 0 until the step starts. */
  readonly attempt: number;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
  /** Why the step failed, while it is `failed`. */
  readonly failure?: StepFailure;
  readonly cachedFrom?: string;
  readonly metrics?: MetricValues;
  readonly outputs?: StepOutputs;
  /** Why it was cancelled. */
  readonly reason?: string;
}

/** The run-level part of a run's state. */
export interface RunStatus {
  readonly state: RunState;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
  readonly metrics: MetricValues;
  /** Why the run failed or was cancelled. */
  readonly reason?: string;
}

/** A run as its events so far tell it: the run's status and its steps in pipeline order. */
export interface RunProgress extends RunStatus {
  readonly id: string;
  readonly steps: readonly StepProgress[];
}

/** A step that has not started yet. */
export function queuedStep(name: string): StepProgress {
  return {
    name,
    state: 'queued',
    attempt: 0,
    startedAt: null,
    finishedAt: null,
    durationMs: null,
  };
}

/** A run just submitted: queued, every step queued. */
export function queuedRun(id: string, steps: readonly string[]): RunProgress {
  return {
    id,
    state: 'queued',
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    metrics: {},
    steps: steps.map(queuedStep),
  };
}

/** A run's status with a run event applied (any extra fields of `run` are kept; a reason stays). */
export function applyRunStatusEvent<R extends RunStatus>(run: R, event: RunStateEvent): R {
  const reason = event.reason ?? run.reason;
  return {
    ...run,
    state: event.state,
    startedAt: event.startedAt,
    finishedAt: event.finishedAt,
    durationMs: event.durationMs,
    metrics: event.metrics,
    ...(reason !== undefined ? { reason } : {}),
  };
}

/**
 * A step with one of its events applied (any extra fields of `step` are kept). A failure stays
 * while the step is `failed` and goes when another attempt starts; a cancellation's reason is the
 * latest event's; results (metrics, outputs, the run a cached step came from) stay once reported.
 */
export function applyStepEvent<S extends StepProgress>(step: S, event: StepStateEvent): S {
  const { failure: previousFailure, reason: _reason, ...rest } = step;
  const failure = event.failure ?? (event.state === 'failed' ? previousFailure : undefined);
  return {
    ...rest,
    state: event.state,
    attempt: event.attempt,
    startedAt: event.startedAt,
    finishedAt: event.finishedAt,
    durationMs: event.durationMs,
    ...(failure !== undefined ? { failure } : {}),
    ...(event.cachedFrom !== undefined ? { cachedFrom: event.cachedFrom } : {}),
    ...(event.metrics !== undefined ? { metrics: event.metrics } : {}),
    ...(event.outputs !== undefined ? { outputs: event.outputs } : {}),
    ...(event.reason !== undefined ? { reason: event.reason } : {}),
  } as S;
}

/**
 * A run with one event applied. Events of another run leave it as it is; a step the run did not
 * list yet is added at the end.
 */
export function applyRunEvent(run: RunProgress, event: RunEvent): RunProgress {
  if (event.runId !== run.id) return run;
  if (event.type === 'run') return applyRunStatusEvent(run, event);
  const known = run.steps.some((s) => s.name === event.step);
  const steps = known
    ? run.steps.map((s) => (s.name === event.step ? applyStepEvent(s, event) : s))
    : [...run.steps, applyStepEvent(queuedStep(event.step), event)];
  return { ...run, steps };
}

/** The step of that name, if the run has it. */
export function stepOf(run: RunProgress, name: string): StepProgress | undefined {
  return run.steps.find((s) => s.name === name);
}
