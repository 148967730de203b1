/** What each agent route does with the `Backend`: one handler per `AGENT_ROUTES` entry. */
import type {
  Backend,
  Endpoint,
  ModelRef,
  RunOptions,
  ServeOptions,
  TuneOptions,
} from '../backend.js';
import { hasExecutedNotebooks } from '@cellflow/protocol';
import { BackendError, type KubeContextSummary } from '../backend.js';
import type { RunEvent } from '../run-events.js';
import type { StudyEvent } from '../backend.js';
import {
  parseScheduleTrigger,
  type PipelineDeployer,
  type UploadOptions,
} from '../kubeflow/pipeline-deploys.js';
import { checkStudySpec, describeStudyErrors } from '@cellflow/core';
import type { AgentInfo, AgentRouteName, ScheduleRequest } from './agent-protocol.js';
import { pipelineFromPayload } from './agent-pipeline.js';
import { AgentRequestError } from './agent-request-error.js';
import type { StreamJournal, StreamJournals } from './stream-journal.js';

export interface RouteRequest {
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** Parsed JSON body (POST), else undefined. */
  readonly body: unknown;
}

export type RouteReply =
  | { readonly kind: 'json'; readonly status: number; readonly body?: unknown }
  | {
      readonly kind: 'stream';
      readonly event: 'run-event' | 'log' | 'study-event';
      readonly journal: StreamJournal<unknown>;
    };

export interface RouteContext {
  readonly backend: Backend;
  readonly info: AgentInfo;
  readonly journals: StreamJournals;
  /** The kubeconfig's contexts (`GET contexts`). */
  readonly contexts: () => Promise<KubeContextSummary[]>;
}

type Handler = (ctx: RouteContext, req: RouteRequest) => Promise<RouteReply>;

/** A tester request waits this long for the model server (a hung one must not hold the request). */
const PREDICT_TIMEOUT_MS = 60_000;

const ok = (body: unknown, status = 200): RouteReply => ({ kind: 'json', status, body });
const noContent: RouteReply = { kind: 'json', status: 204 };

