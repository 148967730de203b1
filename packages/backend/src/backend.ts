/**
 * The one interface both editors and the CLI drive. `LocalBackend` (this machine) and, later,
 * `KubeflowBackend` (a cluster) implement it; callers never branch on which one they hold.
 */
import type { CompiledPipeline, GpuPool, ParameterValue } from '@cellflow/core';
import type { MetricValues, RunEvent, RunState, StepFailure, StepState } from './run-events.js';

export interface RunRef {
  readonly id: string;
  /** Pipeline name (`digits`). */
  readonly pipeline: string;
}

export interface RunOptions {
  /** Values for pipeline parameters, typed as in the parameters cell; others keep their defaults. */
  readonly parameters?: Readonly<Record<string, ParameterValue>>;
  /** Reuse the outputs of unchanged steps (default true). `false` re-runs every step. */
  readonly cache?: boolean;
  /** Run steps that ask for GPUs without them (they see no GPU) instead of refusing the run. */
  readonly cpuOnly?: boolean;
  /** The notebook file the pipeline came from: recorded in history; its folder is the steps' working directory. */
  readonly notebookPath?: string;
  /** Steps running at once (local backend; default: the machine's cores). */
  readonly concurrency?: number;
}

export interface StepSummary {
  readonly name: string;
  readonly state: StepState;
  readonly attempts: number;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
  readonly cachedFrom?: string;
  readonly failure?: StepFailure;
  readonly metrics?: MetricValues;
}

export interface RunSummary extends RunRef {
  readonly state: RunState;
  readonly notebookPath: string | null;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
  /** Every parameter's value in this run (defaults included). */
  readonly parameters: Readonly<Record<string, ParameterValue>>;
  readonly metrics: MetricValues;
  readonly steps: readonly StepSummary[];
  readonly reason?: string;
}

export interface RunFilter {
  /** Only runs of this pipeline. */
  readonly pipeline?: string;
  /** At most this many, newest first. */
  readonly limit?: number;
}

export interface GpuDevice {
  readonly index: number;
  /** Product name as the driver reports it (`NVIDIA A100-SXM4-80GB`). */
  readonly name: string;
  readonly vendor: 'nvidia' | 'amd';
  readonly memoryMiB: number | null;
}

export interface Capacity {
  /** What the target is, for messages ("this machine", "cluster context kind-gpu"). */
  readonly target: string;
  /** GPUs by node and product, as `checkGpuRequests` (core) reads them. */
  readonly pools: readonly GpuPool[];
  /** This machine's GPU devices (local target only; empty for a cluster). */
  readonly gpus: readonly GpuDevice[];
  /** CPUs (this machine's cores, or the cluster's allocatable total). */
  readonly cpus: number;
  readonly memoryBytes: number | null;
  /** How the GPUs were found, or why none were (`nvidia-smi not found`). */
  readonly gpuSource: string;
}

// ---- tuning and serving: declared for the issues that implement them -------------------------

export interface StudySpec {
  readonly objective: { readonly metric: string; readonly goal: 'maximize' | 'minimize' };
  readonly parameters: readonly {
    readonly name: string;
    readonly values?: readonly ParameterValue[];
    readonly min?: number;
    readonly max?: number;
  }[];
  readonly maxTrials: number;
  readonly parallelTrials?: number;
}
export interface StudyRef {
  readonly id: string;
}
export interface StudyEvent {
  readonly studyId: string;
  readonly type: string;
}
export interface ModelRef {
  readonly runId: string;
  readonly step: string;
  readonly variable: string;
}
export interface ServeOptions {
  /** Endpoint name (default: `<pipeline>-<variable>`). */
  readonly name?: string;
  /** Local servers: loopback port (default: a free one). */
  readonly port?: number;
}
export interface EndpointRef {
  readonly name: string;
}
export interface Endpoint extends EndpointRef {
  /** Base URL: V1 at `/v1/models/<name>:predict`, V2 at `/v2/models/<name>/infer`. */
  readonly url: string;
  readonly model: ModelRef;
  readonly state: 'pending' | 'ready' | 'failed';
  readonly target: 'local' | 'cluster';
  /** Why it failed, or what it waits for. */
  readonly message?: string;
}

export interface Backend {
  /** Starts a run; rejects with a `BackendError` (nothing started) when the run cannot go ahead. */
  submit(pipeline: CompiledPipeline, opts?: RunOptions): Promise<RunRef>;
  /** Every event of the run so far, then live ones until the run ends. */
  watch(run: RunRef): AsyncIterable<RunEvent>;
  /** A step's output lines (stdout and stderr, interleaved as written) so far, then live ones until it ends. */
  logs(run: RunRef, step: string): AsyncIterable<string>;
  /** Stops the run: running steps are killed with their whole process tree. Resolves once all are gone. */
  cancel(run: RunRef): Promise<void>;
  /** Past and current runs, newest first. */
  listRuns(filter?: RunFilter): Promise<RunSummary[]>;
  tune(pipeline: CompiledPipeline, study: StudySpec): Promise<StudyRef>;
  watchStudy(study: StudyRef): AsyncIterable<StudyEvent>;
  serve(model: ModelRef, opts?: ServeOptions): Promise<EndpointRef>;
  listEndpoints(): Promise<Endpoint[]>;
  /** Stops serving an endpoint and frees what it held. */
  deleteEndpoint(endpoint: EndpointRef): Promise<void>;
  /** What this target can give: GPUs (count, product), CPUs, memory. */
  capacity(): Promise<Capacity>;
}

export type BackendErrorCode =
  | 'unknown-parameter'
  | 'bad-parameter'
  | 'gpu-unavailable'
  | 'python-not-found'
  | 'run-not-found'
  | 'step-not-found'
  | 'not-supported'
  | 'cluster-config'
  | 'cluster-unreachable'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'cluster-error'
  | 'invalid-pipeline';

/** A refusal with a message for the user (what, why, how to fix). Thrown before anything runs. */
export class BackendError extends Error {
  override readonly name = 'BackendError';
  constructor(
    readonly code: BackendErrorCode,
    message: string,
  ) {
    super(message);
  }
}
