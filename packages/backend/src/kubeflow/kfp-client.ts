/**
 * The Kubeflow Pipelines v2beta1 REST API, reached through the Kubernetes API server's service
 * proxy to `ml-pipeline` (no extra setup: the kubeconfig's credentials apply), or at an explicit
 * endpoint with a bearer token (multi-user Kubeflow: a service-account token for the audience
 * `pipelines.kubeflow.org`).
 */
import { readFile } from 'node:fs/promises';
import { BackendError } from '../backend.js';
import { clusterError } from './cluster-errors.js';
import {
  errorMessageOf,
  HttpError,
  type KubeConnection,
  type RequestSettings,
} from './kube-connection.js';
import { requestJson } from './plain-requests.js';

export interface KfpSettings {
  /** Explicit KFP API URL (`https://kubeflow.example.com/pipeline`); default: the service proxy. */
  readonly endpoint?: string;
  /** Namespace of the `ml-pipeline` service (default `kubeflow`). */
  readonly serviceNamespace?: string;
  /** Bearer token for an explicit endpoint; default: KF_PIPELINES_SA_TOKEN_PATH, then the kubeconfig user's token. */
  readonly token?: string;
  /**
   * For an explicit endpoint: request a short-lived token for this service account (in the run
   * namespace) with the audience `pipelines.kubeflow.org`, as multi-user Kubeflow expects.
   */
  readonly serviceAccount?: string;
  /** Milliseconds before a KFP call is abandoned (default 15 s; 60 s for creating a run). */
  readonly timeoutMs?: number;
}

export interface KfpExperiment {
  readonly experiment_id: string;
  readonly display_name: string;
  readonly namespace?: string;
}

export interface KfpTaskDetail {
  readonly task_id?: string;
  readonly display_name?: string;
  readonly state?: string;
  readonly start_time?: string;
  readonly end_time?: string;
  readonly pod_name?: string;
  readonly child_tasks?: { pod_name?: string }[];
  readonly error?: { message?: string };
}

export interface KfpRun {
  readonly run_id: string;
  readonly display_name: string;
  readonly description?: string;
  readonly experiment_id?: string;
  readonly state?: string;
  readonly created_at?: string;
  readonly finished_at?: string;
  readonly error?: { message?: string };
  readonly runtime_config?: { parameters?: Record<string, unknown> };
  readonly run_details?: { task_details?: KfpTaskDetail[] };
  /** The spec, or (KFP's `pipeline_source` is one of them) the uploaded version it runs. */
  readonly pipeline_spec?: unknown;
  readonly pipeline_version_reference?: { pipeline_id?: string; pipeline_version_id?: string };
  /** Set on runs a schedule started. */
  readonly recurring_run_id?: string;
}

export const KFP_TERMINAL_STATES = new Set(['SUCCEEDED', 'SKIPPED', 'FAILED', 'CANCELED']);

export interface KfpPipeline {
  readonly pipeline_id: string;
  readonly name?: string;
  readonly display_name?: string;
  readonly description?: string;
  readonly namespace?: string;
  readonly created_at?: string;
}

export interface KfpPipelineVersion {
  readonly pipeline_id: string;
  readonly pipeline_version_id: string;
  readonly name?: string;
  readonly display_name?: string;
  readonly description?: string;
  readonly created_at?: string;
}

export interface KfpRecurringRun {
  readonly recurring_run_id: string;
  readonly display_name: string;
  readonly description?: string;
  readonly pipeline_version_reference?: { pipeline_id?: string; pipeline_version_id?: string };
  readonly runtime_config?: { parameters?: Record<string, unknown> };
  readonly max_concurrency?: string;
  readonly trigger?: {
    cron_schedule?: { cron?: string; start_time?: string; end_time?: string };
    periodic_schedule?: { interval_second?: string; start_time?: string; end_time?: string };
  };
  readonly status?: string;
  readonly experiment_id?: string;
  readonly namespace?: string;
  readonly created_at?: string;
  readonly no_catchup?: boolean;
}

export class KfpClient {
  private constructor(
    private readonly kube: KubeConnection,
    /** Absolute base URL ending in `/apis/v2beta1`. */
    readonly base: string,
    private readonly token: string | undefined,
    readonly viaProxy: boolean,
    private readonly timeoutMs: number | undefined,
  ) {}

