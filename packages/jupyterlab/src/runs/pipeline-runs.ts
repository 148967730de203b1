/**
 * Runs started from this page: submits a compiled notebook through the agent, follows its events
 * and keeps each run's state and its steps' states for the panel and the cells.
 */
import {
  applyRunEvent,
  queuedRun,
  stepOf,
  type RunOptions,
  type RunRef,
  type RunState,
  type StepFailure,
  type StepState,
} from '@cellflow/protocol';
import type { CompiledPipeline } from '@cellflow/core';
import type { AgentClient } from '@cellflow/ui';
import type { IDisposable } from '@lumino/disposable';
import { Signal, type ISignal } from '@lumino/signaling';

export interface LiveRun {
  readonly id: string;
  readonly pipeline: string;
  readonly notebookPath: string;
  state: RunState;
  readonly steps: Map<string, StepState>;
  /** Failure or cancellation reason, or a step failure message. */
  message?: string;
  /** Why each failed step failed (the last attempt's failure), by step. */
  readonly failures: Map<string, StepFailure>;
  metrics: Readonly<Record<string, number | string>>;
  /** Cluster runs: each step's saved variables, where the cluster keeps them and their types. */
  readonly outputs: Map<string, Readonly<Record<string, { uri: string; type: string }>>>;
  readonly startedAt: number;
  /** Cluster runs: the run's page in the Kubeflow Pipelines UI. */
  readonly uiUrl?: string;
  /** The client of the run's target (this machine, or a cluster): it follows, cancels and reads logs. */
  readonly backend: AgentClient;
}

export class PipelineRuns implements IDisposable {
  private readonly changedSignal = new Signal<this, LiveRun>(this);
  private readonly runs: LiveRun[] = [];
  private disposed = false;

  constructor(private readonly client: () => AgentClient) {}

  get changed(): ISignal<this, LiveRun> {
    return this.changedSignal;
  }

  /** Newest first. */
  get all(): readonly LiveRun[] {
    return this.runs;
  }

  /** The newest run of a notebook. */
  latestFor(notebookPath: string): LiveRun | undefined {
    return this.runs.find((r) => r.notebookPath === notebookPath);
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Submits to the agent's default target, or to `client`'s (a cluster Deploy chose). */
  async submit(
    pipeline: CompiledPipeline,
    notebookPath: string,
    options: Omit<RunOptions, 'notebookPath'> = {},
    client: AgentClient = this.client(),
  ): Promise<LiveRun> {
    const ref = await client.submit(pipeline, { ...options, notebookPath });
    const run: LiveRun = {
      id: ref.id,
      pipeline: pipeline.graph.pipeline.name,
      notebookPath,
      state: 'queued',
      steps: new Map(pipeline.graph.steps.map((s) => [s.name, 'queued' as const])),
      metrics: {},
      failures: new Map(),
      outputs: new Map(),
      startedAt: Date.now(),
      ...(ref.uiUrl !== undefined ? { uiUrl: ref.uiUrl } : {}),
      backend: client,
    };
    this.runs.unshift(run);
    this.changedSignal.emit(run);
    void this.follow(client, run, ref);
    return run;
  }

  async cancel(run: LiveRun): Promise<void> {
    await run.backend.cancel({ id: run.id });
  }

  private async follow(client: AgentClient, run: LiveRun, ref: RunRef): Promise<void> {
    let progress = queuedRun(run.id, [...run.steps.keys()]);
    try {
      for await (const event of client.watch(ref)) {
        if (this.disposed) return;
        // The one fold of run events (`@cellflow/protocol`); the maps below are views of it.
        progress = applyRunEvent(progress, event);
        if (event.type === 'run') {
          run.state = progress.state;
          run.metrics = progress.metrics;
          if (event.reason !== undefined) run.message = event.reason;
        } else {
          const step = stepOf(progress, event.step);
          if (step === undefined) continue;
          run.steps.set(step.name, step.state);
          if (step.failure !== undefined) run.failures.set(step.name, step.failure);
          else run.failures.delete(step.name);
          if (event.failure !== undefined) run.message = event.failure.message;
          if (step.outputs !== undefined) run.outputs.set(step.name, step.outputs);
        }
        this.changedSignal.emit(run);
      }
    } catch (error) {
      run.message = `Lost the run's events: ${error instanceof Error ? error.message : String(error)}`;
      this.changedSignal.emit(run);
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    Signal.clearData(this);
  }
}
