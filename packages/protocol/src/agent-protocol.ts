/**
 * The agent HTTP API: the one contract between `cellflow agent` (Node, any `Backend`) and its
 * browser client (`AgentClient` in `@cellflow/ui`). Routes, bodies and stream events live here and
 * nowhere else. Browser-safe, like the rest of
 * `@cellflow/protocol`.
 *
 * Paths are relative to the agent's base URL (`http://127.0.0.1:PORT/api/` directly, or
 * `<jupyter base>/cellflow/api/` through the Jupyter server extension). Every request carries the
 * token (`Authorization: token X` or `Bearer X`). Bodies are JSON; errors are `AgentErrorBody`.
 *
 * One agent drives many targets: every route names its target in the query (`targetQuery`:
 * `target=local`, or `target=kubeflow&context=…&namespace=…`); a request that names none goes to
 * the target the agent was started for (`AgentInfo.defaultTarget`). The agent keeps one backend per
 * target, made on first use, and disposes of them when it stops.
 *
 * Streams (`runEvents`, `stepLogs`, `studyEvents`) are server-sent events: every message has an
 * `id:` (a run event's `seq`, a log line's index, a study event's index) and a reconnect that sends
 * `Last-Event-ID: N` gets exactly the messages after N. A stream ends with an `end` event; one that
 * fails ends with an `error` event carrying an `AgentErrorBody`.
 *
 * Pipelines travel as their notebook plus the graph the caller compiled (`PipelinePayload`), not as
 * the generated scripts: the agent compiles the notebook again with core's `compile()` and refuses a
 * notebook with errors or a graph that does not match, so it only ever runs code it generated.
 */
import type {
  CompiledPipeline,
  Diagnostic,
  Notebook,
  NotebookFile,
  PipelineGraph,
} from '@cellflow/core';
import {
  BackendError,
  type BackendErrorCode,
  type Capacity,
  type Endpoint,
  type EndpointRef,
  type ModelRef,
  type RunOptions,
  type RunRef,
  type RunSummary,
  type ServeOptions,
  type StudyEvent,
  type StudyRef,
  type StudySpec,
  type StudySummary,
  type TuneOptions,
} from './backend.js';
import type { KubeContextSummary, TargetSpec } from './backend-target.js';
import type { RunEvent } from './run-events.js';
import type { PipelineUpload, ScheduleSummary, UploadOptions } from './pipeline-deploys.js';

export { BackendError };

/** Bumped when a route or body changes incompatibly; the client checks it against `info`. */
export const AGENT_PROTOCOL_VERSION = 3;

// ---- bodies -----------------------------------------------------------------------------------

/** What the agent drives and where: `GET info`. */
export interface AgentInfo {
  readonly protocol: number;
  /** Cellflow version of the agent. */
  readonly version: string;
  readonly target: 'local' | 'cluster';
  /** What the target is, for messages ("this machine", "cluster context kind, namespace kubeflow"). */
  readonly description: string;
  /** Cluster: kubeconfig context (`in-cluster` inside a pod); local: null. */
  readonly context: string | null;
  /** Cluster: namespace runs go to; local: null. */
  readonly namespace: string | null;
  /** Local: the folder whose `.cellflow/` holds history; cluster: null. */
  readonly workspace: string | null;
  /**
   * Cluster, inside a Kubeflow notebook server: the server's image, which steps left on the
   * default image run in (see `withDefaultImage`); otherwise null.
   */
  readonly defaultImage: string | null;
  /** The target a request that names none goes to: the one the agent was started for. */
  readonly defaultTarget: TargetSpec;
}

/** A pipeline on the wire: the notebook it came from and the graph the caller compiled. */
export interface PipelinePayload {
  readonly notebook: Notebook;
  /** Compared with the agent's own compile (step images may differ: they follow the caller's default). */
  readonly graph: PipelineGraph;
}

export interface SubmitRequest {
  readonly pipeline: PipelinePayload;
  readonly options?: RunOptions;
}
export interface SubmitResponse extends RunRef {
  /** Cluster runs: the run's page in the Kubeflow Pipelines UI. */
  readonly uiUrl?: string;
}

export type ListRunsResponse = RunSummary[];

export type ContextsResponse = KubeContextSummary[];

/**
 * `GET runs/:run/notebook`: the run's executed notebook (nbformat 4: the notebook as it ran, every
 * cell with the outputs it showed). `not-supported` from a target that keeps no cell outputs.
 */