  static async open(kube: KubeConnection, settings: KfpSettings = {}): Promise<KfpClient> {
    if (settings.endpoint === undefined) {
      const ns = settings.serviceNamespace ?? 'kubeflow';
      const base = `${kube.server}/api/v1/namespaces/${encodeURIComponent(ns)}/services/ml-pipeline:8888/proxy/apis/v2beta1`;
      return new KfpClient(kube, base, undefined, true, settings.timeoutMs);
    }
    let token = settings.token;
    if (token === undefined && settings.serviceAccount !== undefined) {
      token = await requestServiceAccountToken(kube, settings.serviceAccount);
    }
    const tokenPath = process.env.KF_PIPELINES_SA_TOKEN_PATH;
    if (token === undefined && tokenPath !== undefined)
      token = (await readFile(tokenPath, 'utf8')).trim();
    token ??= await kube.bearerToken();
    return new KfpClient(
      kube,
      `${settings.endpoint.replace(/\/+$/, '')}/apis/v2beta1`,
      token,
      false,
      settings.timeoutMs,
    );
  }

  /** Where the KFP API is, for messages (never with credentials). */
  describe(): string {
    return this.viaProxy
      ? `the ml-pipeline service through ${this.kube.server}`
      : this.base.replace(/\/apis\/v2beta1$/, '');
  }

  private async call<T>(
    method: string,
    path: string,
    doing: string,
    body?: unknown,
    settings: RequestSettings = {},
  ): Promise<T> {
    const url = `${this.base}${path}`;
    if (this.timeoutMs !== undefined) settings = { ...settings, timeoutMs: this.timeoutMs };
    try {
      if (this.viaProxy) return await requestJson<T>(this.kube, method, url, body, settings);
      return await requestJson<T>(this.kube, method, url, body, {
        ...settings,
        ...(this.token !== undefined ? { headers: { authorization: `Bearer ${this.token}` } } : {}),
      });
    } catch (error) {
      if (
        error instanceof HttpError &&
        (error.status === 404 || error.status === 503) &&
        this.viaProxy &&
        /services\/ml-pipeline/.test(String(errorText(error)))
      ) {
        throw new BackendError(
          'cluster-error',
          `Kubeflow Pipelines is not reachable through ${this.kube.server}: ${errorText(error)}. ` +
            'Fix: check that KFP runs in the cluster (`kubectl -n kubeflow get svc ml-pipeline`), set the namespace of its service, or give its URL with --kfp-endpoint.',
        );
      }
      throw clusterError(error, { doing, server: this.describe(), context: this.kube.contextName });
    }
  }

  healthz(): Promise<{ multi_user?: boolean }> {
    return this.call('GET', '/healthz', 'check the Kubeflow Pipelines API', undefined, {
      retries: 1,
      timeoutMs: 5000,
    });
  }

  async findExperiment(
    name: string,
    namespace: string | undefined,
  ): Promise<KfpExperiment | undefined> {
    const filter = JSON.stringify({
      predicates: [{ key: 'display_name', operation: 'EQUALS', string_value: name }],
    });
    const q = new URLSearchParams({ filter, page_size: '10' });
    if (namespace !== undefined) q.set('namespace', namespace);
    const res = await this.call<{ experiments?: KfpExperiment[] }>(
      'GET',
      `/experiments?${q.toString()}`,
      `find experiment "${name}"`,
    );
    return res.experiments?.find((e) => e.display_name === name);
  }

  createExperiment(name: string, namespace: string | undefined): Promise<KfpExperiment> {
    return this.call('POST', '/experiments', `create experiment "${name}"`, {
      display_name: name,
      description: 'Created by Cellflow',
      ...(namespace !== undefined ? { namespace } : {}),
    });
  }

  createRun(body: Record<string, unknown>): Promise<KfpRun> {
    // Never retried blindly: the caller checks for an existing run with the same key first.
    return this.call('POST', '/runs', 'create the run', body, { retries: 0, timeoutMs: 60_000 });
  }

