/**
 * The one interface both editors and the CLI drive. `LocalBackend` (this machine) and
 * `KubeflowBackend` (a cluster) in `@cellflow/backend` implement it; callers never branch on which
 * one they hold. Types and the `BackendError` class only: browser-safe.
 */
import type {
  CompiledPipeline,
  GpuPool,
  ParameterValue,
  StudySpec,
  TrialAssignment,
} from '@cellflow/core';
import type {
  MetricValues,
  RunEvent,
  RunState,
  StepFailure,
  StepOutputs,
  StepState,
} from './run-events.js';
import type { BackendTarget, ClusterFacet } from './backend-target.js';
import { redactSecrets } from './secret-redaction.js';

/** A run, by its id (unique on its target). */
export interface RunRef {
  readonly id: string;
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
  /** Cluster runs: each saved variable's URI and Python type, as the step reported them. */
  readonly outputs?: StepOutputs;
}

export interface RunSummary extends RunRef {
  /** Pipeline name (`digits`). */
  readonly pipeline: string;
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

// ---- tuning and serving ----------------------------------------------------------------------

export type { StudySpec } from '@cellflow/core';

/** A study, named by its id alone (the backend knows the rest, as a `RunRef` names a run). */
export interface StudyRef {
  readonly id: string;
}

/** `early-stopped`: stopped by the study's early-stopping rule (cluster). */
export type TrialState =
  'pending' | 'running' | 'succeeded' | 'failed' | 'early-stopped' | 'cancelled';

export type StudyState = 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface TrialSummary {
  /** Trial id (local: `<study>-t003`; cluster: the Katib Trial name). */
  readonly id: string;
  /** 0-based, in the order trials were suggested. */
  readonly index: number;
  /** This trial's values of the searched parameters. */
  readonly parameters: TrialAssignment;
  readonly state: TrialState;
  /** The objective and additional metrics the trial reported. */
  readonly metrics: MetricValues;
  /** The objective metric's value, once known. */
  readonly objective: number | null;
  /** The pipeline run behind the trial (local run id, or KFP run id when known). */
  readonly runId?: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  /** Why it failed, for the user. */
  readonly reason?: string;
}

export interface TrialCounts {
  readonly pending: number;
  readonly running: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly earlyStopped: number;
  readonly cancelled: number;
}

export interface StudySummary extends StudyRef {
  /** Pipeline name (`digits`). */
  readonly pipeline: string;
  readonly state: StudyState;
  readonly target: 'local' | 'cluster';
  readonly spec: StudySpec;
  readonly createdAt: string;
  readonly finishedAt: string | null;
  readonly notebookPath: string | null;
  readonly trials: readonly TrialSummary[];
  /** The best trial so far by the objective and goal (null until one succeeds). */
  readonly best: TrialSummary | null;
  readonly counts: TrialCounts;
  /** Why the study ended when it failed or was cancelled. */
  readonly reason?: string;
}

/**
 * What `watchStudy` yields: first a `study` snapshot, then changes, ending with `study` once the
 * study is over. Replaying them in order rebuilds the summary.
 */
export type StudyEvent =
  | { readonly type: 'study'; readonly study: StudySummary }
  | { readonly type: 'trial'; readonly studyId: string; readonly trial: TrialSummary }
  | { readonly type: 'best'; readonly studyId: string; readonly trial: TrialSummary };

export interface TuneOptions {
  /** The notebook file the pipeline came from (history; steps' working directory). */
  readonly notebookPath?: string;
  /** Values for parameters that are not searched (typed as in the parameters cell). */
  readonly parameters?: Readonly<Record<string, ParameterValue>>;
  /** Run GPU steps without GPUs (local). */
  readonly cpuOnly?: boolean;
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
  /** Where this backend runs things: kind, description, context and namespace, a run's page. */
  readonly target: BackendTarget;
  /**
   * Kubeflow Pipelines' pipeline versions and schedules, and the notebook image: present exactly
   * on Kubeflow targets. Callers test for it (`backend.cluster !== undefined`), never for a class.
   */
  readonly cluster?: ClusterFacet;
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
  /** One run as it stands (steps, metrics, parameters); rejects with `run-not-found` when unknown. */
  getRun(run: RunRef): Promise<RunSummary>;
  /** Starts a study: trials run the pipeline with suggested parameter values. */
  tune(pipeline: CompiledPipeline, study: StudySpec, opts?: TuneOptions): Promise<StudyRef>;
  /** The study's state so far, then live trial changes until it ends (see `StudyEvent`). */
  watchStudy(study: StudyRef): AsyncIterable<StudyEvent>;
  /** Past and current studies, newest first. */
  listStudies(): Promise<StudySummary[]>;
  /** Stops a study: running trials are cancelled, no new ones start. */
  cancelStudy(study: StudyRef): Promise<void>;
  serve(model: ModelRef, opts?: ServeOptions): Promise<EndpointRef>;
  listEndpoints(): Promise<Endpoint[]>;
  /** Stops serving an endpoint and frees what it held. */
  deleteEndpoint(endpoint: EndpointRef): Promise<void>;
  /** What this target can give: GPUs (count, product), CPUs, memory. */
  capacity(): Promise<Capacity>;
  /**
   * Frees what this backend holds in this process, once, when its host shuts down: a local backend
   * cancels its runs and studies and stops its model servers; a cluster's runs go on.
   */
  dispose(): Promise<void>;
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
  | 'request-too-large'
  | 'request-refused'
  | 'invalid-pipeline'
  | 'study-not-found'
  | 'invalid-study';

/** A refusal with a message for the user (what, why, how to fix). Thrown before anything runs. */
export class BackendError extends Error {
  override readonly name = 'BackendError';
  constructor(
    readonly code: BackendErrorCode,
    message: string,
  ) {
    // Messages quote URLs and servers' answers: credentials and tokens in them are never shown.
    super(redactSecrets(message));
  }
}