export type ExecutedNotebookResponse = NotebookFile;

export interface TuneRequest {
  readonly pipeline: PipelinePayload;
  readonly study: StudySpec;
  readonly options?: TuneOptions;
}
export type TuneResponse = StudyRef;
export type ListStudiesResponse = StudySummary[];

export interface ServeRequest {
  readonly model: ModelRef;
  readonly options?: ServeOptions;
}
export type ServeResponse = EndpointRef;
export type ListEndpointsResponse = Endpoint[];
/**
 * `POST endpoints/:endpoint/predict`: a test request for an endpoint, sent by the agent (a page
 * cannot reach a loopback model server itself). The body is the KServe V1 predict request as is.
 */
export interface PredictResponse {
  /** The model server's HTTP status. */
  readonly status: number;
  /** Its answer, as text. */
  readonly body: string;
  readonly latencyMs: number;
}
/**
 * `GET endpoints/:endpoint/metadata`: the model server's Open Inference Protocol V2 metadata of
 * the endpoint's model (`GET /v2/models/<name>`), read by the agent for the same reason; `{}`
 * when the server does not say. Testers build their example request from its input shape.
 */
export interface ModelMetadataResponse {
  readonly name?: string;
  readonly platform?: string;
  readonly inputs?: readonly {
    readonly name?: string;
    readonly datatype?: string;
    readonly shape?: readonly number[];
  }[];
  readonly outputs?: readonly {
    readonly name?: string;
    readonly datatype?: string;
    readonly shape?: readonly number[];
  }[];
}
export type CapacityResponse = Capacity;

/** `POST pipelines/versions`: the pipeline as a new version of the KFP pipeline of its name. */
export interface UploadRequest {
  readonly pipeline: PipelinePayload;
  readonly options?: UploadOptions;
}
export type UploadResponse = PipelineUpload;

/**
 * `POST schedules`: a recurring run. `trigger` as the user typed it: a cron expression
 * (`0 6 * * *`) or an interval (`1h`, `90s`, `3600`), read by `parseScheduleTrigger`. Without
 * `versionId`, the pipeline is first uploaded as a new version when `upload` is true, else the
 * newest uploaded version runs.
 */
export interface ScheduleRequest {
  readonly pipeline: PipelinePayload;
  readonly options: {
    readonly trigger: string;
    readonly versionId?: string;
    readonly upload?: boolean;
    readonly parameters?: RunOptions['parameters'];
    readonly experiment?: string;
    readonly maxConcurrency?: number;
    readonly name?: string;
    readonly notebookPath?: string;
  };
}
export type ScheduleResponse = ScheduleSummary;
export type ListSchedulesResponse = ScheduleSummary[];

/** Errors the agent itself reports, besides the backend's own. */
export type AgentOnlyErrorCode =
  | 'bad-request'
  | 'payload-too-large'
  | 'method-not-allowed'
  | 'protocol-mismatch'
  | 'agent-unreachable'
  | 'internal';
export type AgentErrorCode = BackendErrorCode | AgentOnlyErrorCode;

/** Every error response: the code and a sentence for the user (what, why, how to fix). */
export interface AgentErrorBody {
  readonly code: AgentErrorCode;
  readonly message: string;
  /** `invalid-pipeline`: the agent's diagnostics of the notebook. */
  readonly diagnostics?: readonly Diagnostic[];
}

/** A failure the agent reported that is not a `BackendError` (bad request, body too large...). */
export class AgentError extends Error {
  override readonly name = 'AgentError';
  constructor(
    readonly code: AgentOnlyErrorCode,
    message: string,
    /** HTTP status, or 0 when the agent could not be reached. */
    readonly status: number,
  ) {
    super(message);
  }
}

const BACKEND_ERROR_CODES: Readonly<Record<BackendErrorCode, true>> = {
  'unknown-parameter': true,
  'bad-parameter': true,
  'gpu-unavailable': true,
  'python-not-found': true,
  'run-not-found': true,
  'step-not-found': true,
  'not-supported': true,
  'cluster-config': true,
  'cluster-unreachable': true,
  unauthorized: true,
  forbidden: true,
  'not-found': true,
  'cluster-error': true,
  'request-too-large': true,
  'request-refused': true,
  'invalid-pipeline': true,
  'study-not-found': true,
  'invalid-study': true,
};

