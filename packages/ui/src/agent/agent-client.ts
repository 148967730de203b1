/**
 * A `Backend` in the browser: every call goes to `cellflow agent` over HTTP (see
 * `@cellflow/protocol`), streams come as server-sent events read with `fetch` (so
 * auth and XSRF headers travel with them) and resume after a dropped connection with
 * `Last-Event-ID`, without losing or repeating an event. Errors are `BackendError` (the backend
 * refused) or `AgentError` (the agent could not be reached, or refused the request itself).
 *
 * ```ts
 * import { ServerConnection } from '@jupyterlab/services';
 * import { URLExt } from '@jupyterlab/coreutils';
 * import { AgentClient } from '@cellflow/ui';
 *
 * const settings = ServerConnection.makeSettings();
 * const backend = new AgentClient({
 *   baseUrl: URLExt.join(settings.baseUrl, 'cellflow/api/'),
 *   // Jupyter's makeRequest adds the token and the XSRF header.
 *   fetch: (input, init) => ServerConnection.makeRequest(String(input), init ?? {}, settings),
 * });
 * const run = await backend.submit(compiled.pipeline, { notebookPath: 'digits.ipynb' });
 * for await (const event of backend.watch(run)) render(event);
 * ```
 */
import {
  AGENT_ROUTES,
  AgentError,
  BackendError,
  agentPath,
  describeTarget,
  targetQuery,
  errorFromBody,
  pipelinePayloadOf,
  type AgentErrorBody,
  type AgentInfo,
  type AgentRouteName,
  type AgentRouteParams,
  type AgentStreamData,
  type AgentStreamEventName,
  type Backend,
  type BackendTarget,
  type ContextsResponse,
  type TargetSpec,
  type Capacity,
  type Endpoint,
  type EndpointRef,
  type ExecutedNotebookSource,
  type ModelRef,
  type PipelineUpload,
  type ModelMetadataResponse,
  type PredictResponse,
  type SubmitResponse,
  type RunEvent,
  type RunFilter,
  type RunOptions,
  type RunRef,
  type RunSummary,
  type ScheduleRequest,
  type ScheduleSummary,
  type ServeOptions,
  type ServeRequest,
  type StudyEvent,
  type StudyRef,
  type StudySpec,
  type StudySummary,
  type SubmitRequest,
  type TuneOptions,
  type TuneRequest,
  type UploadOptions,
  type UploadRequest,
} from '@cellflow/protocol';
import type { CompiledPipeline, NotebookFile } from '@cellflow/core';
import { readServerSentEvents } from './server-sent-events.js';

export interface AgentClientOptions {
  /** The agent API root: `http://127.0.0.1:PORT/api/`, or `<jupyter base>/cellflow/api/`. */
  readonly baseUrl: string;
  /** Headers added to every request (`Authorization`, `X-XSRFToken`...), read per request. */
  readonly headers?: () => Record<string, string>;
  /** The fetch to use (default: the global one). */
  readonly fetch?: typeof fetch;
  /** Reconnect attempts in a row before a stream gives up (default 5). */
  readonly reconnectAttempts?: number;
  /** First reconnect delay in ms, doubled per attempt (default 250). */
  readonly reconnectDelayMs?: number;
  /**
   * The target every request names (this machine, or a kubeconfig context and namespace); absent:
   * requests name none and go to the target the agent was started for.
   */
  readonly target?: TargetSpec;
}

type Query = Readonly<Record<string, string | number | undefined>>;