export const ROUTE_HANDLERS: Readonly<Record<AgentRouteName, Handler>> = {
  info: (ctx) => Promise.resolve(ok(ctx.info)),
  contexts: async (ctx) => ok(await ctx.contexts()),
  submit: async (ctx, req) => {
    const body = objectBody(req.body);
    const pipeline = pipelineFromPayload(body['pipeline']);
    const ref = await ctx.backend.submit(pipeline, optionsOf<RunOptions>(body));
    const uiUrl = ctx.backend.target.runUrl(ref);
    return ok({ ...ref, ...(uiUrl !== null ? { uiUrl } : {}) }, 201);
  },
  listRuns: async (ctx, req) => {
    const limit = req.query.get('limit');
    if (limit !== null && !/^\d+$/.test(limit))
      throw new AgentRequestError(
        'bad-request',
        `\`limit\` must be a whole number, not "${limit}".`,
      );
    const pipeline = req.query.get('pipeline');
    return ok(
      await ctx.backend.listRuns({
        ...(pipeline !== null ? { pipeline } : {}),
        ...(limit !== null ? { limit: Number(limit) } : {}),
      }),
    );
  },
  getRun: async (ctx, req) => ok(await ctx.backend.getRun({ id: req.params['run']! })),
  watch: (ctx, req) => {
    const run = { id: req.params['run']! };
    return Promise.resolve({
      kind: 'stream',
      event: 'run-event',
      journal: ctx.journals.get<RunEvent>(`run:${run.id}`, () => ctx.backend.watch(run)),
    });
  },
  logs: (ctx, req) => {
    const run = { id: req.params['run']! };
    const step = req.params['step']!;
    return Promise.resolve({
      kind: 'stream',
      event: 'log',
      journal: ctx.journals.get<string>(`log:${run.id}/${step}`, () => ctx.backend.logs(run, step)),
    });
  },
  executedNotebook: async (ctx, req) => {
    if (!hasExecutedNotebooks(ctx.backend))
      throw new BackendError(
        'not-supported',
        `Runs on ${ctx.info.description} keep no cell outputs the agent can read: outputs are kept for runs on this machine. Fix: run the notebook with a local agent to see its outputs in the editor.`,
      );
    return ok(await ctx.backend.executedNotebook({ id: req.params['run']! }));
  },
  cancel: async (ctx, req) => {
    await ctx.backend.cancel({ id: req.params['run']! });
    return noContent;
  },
  tune: async (ctx, req) => {
    const body = objectBody(req.body);
    const pipeline = pipelineFromPayload(body['pipeline']);
    // Checked here as each backend checks it: a bad study is a 400 naming the field and the fix.
    const { study, diagnostics } = checkStudySpec(body['study'], pipeline.graph);
    if (study === null)
      throw new AgentRequestError('invalid-study', describeStudyErrors(diagnostics), diagnostics);
    return ok(await ctx.backend.tune(pipeline, study, optionsOf<TuneOptions>(body)), 201);
  },
  listStudies: async (ctx) => ok(await ctx.backend.listStudies()),
  watchStudy: (ctx, req) => {
    const study = { id: req.params['study']! };
    return Promise.resolve({
      kind: 'stream',
      event: 'study-event',
      journal: ctx.journals.get<StudyEvent>(`study:${study.id}`, () =>
        ctx.backend.watchStudy(study),
      ),
    });
  },
  cancelStudy: async (ctx, req) => {
    await ctx.backend.cancelStudy({ id: req.params['study']! });
    return noContent;
  },
  serve: async (ctx, req) => {
    const body = objectBody(req.body);
    const model = body['model'];
    if (typeof model !== 'object' || model === null)
      throw new AgentRequestError('bad-request', '`model` must be { runId, step, variable }.');
    const ref: ModelRef = {
      runId: stringField(model as Record<string, unknown>, 'runId', 'model.runId'),
      step: stringField(model as Record<string, unknown>, 'step', 'model.step'),
      variable: stringField(model as Record<string, unknown>, 'variable', 'model.variable'),
    };
    return ok(await ctx.backend.serve(ref, optionsOf<ServeOptions>(body)), 201);
  },
  listEndpoints: async (ctx) => ok(await ctx.backend.listEndpoints()),
  deleteEndpoint: async (ctx, req) => {
    await ctx.backend.deleteEndpoint({ name: req.params['endpoint']! });
    return noContent;
  },
  capacity: async (ctx) => ok(await ctx.backend.capacity()),
  upload: async (ctx, req) => {
    const body = objectBody(req.body);
    const pipeline = pipelineFromPayload(body['pipeline']);
    return ok(await deployerOf(ctx).upload(pipeline, optionsOf<UploadOptions>(body)), 201);
  },
  schedule: async (ctx, req) => {
    const body = objectBody(req.body);
    const pipeline = pipelineFromPayload(body['pipeline']);
    const o = optionsOf<ScheduleRequest['options']>(body);
    const deployer = deployerOf(ctx);
    const trigger = parseScheduleTrigger(String(o.trigger ?? ''));
    const notebookPath = o.notebookPath !== undefined ? { notebookPath: o.notebookPath } : {};
    const versionId =
      o.versionId ??
      (o.upload === true ? (await deployer.upload(pipeline, notebookPath)).versionId : undefined);
    const schedule = await deployer.schedule(pipeline, {
      ...notebookPath,
      ...trigger,
      ...(versionId !== undefined ? { versionId } : {}),
      ...(o.parameters !== undefined ? { parameters: o.parameters } : {}),
      ...(o.experiment !== undefined ? { experiment: o.experiment } : {}),
      ...(o.maxConcurrency !== undefined ? { maxConcurrency: o.maxConcurrency } : {}),
      ...(o.name !== undefined ? { name: o.name } : {}),
    });
    return ok(schedule, 201);
  },
  listSchedules: async (ctx, req) =>
    ok(await deployerOf(ctx).listSchedules(req.query.get('pipeline') ?? undefined)),
  pauseSchedule: async (ctx, req) =>
    ok(await deployerOf(ctx).setScheduleEnabled(req.params['schedule']!, false)),
  resumeSchedule: async (ctx, req) =>
    ok(await deployerOf(ctx).setScheduleEnabled(req.params['schedule']!, true)),
  deleteSchedule: async (ctx, req) => {
    await deployerOf(ctx).deleteSchedule(req.params['schedule']!);
    return noContent;
  },
  modelMetadata: async (ctx, req) => {
    const name = req.params['endpoint']!;
    const endpoint = await endpointNamed(ctx, name);
    const url = `${endpoint.url.replace(/\/+$/, '')}/v2/models/${encodeURIComponent(name)}`;
    try {
      const answer = await fetch(url, { signal: AbortSignal.timeout(PREDICT_TIMEOUT_MS) });
      const body: unknown = answer.ok ? await answer.json() : {};
      return ok(typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {});
    } catch {
      // No V2 metadata from this server: the tester starts from a one-value row.
      return ok({});
    }
  },
  predict: async (ctx, req) => {
    const name = req.params['endpoint']!;
    const endpoint = await endpointNamed(ctx, name);
    const url = `${endpoint.url.replace(/\/+$/, '')}/v1/models/${encodeURIComponent(name)}:predict`;
    const started = performance.now();
    const answer = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(req.body ?? {}),
      signal: AbortSignal.timeout(PREDICT_TIMEOUT_MS),
    }).catch((error: unknown) => {
      throw new AgentRequestError(
        'bad-request',
        `The model server of "${name}" did not answer at ${url}: ${error instanceof Error ? error.message : String(error)}`,
      );
    });
    const body = await answer.text();
    return ok({ status: answer.status, body, latencyMs: performance.now() - started });
  },
};

/** The target's endpoint `name`, or a refusal naming the fix. */
async function endpointNamed(ctx: RouteContext, name: string): Promise<Endpoint> {
  const endpoint = (await ctx.backend.listEndpoints()).find((e) => e.name === name);
  if (endpoint === undefined)
    throw new AgentRequestError(
      'not-found',
      `No endpoint "${name}" on this target. Fix: serve a model first, or pick one from the endpoint list.`,
    );
  return endpoint;
}

/** The backend as a deployer (uploads, schedules), or a refusal naming the fix. */
function deployerOf(ctx: RouteContext): PipelineDeployer {
  if (ctx.backend.cluster === undefined)
    throw new BackendError(
      'not-supported',
      `Uploading pipelines and schedules need Kubeflow Pipelines; this request's target is ${ctx.info.description}. Fix: name a cluster target (\`target=kubeflow&context=…&namespace=…\`; in JupyterLab, Deploy asks for the context and namespace).`,
    );
  return ctx.backend.cluster;
}

function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new AgentRequestError('bad-request', 'The request body must be a JSON object.');
  return body as Record<string, unknown>;
}

function optionsOf<T>(body: Record<string, unknown>): T {
  const options = body['options'] ?? {};
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw new AgentRequestError('bad-request', '`options` must be an object when given.');
  return options as T;
}

function stringField(body: Record<string, unknown>, key: string, where = key): string {
  const value = body[key];
  if (typeof value !== 'string' || value === '')
    throw new AgentRequestError('bad-request', `\`${where}\` must be a non-empty string.`);
  return value;
}
