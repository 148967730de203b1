/**
 * A study on this machine: trials are ordinary local runs of the pipeline with the trial's
 * parameter values, several at once. Steps that do not depend on the searched parameters are the
 * same in every trial, so the step cache runs them once: the first trial runs alone until they are
 * done, then the others start and reuse them.
 *
 * Reproducible: trial `i`'s values depend only on the seed and on the results of trials
 * `0..i-parallelTrials` (it waits for those), never on which trial happened to finish first.
 */
import {
  isBetterObjective,
  suggestTrial,
  trialBudgetOf,
  type CompiledPipeline,
  type ParameterValue,
  type PipelineGraph,
  type StudySpec,
  type TrialAssignment,
  type TrialResult,
} from '@cellflow/core';
import type {
  RunOptions,
  RunRef,
  StudyEvent,
  StudyState,
  StudySummary,
  TrialCounts,
  TrialState,
  TrialSummary,
} from '../backend.js';
import { isTerminalRunState, isTerminalStepState, type RunEvent } from '../run-events.js';

/** What a study needs from the backend that runs its trials. */
export interface TrialRunner {
  submit(pipeline: CompiledPipeline, opts: RunOptions): Promise<RunRef>;
  watch(run: RunRef): AsyncIterable<RunEvent>;
  cancel(run: RunRef): Promise<void>;
}

export interface LocalStudyOptions {
  readonly id: string;
  readonly pipeline: CompiledPipeline;
  readonly spec: StudySpec;
  readonly runner: TrialRunner;
  readonly notebookPath: string | null;
  /** Values of parameters that are not searched. */
  readonly parameters: Readonly<Record<string, ParameterValue>>;
  readonly cpuOnly: boolean;
  /** Steps at once per trial run. */
  readonly concurrency: number;
  /** Called with the summary after every change (persists it). */
  readonly save: (summary: StudySummary, event: StudyEvent) => Promise<void>;
}

/** Steps whose results do not depend on any searched parameter (shared by every trial). */
export function stepsIndependentOf(graph: PipelineGraph, names: readonly string[]): Set<string> {
  const tuned = new Set(names);
  const dependent = new Set<string>();
  for (const step of graph.steps) {
    if (step.parameters.some((p) => tuned.has(p)) || step.after.some((a) => dependent.has(a)))
      dependent.add(step.name);
  }
  return new Set(graph.steps.map((s) => s.name).filter((n) => !dependent.has(n)));
}

/** Whether trials 0..last all have results (a plain loop: `every` skips the holes of a sparse array). */
function allFinished(results: readonly (TrialResult | undefined)[], last: number): boolean {
  for (let i = 0; i <= last; i++) if (results[i] === undefined) return false;
  return true;
}

export function countTrials(trials: readonly TrialSummary[]): TrialCounts {
  const count = (s: TrialState): number => trials.filter((t) => t.state === s).length;
  return {
    pending: count('pending'),
    running: count('running'),
    succeeded: count('succeeded'),
    failed: count('failed'),
    earlyStopped: count('early-stopped'),
    cancelled: count('cancelled'),
  };
}

export class LocalStudy {
  private readonly trials: TrialSummary[] = [];
  private readonly runs = new Map<number, RunRef>();
  private best: TrialSummary | null = null;
  private state: StudyState = 'running';
  private reason: string | undefined;
  private finishedAt: string | null = null;
  private readonly createdAt = new Date().toISOString();
  private readonly events: StudyEvent[] = [];
  private readonly listeners = new Set<() => void>();
  private cancelled = false;
  private saving: Promise<void> = Promise.resolve();
  /** Resolves when the study is over and saved. */
  readonly finished: Promise<void>;

  constructor(private readonly o: LocalStudyOptions) {
    this.events.push({ type: 'study', study: this.summary() });
    this.finished = this.loop().then(
      () => this.saving,
      async (error: unknown) => {
        this.end('failed', `The study stopped: ${String(error)}`);
        await this.saving;
      },
    );
  }