export class AgentClient implements Backend, ExecutedNotebookSource {
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: AgentClientOptions) {
    this.baseUrl = options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`;
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.targetValue = targetOfSpec(options.target);
  }

  private targetValue: BackendTarget;

  /**
   * The target requests go to: as named, completed by the last `info()` (before it, a client that
   * names no target says "the Cellflow agent"). A run's page comes with `submit`'s answer
   * (`uiUrl`), so `runUrl` gives null here.
   */
  get target(): BackendTarget {
    return this.targetValue;
  }

  /** A client of the same agent whose requests name `target`. */
  withTarget(target: TargetSpec): AgentClient {
    return new AgentClient({ ...this.options, target });
  }

  /** The kubeconfig contexts the agent can reach (a person picks the cluster to deploy to). */
  contexts(): Promise<ContextsResponse> {
    return this.call('contexts', {}, undefined);
  }

  /** What the agent drives (local or cluster, context, namespace) and its protocol version. */
  async info(): Promise<AgentInfo> {
    const info = await this.call<AgentInfo, 'info'>('info', {}, undefined);
    this.targetValue = {
      kind: info.target === 'cluster' ? 'kubeflow' : 'local',
      description: info.description,
      context: info.context,
      namespace: info.namespace,
      runUrl: () => null,
    };
    return info;
  }

  /** Starts a run; cluster agents add the run's page in the KFP UI (`uiUrl`). */
  submit(pipeline: CompiledPipeline, opts: RunOptions = {}): Promise<SubmitResponse> {
    const body: SubmitRequest = { pipeline: pipelinePayloadOf(pipeline), options: opts };
    return this.call('submit', {}, body);
  }

  watch(run: RunRef): AsyncIterable<RunEvent> {
    return this.stream('watch', { run: run.id }, {}, 'run-event');
  }

  logs(run: RunRef, step: string): AsyncIterable<string> {
    return this.stream('logs', { run: run.id, step }, {}, 'log');
  }

  /** The run's executed notebook: every cell with the outputs it showed (targets that keep them). */
  executedNotebook(run: RunRef): Promise<NotebookFile> {
    return this.call('executedNotebook', { run: run.id }, undefined);
  }

  async cancel(run: RunRef): Promise<void> {
    await this.call('cancel', { run: run.id }, {});
  }

  getRun(run: RunRef): Promise<RunSummary> {
    return this.call('getRun', { run: run.id }, undefined);
  }

  listRuns(filter: RunFilter = {}): Promise<RunSummary[]> {
    return this.call('listRuns', {}, undefined, {
      pipeline: filter.pipeline,
      limit: filter.limit,
    });
  }

  tune(pipeline: CompiledPipeline, study: StudySpec, opts: TuneOptions = {}): Promise<StudyRef> {
    const body: TuneRequest = { pipeline: pipelinePayloadOf(pipeline), study, options: opts };
    return this.call('tune', {}, body);
  }

  watchStudy(study: StudyRef): AsyncIterable<StudyEvent> {
    return this.stream('watchStudy', { study: study.id }, {}, 'study-event');
  }

  listStudies(): Promise<StudySummary[]> {
    return this.call('listStudies', {}, undefined);
  }

  async cancelStudy(study: StudyRef): Promise<void> {
    await this.call('cancelStudy', { study: study.id }, {});
  }

  serve(model: ModelRef, opts: ServeOptions = {}): Promise<EndpointRef> {
    const body: ServeRequest = { model, options: opts };
    return this.call('serve', {}, body);
  }

  listEndpoints(): Promise<Endpoint[]> {
    return this.call('listEndpoints', {}, undefined);
  }

  async deleteEndpoint(endpoint: EndpointRef): Promise<void> {
    await this.call('deleteEndpoint', { endpoint: endpoint.name }, undefined);
  }

  /** Sends a KServe V1 predict request to an endpoint through the agent; resolves to the model server's answer. */
  predict(endpoint: EndpointRef, request: unknown): Promise<PredictResponse> {
    return this.call('predict', { endpoint: endpoint.name }, request);
  }

  /** The endpoint's model metadata (V2: its inputs' shapes), read through the agent; `{}` when unknown. */
  modelMetadata(endpoint: EndpointRef): Promise<ModelMetadataResponse> {
    return this.call('modelMetadata', { endpoint: endpoint.name }, undefined);
  }

  capacity(): Promise<Capacity> {
    return this.call('capacity', {}, undefined);
  }

  /** Runs, studies and endpoints belong to the agent's backend and go on; nothing is held here. */
  async dispose(): Promise<void> {}

  /** Uploads the pipeline as a new version of the KFP pipeline of its name (cluster agents). */
  upload(pipeline: CompiledPipeline, opts: UploadOptions = {}): Promise<PipelineUpload> {
    const body: UploadRequest = { pipeline: pipelinePayloadOf(pipeline), options: opts };
    return this.call('upload', {}, body);
  }

  /** A recurring run of the pipeline (see `ScheduleRequest`; cluster agents). */
  schedule(pipeline: CompiledPipeline, opts: ScheduleRequest['options']): Promise<ScheduleSummary> {
    const body: ScheduleRequest = { pipeline: pipelinePayloadOf(pipeline), options: opts };
    return this.call('schedule', {}, body);
  }

  listSchedules(pipelineName?: string): Promise<ScheduleSummary[]> {
    return this.call('listSchedules', {}, undefined, { pipeline: pipelineName });
  }

  /** Pauses (false) or resumes (true) a schedule. */
  setScheduleEnabled(id: string, enabled: boolean): Promise<ScheduleSummary> {
    return this.call(enabled ? 'resumeSchedule' : 'pauseSchedule', { schedule: id }, undefined);
  }

  async deleteSchedule(id: string): Promise<void> {
    await this.call('deleteSchedule', { schedule: id }, undefined);
  }

  // ---- transport ------------------------------------------------------------------------------

  private url<N extends AgentRouteName>(
    name: N,
    params: AgentRouteParams<N>,
    query: Query,
  ): string {
    const target = this.options.target !== undefined ? targetQuery(this.options.target) : {};
    return this.baseUrl + agentPath(name, params, { ...query, ...target });
  }

  private headers(extra: Record<string, string>): Record<string, string> {
    return { ...(this.options.headers?.() ?? {}), ...extra };
  }

  private async send(url: string, init: RequestInit): Promise<Response> {
    try {
      return await this.fetchImpl(url, init);
    } catch (error) {
      if (init.signal?.aborted === true) throw error;
      throw new AgentError(
        'agent-unreachable',
        `Could not reach the Cellflow agent at ${this.baseUrl}: ${error instanceof Error ? error.message : String(error)}. Is the Jupyter server (or \`cellflow agent\`) running?`,
        0,
      );
    }
  }

  private async call<T, N extends AgentRouteName>(
    name: N,
    params: AgentRouteParams<N>,
    body: unknown,
    query: Query = {},
  ): Promise<T> {
    const { method } = AGENT_ROUTES[name];
    const response = await this.send(this.url(name, params, query), {
      method,
      headers: this.headers({
        Accept: 'application/json',
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      }),
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (!response.ok) throw await errorOf(response);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  private async *stream<N extends AgentRouteName, E extends 'run-event' | 'log' | 'study-event'>(
    name: N,
    params: AgentRouteParams<N>,
    query: Query,
    eventName: E,
  ): AsyncGenerator<AgentStreamData[E]> {
    const url = this.url(name, params, query);
    const maxAttempts = this.options.reconnectAttempts ?? 5;
    const firstDelay = this.options.reconnectDelayMs ?? 250;
    let lastEventId: string | null = null;
    let failures = 0;
    for (;;) {
      const abort = new AbortController();
      let dropped: unknown;
      try {
        const response = await this.send(url, {
          method: 'GET',
          headers: this.headers({
            Accept: 'text/event-stream',
            ...(lastEventId !== null ? { 'Last-Event-ID': lastEventId } : {}),
          }),
          signal: abort.signal,
        });
        if (!response.ok) throw await errorOf(response);
        if (response.body === null)
          throw new AgentError('internal', 'The agent answered a stream without a body.', 0);
        for await (const message of readServerSentEvents(response.body)) {
          const event = message.event as AgentStreamEventName;
          if (event === 'end') return;
          if (event === 'error') throw errorFromBody(JSON.parse(message.data) as AgentErrorBody, 0);
          if (event !== eventName) continue;
          if (message.id !== null) lastEventId = message.id;
          failures = 0;
          yield JSON.parse(message.data) as AgentStreamData[E];
        }
        dropped = new Error('the connection closed before the stream ended');
      } catch (error) {
        if (
          !(error instanceof AgentError && error.code === 'agent-unreachable') &&
          !isNetworkDrop(error)
        )
          throw error;
        dropped = error;
      } finally {
        abort.abort();
      }
      failures += 1;
      if (failures > maxAttempts)
        throw new AgentError(
          'agent-unreachable',
          `Lost the Cellflow agent stream ${url} and could not reconnect (${failures - 1} attempts): ${dropped instanceof Error ? dropped.message : String(dropped)}.`,
          0,
        );
      await new Promise((resolve) => setTimeout(resolve, firstDelay * 2 ** (failures - 1)));
    }
  }
}

/** What a client knows of its target before the agent says more. */
function targetOfSpec(spec: TargetSpec | undefined): BackendTarget {
  const context = spec?.kind === 'kubeflow' ? (spec.context ?? null) : null;
  const namespace = spec?.kind === 'kubeflow' ? (spec.namespace ?? null) : null;
  return {
    kind: spec?.kind ?? 'local',
    description:
      spec === undefined ? 'the Cellflow agent' : describeTarget(spec.kind, context, namespace),
    context,
    namespace,
    runUrl: () => null,
  };
}

/** A reading error of a body that had started (the server or a proxy went away mid-stream). */
function isNetworkDrop(error: unknown): boolean {
  return error instanceof TypeError || (error instanceof Error && error.name === 'AbortError');
}

async function errorOf(response: Response): Promise<BackendError | AgentError> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as Partial<AgentErrorBody>;
    if (typeof body.code === 'string' && typeof body.message === 'string')
      return errorFromBody(body as AgentErrorBody, response.status);
  } catch {
    // Not the agent's JSON: a proxy or Jupyter itself answered.
  }
  const what = `${response.status} ${response.statusText}`.trim();
  if (response.status === 401)
    return new BackendError(
      'unauthorized',
      `The Cellflow agent refused the request (${what}): log in to Jupyter again.`,
    );
  if (response.status === 403)
    return new BackendError(
      'forbidden',
      `The Cellflow agent refused the request (${what}): the page is not allowed to use it.`,
    );
  if (response.status === 404)
    return new BackendError(
      'not-found',
      `No Cellflow agent answered (${what}): is the cellflow_jupyter server extension enabled?`,
    );
  return new AgentError('internal', `The Cellflow agent answered ${what}.`, response.status);
}