export function isBackendErrorCode(code: string): code is BackendErrorCode {
  return Object.hasOwn(BACKEND_ERROR_CODES, code);
}

/** The error a client throws for an error body: `BackendError` for backend codes, else `AgentError`. */
export function errorFromBody(body: AgentErrorBody, status: number): BackendError | AgentError {
  return isBackendErrorCode(body.code)
    ? new BackendError(body.code, body.message)
    : new AgentError(body.code, body.message, status);
}

/** HTTP status for an error code. */
export function statusForErrorCode(code: AgentErrorCode): number {
  switch (code) {
    case 'bad-request':
    case 'unknown-parameter':
    case 'bad-parameter':
    case 'invalid-pipeline':
    case 'invalid-study':
      return 400;
    case 'unauthorized':
      return 401;
    case 'forbidden':
      return 403;
    case 'not-found':
    case 'run-not-found':
    case 'step-not-found':
    case 'study-not-found':
      return 404;
    case 'method-not-allowed':
      return 405;
    case 'gpu-unavailable':
      return 409;
    case 'payload-too-large':
    case 'request-too-large':
      return 413;
    case 'request-refused':
      return 422;
    case 'not-supported':
      return 501;
    case 'cluster-unreachable':
    case 'agent-unreachable':
      return 502;
    case 'protocol-mismatch':
    case 'python-not-found':
    case 'cluster-config':
    case 'cluster-error':
    case 'internal':
      return 500;
  }
}

// ---- stream events ----------------------------------------------------------------------------

/** The SSE `event:` names and what their `data:` holds (JSON). */
export interface AgentStreamData {
  /** `runEvents`: one `RunEvent`; `id:` is its `seq`. */
  'run-event': RunEvent;
  /** `stepLogs`: one output line (without its newline); `id:` is the line's index from 0. */
  log: string;
  /** `studyEvents`: one `StudyEvent`; `id:` is its index in the study's stream from 0. */
  'study-event': StudyEvent;
  /** The stream is complete (the run, step or study is over). */
  end: Record<string, never>;
  /** The stream failed; nothing follows. */
  error: AgentErrorBody;
}
export type AgentStreamEventName = keyof AgentStreamData;

// ---- routes -----------------------------------------------------------------------------------

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

interface RouteShape {
  readonly method: HttpMethod;
  /** Segments; `:name` is a path parameter. */
  readonly path: string;
  /** Answers with server-sent events. */
  readonly stream?: true;
}

/** Every route, by name. Query parameters are listed in each route's comment. */
export const AGENT_ROUTES = {
  /** -> `AgentInfo` */
  info: { method: 'GET', path: 'info' },
  /** -> `ContextsResponse`: the kubeconfig's contexts the agent can reach (any target's query). */
  contexts: { method: 'GET', path: 'contexts' },
  /** `SubmitRequest` -> `SubmitResponse` (201) */
  submit: { method: 'POST', path: 'runs' },
  /** `?pipeline=&limit=` -> `ListRunsResponse` */
  listRuns: { method: 'GET', path: 'runs' },
  /** -> `RunSummary` */
  getRun: { method: 'GET', path: 'runs/:run' },
  /** -> SSE `run-event`* `end` */
  watch: { method: 'GET', path: 'runs/:run/events', stream: true },
  /** -> SSE `log`* `end` */
  logs: { method: 'GET', path: 'runs/:run/steps/:step/logs', stream: true },
  /** -> `ExecutedNotebookResponse` */
  executedNotebook: { method: 'GET', path: 'runs/:run/notebook' },
  /** -> 204 */
  cancel: { method: 'POST', path: 'runs/:run/cancel' },
  /** `TuneRequest` -> `TuneResponse` (201) */
  tune: { method: 'POST', path: 'studies' },
  /** -> `ListStudiesResponse` */
  listStudies: { method: 'GET', path: 'studies' },
  /** -> SSE `study-event`* `end` */
  watchStudy: { method: 'GET', path: 'studies/:study/events', stream: true },
  /** -> 204 */
  cancelStudy: { method: 'POST', path: 'studies/:study/cancel' },
  /** `ServeRequest` -> `ServeResponse` (201) */
  serve: { method: 'POST', path: 'endpoints' },
  /** -> `ListEndpointsResponse` */
  listEndpoints: { method: 'GET', path: 'endpoints' },
  /** -> 204 */
  deleteEndpoint: { method: 'DELETE', path: 'endpoints/:endpoint' },
  /** KServe V1 request body -> `PredictResponse` */
  predict: { method: 'POST', path: 'endpoints/:endpoint/predict' },
  /** -> `ModelMetadataResponse` */
  modelMetadata: { method: 'GET', path: 'endpoints/:endpoint/metadata' },
  /** -> `CapacityResponse` */
  capacity: { method: 'GET', path: 'capacity' },
  /** `UploadRequest` -> `UploadResponse` (201); cluster agents only */
  upload: { method: 'POST', path: 'pipelines/versions' },
  /** `ScheduleRequest` -> `ScheduleResponse` (201); cluster agents only */
  schedule: { method: 'POST', path: 'schedules' },
  /** `?pipeline=` -> `ListSchedulesResponse` */
  listSchedules: { method: 'GET', path: 'schedules' },
  /** -> `ScheduleResponse` */
  pauseSchedule: { method: 'POST', path: 'schedules/:schedule/pause' },
  /** -> `ScheduleResponse` */
  resumeSchedule: { method: 'POST', path: 'schedules/:schedule/resume' },
  /** -> 204 */
  deleteSchedule: { method: 'DELETE', path: 'schedules/:schedule' },
} as const satisfies Record<string, RouteShape>;