  get id(): string {
    return this.o.id;
  }

  get isDone(): boolean {
    return this.state !== 'running';
  }

  /** Every event so far (a `study` snapshot first). */
  eventsFrom(index: number): readonly StudyEvent[] {
    return this.events.slice(index);
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  summary(): StudySummary {
    return {
      id: this.o.id,
      pipeline: this.o.pipeline.graph.pipeline.name,
      state: this.state,
      target: 'local',
      spec: this.o.spec,
      createdAt: this.createdAt,
      finishedAt: this.finishedAt,
      notebookPath: this.o.notebookPath,
      trials: [...this.trials],
      best: this.best,
      counts: countTrials(this.trials),
      ...(this.reason !== undefined ? { reason: this.reason } : {}),
    };
  }

  async cancel(): Promise<void> {
    if (this.isDone) return;
    this.cancelled = true;
    await Promise.all([...this.runs.values()].map((r) => this.o.runner.cancel(r).catch(() => {})));
    await this.finished;
  }

  private emit(event: StudyEvent): void {
    this.events.push(event);
    const summary = this.summary();
    this.saving = this.saving.then(() => this.o.save(summary, event)).catch(() => {});
    for (const l of [...this.listeners]) l();
  }

  private end(state: StudyState, reason?: string): void {
    if (this.isDone) return;
    this.state = state;
    this.reason = reason;
    this.finishedAt = new Date().toISOString();
    this.emit({ type: 'study', study: this.summary() });
  }

  private setTrial(trial: TrialSummary): void {
    this.trials[trial.index] = trial;
    this.emit({ type: 'trial', studyId: this.o.id, trial });
    if (
      trial.state === 'succeeded' &&
      trial.objective !== null &&
      isBetterObjective(this.o.spec, trial.objective, this.best?.objective ?? null)
    ) {
      this.best = trial;
      this.emit({ type: 'best', studyId: this.o.id, trial });
    }
  }

  private async loop(): Promise<void> {
    const { spec } = this.o;
    const budget = trialBudgetOf(spec);
    const parallel = Math.max(1, Math.min(spec.parallelTrials, budget));
    const results: (TrialResult | undefined)[] = [];
    const done: Promise<void>[] = [];
    const finishedOne: (() => void)[] = [];
    let wake: Promise<void> = new Promise((r) => finishedOne.push(r));
    const waitForAFinish = async (): Promise<void> => {
      await wake;
    };
    const onFinish = (): void => {
      const resolve = finishedOne.shift();
      wake = new Promise((r) => finishedOne.push(r));
      resolve?.();
    };
    let running = 0;
    let sharedReady: Promise<void> = Promise.resolve();
    for (let index = 0; index < budget; index++) {
      // Reproducible suggestions: wait for every trial up to index - parallel.
      for (;;) {
        if (this.shouldStop()) break;
        const known = index - parallel;
        const ready = running < parallel && allFinished(results, known);
        if (ready) break;
        await waitForAFinish();
      }
      if (this.shouldStop()) break;
      if (index === 1) await sharedReady;
      if (this.shouldStop()) break;
      const history = results
        .slice(0, Math.max(0, index - parallel + 1))
        .filter((r): r is TrialResult => r !== undefined);
      const assignment = suggestTrial(spec, index, history);
      running++;
      const started = this.runTrial(index, assignment);
      if (index === 0) sharedReady = started.sharedDone;
      done.push(
        started.result.then((result) => {
          results[index] = result;
          running--;
          onFinish();
        }),
      );
    }
    await Promise.all(done);
    if (this.cancelled) this.end('cancelled', 'Cancelled.');
    else if (this.tooManyFailures())
      this.end(
        'failed',
        `${countTrials(this.trials).failed} trials failed (the study allows ${spec.maxFailedTrials}).`,
      );
    else if (this.best === null)
      this.end('failed', 'No trial succeeded with a value of the objective.');
    else this.end('succeeded');
  }

  private tooManyFailures(): boolean {
    return countTrials(this.trials).failed > this.o.spec.maxFailedTrials;
  }

  private goalReached(): boolean {
    const { goalValue } = this.o.spec;
    if (
      goalValue === undefined ||
      this.best?.objective === undefined ||
      this.best.objective === null
    )
      return false;
    return this.o.spec.goal === 'maximize'
      ? this.best.objective >= goalValue
      : this.best.objective <= goalValue;
  }

  private shouldStop(): boolean {
    return this.cancelled || this.tooManyFailures() || this.goalReached();
  }

  /** Starts trial `index`; `sharedDone` resolves once the steps every trial shares are done. */
  private runTrial(
    index: number,
    parameters: TrialAssignment,
  ): { result: Promise<TrialResult>; sharedDone: Promise<void> } {
    const id = `${this.o.id}-t${String(index).padStart(3, '0')}`;
    const base: TrialSummary = {
      id,
      index,
      parameters,
      state: 'pending',
      metrics: {},
      objective: null,
      startedAt: null,
      finishedAt: null,
    };
    this.setTrial(base);
    const shared = stepsIndependentOf(
      this.o.pipeline.graph,
      this.o.spec.parameters.map((p) => p.name),
    );
    let markShared: () => void = () => {};
    const sharedDone = new Promise<void>((r) => (markShared = r));
    const result = (async (): Promise<TrialResult> => {
      let trial = base;
      try {
        const ref = await this.o.runner.submit(this.o.pipeline, {
          parameters: { ...this.o.parameters, ...parameters },
          ...(this.o.notebookPath !== null ? { notebookPath: this.o.notebookPath } : {}),
          cpuOnly: this.o.cpuOnly,
          concurrency: this.o.concurrency,
        });
        this.runs.set(index, ref);
        trial = { ...trial, runId: ref.id, state: 'running', startedAt: new Date().toISOString() };
        this.setTrial(trial);
        const pendingShared = new Set(shared);
        let stepFailure: string | undefined;
        if (pendingShared.size === 0) markShared();
        for await (const event of this.o.runner.watch(ref)) {
          if (event.type === 'step' && isTerminalStepState(event.state)) {
            pendingShared.delete(event.step);
            if (pendingShared.size === 0) markShared();
          }
          if (
            event.type === 'step' &&
            event.state === 'failed' &&
            event.retrying !== true &&
            stepFailure === undefined
          )
            stepFailure = `Step \`${event.step}\` failed: ${event.failure?.message ?? 'see its log'}`;
          if (event.type === 'run' && isTerminalRunState(event.state)) {
            const value = event.metrics[this.o.spec.objective];
            const objective = typeof value === 'number' && Number.isFinite(value) ? value : null;
            const state: TrialState =
              event.state === 'succeeded' && objective !== null
                ? 'succeeded'
                : event.state === 'cancelled'
                  ? 'cancelled'
                  : 'failed';
            const reason =
              event.state === 'succeeded' && objective === null
                ? `The run reported no numeric \`${this.o.spec.objective}\` (metrics: ${Object.keys(event.metrics).join(', ') || 'none'}).`
                : (stepFailure ?? event.reason);
            trial = {
              ...trial,
              state,
              metrics: event.metrics,
              objective: state === 'succeeded' ? objective : null,
              finishedAt: event.finishedAt ?? new Date().toISOString(),
              ...(reason !== undefined ? { reason } : {}),
            };
          }
        }
      } catch (error) {
        trial = {
          ...trial,
          state: 'failed',
          finishedAt: new Date().toISOString(),
          reason: error instanceof Error ? error.message : String(error),
        };
      } finally {
        this.runs.delete(index);
        markShared();
      }
      if (trial.state === 'running' || trial.state === 'pending')
        trial = {
          ...trial,
          state: 'failed',
          reason: trial.reason ?? 'The run ended without a result.',
        };
      this.setTrial(trial);
      return { parameters, objective: trial.state === 'succeeded' ? trial.objective : null };
    })();
    return { result, sharedDone };
  }
}
