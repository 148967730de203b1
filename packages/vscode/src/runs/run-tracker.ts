/**
 * Live state of the runs started from this window, fed with the backend's run events. Pure (no
 * `vscode`): the status bar, the Runs view and the tests read it.
 */
import {
  applyRunStatusEvent,
  applyStepEvent,
  queuedStep,
  type MetricValues,
  type RunEvent,
  type Backend,
  type RunRef,
  type RunState,
  type StepFailure,
  type StepOutputs,
  type StepState,
} from '@cellflow/protocol';

export interface TrackedStep {
  readonly name: string;
  readonly cells: readonly number[];
  state: StepState;
  attempt: number;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  failure?: StepFailure;
  cachedFrom?: string;
  /** Why it was cancelled. */
  reason?: string;
  metrics?: MetricValues;
  /** Cluster runs: saved variables' URIs and types. */
  outputs?: StepOutputs;
  /**
   * The failure no longer applies: a cell of the step changed since, or a later run (a study's
   * trial) ran the step successfully. The cells stop showing it.
   */
  dismissed?: boolean;
}

/** Where a run executes. */
export type RunTarget = 'local' | 'cluster';

export interface TrackedRun {
  readonly ref: RunRef;
  /** Pipeline name (`digits`). */
  readonly pipeline: string;
  readonly target: RunTarget;
  /** The backend the run went to (it watches, cancels and reads logs of the run). */
  readonly backend?: Backend;
  /** The notebook's URI as a string (the key the editor uses). */
  readonly notebook: string;
  state: RunState;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  reason?: string;
  metrics: MetricValues;
  readonly steps: Map<string, TrackedStep>;
}

export interface StepCells {
  readonly name: string;
  readonly cells: readonly number[];
}

type Listener = (run: TrackedRun) => void;

export class RunTracker {
  private readonly tracked = new Map<string, TrackedRun>();
  private readonly listeners = new Set<Listener>();

  /** Starts tracking a submitted run; every step is queued until an event says otherwise. */
  start(
    submitted: RunRef & { readonly pipeline: string },
    notebook: string,
    steps: readonly StepCells[],
    target: RunTarget = 'local',
    backend?: Backend,
  ): TrackedRun {
    const ref = { id: submitted.id };
    const run: TrackedRun = {
      ref,
      pipeline: submitted.pipeline,
      target,
      ...(backend !== undefined ? { backend } : {}),
      notebook,
      state: 'queued',
      startedAt: null,
      finishedAt: null,
      durationMs: null,
      metrics: {},
      steps: new Map(steps.map((s) => [s.name, { ...queuedStep(s.name), cells: s.cells }])),
    };
    this.tracked.set(ref.id, run);
    this.emit(run);
    return run;
  }

  apply(event: RunEvent): void {
    const run = this.tracked.get(event.runId);
    if (run === undefined) return;
    // The one fold of run events (`@cellflow/protocol`); a run's object stays the same.
    if (event.type === 'run') Object.assign(run, applyRunStatusEvent(run, event));
    else {
      const step = run.steps.get(event.step);
      if (step === undefined) return;
      run.steps.set(event.step, applyStepEvent(step, event));
    }
    this.emit(run);
  }

  get(runId: string): TrackedRun | undefined {
    return this.tracked.get(runId);
  }

  /** Newest first. */
  runs(): TrackedRun[] {
    return [...this.tracked.values()].reverse();
  }

  /** The newest run of a notebook. */
  latestFor(notebook: string): TrackedRun | undefined {
    return this.runs().find((r) => r.notebook === notebook);
  }

  /** The step of the newest run of `notebook` that contains cell `index` (not a dismissed failure). */
  stepAt(notebook: string, index: number): TrackedStep | undefined {
    const run = this.latestFor(notebook);
    if (run === undefined) return undefined;
    for (const step of run.steps.values())
      if (step.cells.includes(index)) return step.dismissed === true ? undefined : step;
    return undefined;
  }

  /**
   * Forgets failures of the newest run of `notebook` that no longer apply: of the failed steps
   * `which` accepts (one whose code changed), or of every failed step (the whole pipeline has since
   * run successfully). Returns the names of the steps forgotten.
   */
  dismissFailures(notebook: string, which?: (step: TrackedStep) => boolean): string[] {
    const run = this.latestFor(notebook);
    if (run === undefined || run.state === 'running' || run.state === 'queued') return [];
    const names: string[] = [];
    for (const step of run.steps.values()) {
      if (step.state !== 'failed' || step.dismissed === true) continue;
      if (which !== undefined && !which(step)) continue;
      step.dismissed = true;
      names.push(step.name);
    }
    if (names.length > 0) this.emit(run);
    return names;
  }

  active(): TrackedRun[] {
    return this.runs().filter((r) => r.state === 'queued' || r.state === 'running');
  }

  onDidChange(listener: Listener): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private emit(run: TrackedRun): void {
    for (const l of this.listeners) l(run);
  }
}