export type AgentRouteName = keyof typeof AGENT_ROUTES;

/** The path parameters a route takes (`{ run: string; step: string }` for `logs`). */
export type AgentRouteParams<N extends AgentRouteName> = {
  readonly [K in ParamNames<(typeof AGENT_ROUTES)[N]['path']>]: string;
};
type ParamNames<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? Name | ParamNames<Rest>
  : P extends `${string}:${infer Name}`
    ? Name
    : never;

/** A route's relative URL: path parameters encoded, query entries with undefined values left out. */
export function agentPath<N extends AgentRouteName>(
  name: N,
  params: AgentRouteParams<N>,
  query: Readonly<Record<string, string | number | undefined>> = {},
): string {
  const values = params as Readonly<Record<string, string>>;
  const path = AGENT_ROUTES[name].path
    .split('/')
    .map((segment) => {
      if (!segment.startsWith(':')) return segment;
      const value = values[segment.slice(1)];
      if (value === undefined || value === '')
        throw new Error(`agentPath(${name}): missing ${segment.slice(1)}`);
      return encodeURIComponent(value);
    })
    .join('/');
  const search = Object.entries(query)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  return search === '' ? path : `${path}?${search}`;
}

export interface AgentRouteMatch {
  readonly name: AgentRouteName;
  readonly params: Readonly<Record<string, string>>;
}

/**
 * Which route a method and relative path (no query, no leading slash) name. `undefined` when no
 * route has that path; `{ methodNotAllowed: true }` when the path exists for other methods.
 */
export function matchAgentRoute(
  method: string,
  path: string,
): AgentRouteMatch | { readonly methodNotAllowed: true } | undefined {
  const segments = path.split('/');
  let pathKnown = false;
  for (const [name, route] of Object.entries(AGENT_ROUTES) as [AgentRouteName, RouteShape][]) {
    const pattern = route.path.split('/');
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const matches = pattern.every((p, i) => {
      const segment = segments[i] ?? '';
      if (!p.startsWith(':')) return p === segment;
      if (segment === '') return false;
      try {
        params[p.slice(1)] = decodeURIComponent(segment);
        return true;
      } catch {
        return false;
      }
    });
    if (!matches) continue;
    pathKnown = true;
    if (route.method === method) return { name, params };
  }
  return pathKnown ? { methodNotAllowed: true } : undefined;
}

// ---- pipelines on the wire --------------------------------------------------------------------

/** What a client sends for a compiled pipeline. */
export function pipelinePayloadOf(pipeline: CompiledPipeline): PipelinePayload {
  return { notebook: pipeline.notebook, graph: pipeline.graph };
}

// ---- handshake --------------------------------------------------------------------------------

/** The one line `cellflow agent` prints on stdout once it listens (JSON after the prefix). */
export const AGENT_READY_PREFIX = 'cellflow-agent-ready ';

export interface AgentReadyLine {
  readonly port: number;
  readonly pid: number;
  readonly protocol: number;
  /** Where the token was written (0600), when `--token-file` was given. */
  readonly tokenFile: string | null;
  /** The token itself, only when it was generated and no `--token-file` was given. */
  readonly token?: string;
}