  async getRun(runId: string, settings: RequestSettings = {}): Promise<KfpRun> {
    return this.withPipelineSpec(
      await this.call<KfpRun>(
        'GET',
        `/runs/${encodeURIComponent(runId)}`,
        `read run ${runId}`,
        undefined,
        settings,
      ),
    );
  }

  /** Specs of uploaded versions by version id (a version never changes). */
  private readonly versionSpecs = new Map<string, Promise<unknown>>();

  /**
   * A run a schedule started from an uploaded version names the version instead of carrying the
   * spec: the spec is filled in from the version, so the run reads like any other (pipeline name,
   * steps). Left as it is when the version cannot be read.
   */
  private async withPipelineSpec(run: KfpRun): Promise<KfpRun> {
    const ref = run.pipeline_version_reference;
    if (run.pipeline_spec !== undefined || !ref?.pipeline_id || !ref.pipeline_version_id)
      return run;
    const versionId = ref.pipeline_version_id;
    let spec = this.versionSpecs.get(versionId);
    if (spec === undefined) {
      spec = this.call<{ pipeline_spec?: unknown }>(
        'GET',
        `/pipelines/${encodeURIComponent(ref.pipeline_id)}/versions/${encodeURIComponent(versionId)}`,
        `read pipeline version ${versionId}`,
      ).then((version) => version.pipeline_spec);
      this.versionSpecs.set(versionId, spec);
      spec.catch(() => this.versionSpecs.delete(versionId));
    }
    try {
      return { ...run, pipeline_spec: await spec };
    } catch {
      return run;
    }
  }

  async listRuns(options: {
    experimentId?: string;
    namespace?: string;
    pageSize?: number;
  }): Promise<KfpRun[]> {
    const q = new URLSearchParams({
      page_size: String(options.pageSize ?? 20),
      sort_by: 'created_at desc',
    });
    if (options.experimentId !== undefined) q.set('experiment_id', options.experimentId);
    if (options.namespace !== undefined) q.set('namespace', options.namespace);
    const res = await this.call<{ runs?: KfpRun[] }>('GET', `/runs?${q.toString()}`, 'list runs');
    return Promise.all((res.runs ?? []).map((run) => this.withPipelineSpec(run)));
  }

  async terminateRun(runId: string): Promise<void> {
    await this.call(
      'POST',
      `/runs/${encodeURIComponent(runId)}:terminate`,
      `cancel run ${runId}`,
      {},
      { retries: 2 },
    );
  }

  /** The pipeline named `name` (in `namespace`, or shared), if any. */
  async findPipeline(
    name: string,
    namespace: string | undefined,
  ): Promise<KfpPipeline | undefined> {
    const filter = JSON.stringify({
      predicates: [{ key: 'name', operation: 'EQUALS', string_value: name }],
    });
    const q = new URLSearchParams({ filter, page_size: '10' });
    if (namespace !== undefined) q.set('namespace', namespace);
    const res = await this.call<{ pipelines?: KfpPipeline[] }>(
      'GET',
      `/pipelines?${q.toString()}`,
      `find pipeline "${name}"`,
    );
    return res.pipelines?.find((p) => p.name === name);
  }

  /** A pipeline with no version yet (`CreatePipeline`); 409 when the name is taken. */
  createPipeline(
    name: string,
    description: string,
    namespace: string | undefined,
  ): Promise<KfpPipeline> {
    return this.call(
      'POST',
      '/pipelines',
      `create pipeline "${name}"`,
      { name, display_name: name, description, ...(namespace !== undefined ? { namespace } : {}) },
      { retries: 0 },
    );
  }

  /**
   * Uploads `yaml` as a new version of pipeline `pipelineId` (`pipelines/upload_version`, a
   * multipart form, as the KFP UI and SDK do; the JSON CreatePipelineVersion would need a URL the
   * server downloads from). Not retried: version names are unique, so the caller looks first.
   */
  async uploadPipelineVersion(
    pipelineId: string,
    name: string,
    description: string,
    yaml: string,
  ): Promise<KfpPipelineVersion> {
    const form = new FormData();
    form.append('uploadfile', new Blob([yaml], { type: 'application/x-yaml' }), `${name}.yaml`);
    const encoded = new Response(form);
    const body = new Uint8Array(await encoded.arrayBuffer());
    const q = new URLSearchParams({
      pipelineid: pipelineId,
      name,
      display_name: name,
      description,
    });
    return this.call(
      'POST',
      `/pipelines/upload_version?${q.toString()}`,
      `upload version "${name}"`,
      body,
      {
        retries: 0,
        timeoutMs: 60_000,
        contentType: encoded.headers.get('content-type') ?? 'multipart/form-data',
      },
    );
  }

  /**
   * Versions of a pipeline, newest first; with `name`, only the version of that name. KFP keeps
   * `created_at` in whole seconds and orders a tie arbitrarily, so versions of the same second are
   * put in the order of the upload instant Cellflow writes in their description (others keep
   * KFP's order, after them).
   */
  async listPipelineVersions(
    pipelineId: string,
    options: { name?: string; pageSize?: number } = {},
  ): Promise<KfpPipelineVersion[]> {
    const q = new URLSearchParams({
      page_size: String(options.pageSize ?? 20),
      sort_by: 'created_at desc',
    });
    if (options.name !== undefined)
      q.set(
        'filter',
        JSON.stringify({
          predicates: [{ key: 'name', operation: 'EQUALS', string_value: options.name }],
        }),
      );
    const res = await this.call<{ pipeline_versions?: KfpPipelineVersion[] }>(
      'GET',
      `/pipelines/${encodeURIComponent(pipelineId)}/versions?${q.toString()}`,
      `list the versions of pipeline ${pipelineId}`,
    );
    return newestVersionsFirst(res.pipeline_versions ?? []);
  }

  createRecurringRun(body: Record<string, unknown>): Promise<KfpRecurringRun> {
    // Not retried blindly: the caller looks for the one a lost answer may have made.
    return this.call('POST', '/recurringruns', 'create the schedule', body, { retries: 0 });
  }

  async listRecurringRuns(options: {
    namespace?: string;
    experimentId?: string;
    pageSize?: number;
  }): Promise<KfpRecurringRun[]> {
    const q = new URLSearchParams({
      page_size: String(options.pageSize ?? 100),
      sort_by: 'created_at desc',
    });
    if (options.namespace !== undefined) q.set('namespace', options.namespace);
    if (options.experimentId !== undefined) q.set('experiment_id', options.experimentId);
    const res = await this.call<{ recurringRuns?: KfpRecurringRun[] }>(
      'GET',
      `/recurringruns?${q.toString()}`,
      'list schedules',
    );
    return res.recurringRuns ?? [];
  }

  getRecurringRun(id: string): Promise<KfpRecurringRun> {
    return this.call('GET', `/recurringruns/${encodeURIComponent(id)}`, `read schedule ${id}`);
  }

  /** Pauses (`disable`) or resumes (`enable`) a schedule; both are idempotent. */
  async setRecurringRunEnabled(id: string, enabled: boolean): Promise<void> {
    const action = enabled ? 'enable' : 'disable';
    await this.call(
      'POST',
      `/recurringruns/${encodeURIComponent(id)}:${action}`,
      `${enabled ? 'resume' : 'pause'} schedule ${id}`,
      {},
      { retries: 2 },
    );
  }

  async deleteRecurringRun(id: string): Promise<void> {
    await this.call(
      'DELETE',
      `/recurringruns/${encodeURIComponent(id)}`,
      `delete schedule ${id}`,
      undefined,
      { retries: 2 },
    );
  }

  /**
   * An artifact's content, by its URI in the object store (`minio://`, `s3://`, `gs://`), through
   * the KFP UI's artifact endpoint (`GET /artifacts/get`, where the KFP UI reads the HTML and
   * Markdown it shows): the `ml-pipeline-ui` service through the API server, or the explicit
   * endpoint's `/artifacts/get`. The store's credentials stay with KFP. JSON comes back parsed.
   */
  async readArtifact(uri: string, namespace?: string): Promise<unknown> {
    const m = /^(minio|s3|gs):\/\/([^/]+)\/(.+)$/.exec(uri);
    if (m === null)
      throw new BackendError(
        'cluster-error',
        `Cannot read the artifact ${uri}: KFP's UI serves minio://, s3:// and gs:// artifacts.`,
      );
    const q = new URLSearchParams({
      source: m[1] === 'gs' ? 'gcs' : m[1]!,
      bucket: m[2]!,
      key: m[3]!,
      ...(namespace !== undefined ? { namespace } : {}),
    });
    const ui = this.viaProxy
      ? this.base.replace(
          /\/services\/ml-pipeline:8888\/proxy\/apis\/v2beta1$/,
          '/services/ml-pipeline-ui:80/proxy',
        )
      : this.base.replace(/\/apis\/v2beta1$/, '');
    const settings: RequestSettings = {
      timeoutMs: this.timeoutMs ?? 60_000,
      ...(!this.viaProxy && this.token !== undefined
        ? { headers: { authorization: `Bearer ${this.token}` } }
        : {}),
    };
    try {
      return await requestJson<unknown>(
        this.kube,
        'GET',
        `${ui}/artifacts/get?${q}`,
        undefined,
        settings,
      );
    } catch (error) {
      if (error instanceof HttpError && (error.status === 404 || error.status === 503)) {
        const text = errorText(error);
        throw /services? "?ml-pipeline-ui/.test(text)
          ? new BackendError(
              'cluster-error',
              `The KFP UI service is not reachable through ${this.kube.server}: ${text}. Fix: check that KFP's UI runs in the cluster (\`kubectl -n kubeflow get svc ml-pipeline-ui\`), or give KFP's URL with --kfp-endpoint.`,
            )
          : new BackendError('not-found', `KFP has no artifact ${uri}: ${text}.`);
      }
      throw clusterError(error, {
        doing: `read the artifact ${uri} through the KFP UI (ml-pipeline-ui)`,
        server: this.describe(),
        context: this.kube.contextName,
      });
    }
  }
}

function errorText(error: HttpError): string {
  const message = errorMessageOf(error.body);
  return message !== '' ? message : error.message;
}

/** The audience multi-user Kubeflow Pipelines accepts service-account tokens for. */
export const KFP_TOKEN_AUDIENCE = 'pipelines.kubeflow.org';

/** A one-hour token for `serviceAccount` (TokenRequest API), never stored. */
async function requestServiceAccountToken(
  kube: KubeConnection,
  serviceAccount: string,
): Promise<string> {
  try {
    const answer = await kube.write((o) =>
      kube.core.createNamespacedServiceAccountToken(
        {
          name: serviceAccount,
          namespace: kube.namespace,
          body: {
            apiVersion: 'authentication.k8s.io/v1',
            kind: 'TokenRequest',
            spec: { audiences: [KFP_TOKEN_AUDIENCE], expirationSeconds: 3600 },
          },
        },
        o,
      ),
    );
    const token = answer.status?.token;
    if (token === undefined)
      throw new BackendError(
        'cluster-error',
        `The API server returned no token for service account ${serviceAccount}.`,
      );
    return token;
  } catch (error) {
    throw clusterError(error, {
      doing: `request a token for service account ${kube.namespace}/${serviceAccount}`,
      server: kube.server,
      context: kube.contextName,
    });
  }
}

/** The instant Cellflow's upload wrote in a version's description (`... at 2026-12-07T09:01:02.345Z.`), in ms. */
function uploadInstant(version: KfpPipelineVersion): number {
  const stamp = /^Uploaded by Cellflow\b.* at (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z)\.$/.exec(
    version.description ?? '',
  )?.[1];
  return stamp === undefined ? -Infinity : Date.parse(stamp);
}

/** KFP's newest-first order, with versions of the same `created_at` second ordered by upload instant. */
export function newestVersionsFirst(versions: readonly KfpPipelineVersion[]): KfpPipelineVersion[] {
  const second = (v: KfpPipelineVersion): number => Date.parse(v.created_at ?? '') || 0;
  return versions
    .map((version, index) => ({ version, index }))
    .sort(
      (a, b) =>
        second(b.version) - second(a.version) ||
        uploadInstant(b.version) - uploadInstant(a.version) ||
        a.index - b.index,
    )
    .map(({ version }) => version);
}
