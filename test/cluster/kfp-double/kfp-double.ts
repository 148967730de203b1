/**
 * A KFP v2beta1 REST test double: experiments, runs, pipelines with versions (./pipelines.ts) and
 * recurring runs with a scheduler the test ticks (./recurring-runs.ts) over plain HTTP, reachable directly and
 * through the API server's service proxy like a real KFP
 * (`/api/v1/namespaces/kubeflow/services/ml-pipeline:8888/proxy/apis/v2beta1/...`, via a Service
 * and Endpoints that point at this process). Every run creates its Argo Workflow in the API server
 * (see ./runs.ts). Errors are gRPC-gateway bodies: `{ code, message, details }`. The KFP UI's
 * artifact endpoint (`ml-pipeline-ui`, port 80) is served too (./artifacts.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { TestCluster } from '../harness.js';
import {
  KubeApiError,
  type KubeObject,
  RESOURCES,
  type ResourceType,
  resourcePath,
} from '../kube-client.js';
import { KfpArtifacts } from './artifacts.js';
import { applyListQuery, KfpError } from './list-query.js';
import { KfpPipelines, type UploadedFile } from './pipelines.js';
import { KfpRecurringRuns } from './recurring-runs.js';
import { KfpStore } from './runs.js';

export interface KfpDoubleOptions {
  /** KFP multi-user mode: experiments need a namespace, runs go to it (default false). */
  multiUser?: boolean;
  /** Namespace of the `ml-pipeline` Service and of single-user runs (default `kubeflow`). */
  namespace?: string;
  /** Register the Service + Endpoints for the API server proxy (default true when possible). */
  serviceProxy?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  body: unknown;
  status: number;
}

export interface KfpDouble {
  /** `http://127.0.0.1:PORT`: append `/apis/v2beta1/...`. */
  url: string;
  /** Path prefix through the API server (`/api/v1/.../services/ml-pipeline:8888/proxy`), if set up. */
  proxyPath: string | undefined;
  /** `cluster.server + proxyPath`, if set up. */
  proxyUrl: string | undefined;
  store: KfpStore;
  pipelines: KfpPipelines;
  /** Recurring runs; `recurringRuns.tick()` starts the runs that are due. */
  recurringRuns: KfpRecurringRuns;
  /** What the UI's artifact endpoint serves (`ml-pipeline-ui`, `/artifacts/get`). */
  artifacts: KfpArtifacts;
  /** Every request served, oldest first. */
  requests: RecordedRequest[];
  stop(): Promise<void>;
}

const API = '/apis/v2beta1';

/** The body: JSON, or for a multipart upload its `uploadfile` (as KFP's upload endpoints read it). */
async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  const contentType = req.headers['content-type'] ?? '';
  if (contentType.startsWith('multipart/form-data')) {
    let form: FormData;
    try {
      form = await new Request('http://kfp', {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: raw,
      }).formData();
    } catch {
      throw new KfpError(3, 'Invalid input error: the multipart body cannot be read');
    }
    const file = form.get('uploadfile');
    const upload: UploadedFile | undefined =
      file instanceof File ? { name: file.name, text: await file.text() } : undefined;
    return { upload };
  }
  const text = raw.toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new KfpError(3, 'invalid character in request body: not JSON');
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function listen(server: Server, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : 0;
}

export async function startKfpDouble(
  cluster: TestCluster,
  options: KfpDoubleOptions = {},
): Promise<KfpDouble> {
  const namespace = options.namespace ?? 'kubeflow';
  const store = new KfpStore(cluster.admin, {
    multiUser: options.multiUser ?? false,
    defaultNamespace: namespace,
  });
  const requests: RecordedRequest[] = [];
  const pipelines = new KfpPipelines(options.multiUser ?? false);
  store.resolveVersionSpec = (reference) => pipelines.resolveReference(reference).pipeline_spec;
  const recurringRuns = new KfpRecurringRuns(store, pipelines);
  const uploaded = (body: unknown): UploadedFile | undefined =>
    (body as { upload?: UploadedFile } | undefined)?.upload;

  const route = async (method: string, url: URL, body: unknown): Promise<unknown> => {
    const path = url.pathname.replace(/\/+$/, '');
    const q = url.searchParams;
    if (!path.startsWith(API)) throw new KfpError(5, 'Not Found');
    const rest = path.slice(API.length);
    let m: RegExpExecArray | null;
    if (rest === '/healthz' && method === 'GET') {
      return { multi_user: store.options.multiUser, pipeline_store: 'database' };
    }
    if (rest === '/experiments' && method === 'POST') return store.createExperiment(body);
    if (rest === '/experiments' && method === 'GET') {
      const ns = q.get('namespace');
      if (store.options.multiUser && (ns === null || ns === '')) {
        throw new KfpError(
          3,
          'Invalid input error: In multi-user mode, ListExperiments requires a namespace',
        );
      }
      const rows = [...store.experiments.values()].filter(
        (e) => !store.options.multiUser || e.namespace === ns,
      );
      const { page, ...rest2 } = applyListQuery(rows, Object.fromEntries(q), [
        'display_name', 'created_at', 'experiment_id', 'storage_state', 'namespace', 'description',
      ]); // prettier-ignore
      return { experiments: page, ...rest2 };
    }
    if ((m = /^\/experiments\/([^/:]+)(?::(archive|unarchive))?$/.exec(rest)) !== null) {
      const [, id = '', action] = m;
      const experiment = store.getExperiment(decodeURIComponent(id));
      if (action !== undefined && method === 'POST') {
        experiment.storage_state = action === 'archive' ? 'ARCHIVED' : 'AVAILABLE';
        if (action === 'archive') {
          for (const run of store.runs.values()) {
            if (run.experiment_id === experiment.experiment_id) run.storage_state = 'ARCHIVED';
          }
        }
        return {};
      }
      if (action === undefined && method === 'GET') return experiment;
      if (action === undefined && method === 'DELETE') {
        store.experiments.delete(experiment.experiment_id);
        return {};
      }
    }
    if (rest === '/runs' && method === 'POST') {
      return store.runView(await store.createRun(body, q.get('experiment_id')));
    }
    if (rest === '/runs' && method === 'GET') {
      const ns = q.get('namespace');
      const experimentId = q.get('experiment_id');
      if (store.options.multiUser && (ns === null || ns === '') && experimentId === null) {
        throw new KfpError(
          3,
          'Invalid input error: In multi-user mode, ListRuns requires a namespace or an experiment',
        );
      }
      const records = [...store.runs.values()].filter(
        (r) =>
          (experimentId === null || r.experiment_id === experimentId) &&
          (!store.options.multiUser || ns === null || ns === '' || r.namespace === ns),
      );
      await Promise.all(records.map((r) => store.refresh(r)));
      const rows = records.map((r) => store.runView(r));
      const { page, ...rest2 } = applyListQuery(rows, Object.fromEntries(q), [
        'display_name', 'created_at', 'finished_at', 'state', 'run_id', 'experiment_id', 'storage_state', 'description',
      ]); // prettier-ignore
      return { runs: page, ...rest2 };
    }
    if ((m = /^\/runs\/([^/:]+)(?::(terminate|archive|unarchive|retry))?$/.exec(rest)) !== null) {
      const [, id = '', action] = m;
      const run = store.getRunRecord(decodeURIComponent(id));
      if (action === undefined && method === 'GET') return store.runView(await store.refresh(run));
      if (action === undefined && method === 'DELETE') {
        await store.deleteRun(run);
        return {};
      }
      if (action === 'terminate' && method === 'POST') {
        await store.terminate(run);
        return {};
      }
      if ((action === 'archive' || action === 'unarchive') && method === 'POST') {
        run.storage_state = action === 'archive' ? 'ARCHIVED' : 'AVAILABLE';
        return {};
      }
      if (action === 'retry')
        throw new KfpError(12, 'RetryRun is not implemented by the KFP double');
    }
    const pipelineAnswer = routePipelines(method, rest, q, body);
    if (pipelineAnswer !== undefined) return pipelineAnswer;
    const recurringAnswer = routeRecurringRuns(method, rest, q, body);
    if (recurringAnswer !== undefined) return recurringAnswer;
    if (
      /^\/(pipelines|recurringruns|auth|visualizations|workflows|scheduledworkflows|filters)\b/.test(
        rest,
      )
    ) {
      throw new KfpError(12, `${method} ${API}${rest} is not implemented by the KFP double`);
    }
    throw new KfpError(5, 'Not Found');
  };

  /** `pipelines`, `pipelines/upload`, `pipelines/upload_version`, `pipelines/{id}/versions`. */
  const routePipelines = (
    method: string,
    rest: string,
    q: URLSearchParams,
    body: unknown,
  ): unknown => {
    let m: RegExpExecArray | null;
    if (rest === '/pipelines/upload' && method === 'POST')
      return pipelines.uploadPipeline(uploaded(body), q);
    if (rest === '/pipelines/upload_version' && method === 'POST')
      return pipelines.uploadVersion(uploaded(body), q);
    if (rest === '/pipelines' && method === 'POST') return pipelines.createPipeline(body);
    if (rest === '/pipelines' && method === 'GET') {
      const ns = q.get('namespace');
      const rows = [...pipelines.pipelines.values()].filter(
        (p) => !store.options.multiUser || (p.namespace ?? '') === (ns ?? ''),
      );
      const { page, ...more } = applyListQuery(rows, Object.fromEntries(q), [
        'name', 'display_name', 'created_at', 'pipeline_id', 'namespace', 'description',
      ]); // prettier-ignore
      return { pipelines: page, ...more };
    }
    if ((m = /^\/pipelines\/names\/([^/]+)$/.exec(rest)) !== null && method === 'GET')
      return pipelines.getPipelineByName(decodeURIComponent(m[1]!), q.get('namespace'));
    if ((m = /^\/pipelines\/([^/]+)$/.exec(rest)) !== null) {
      const id = decodeURIComponent(m[1]!);
      if (method === 'GET') return pipelines.getPipeline(id);
      if (method === 'DELETE') {
        if (q.get('cascade') === 'true')
          for (const v of pipelines.versionsOf(id))
            pipelines.versions.delete(v.pipeline_version_id);
        pipelines.deletePipeline(id);
        return {};
      }
    }
    if ((m = /^\/pipelines\/([^/]+)\/versions$/.exec(rest)) !== null) {
      const id = decodeURIComponent(m[1]!);
      pipelines.getPipeline(id);
      if (method === 'POST')
        throw new KfpError(
          12,
          'CreatePipelineVersion (package_url) is not implemented by the KFP double; use upload_version',
        );
      if (method === 'GET') {
        const { page, ...more } = applyListQuery(pipelines.versionsOf(id), Object.fromEntries(q), [
          'name', 'display_name', 'created_at', 'pipeline_version_id', 'description',
        ]); // prettier-ignore
        return { pipeline_versions: page, ...more };
      }
    }
    if ((m = /^\/pipelines\/([^/]+)\/versions\/([^/]+)$/.exec(rest)) !== null) {
      const version = pipelines.getVersion(decodeURIComponent(m[1]!), decodeURIComponent(m[2]!));
      if (method === 'GET') return version;
      if (method === 'DELETE') {
        pipelines.versions.delete(version.pipeline_version_id);
        return {};
      }
    }
    return undefined;
  };

  /** `recurringruns`, `recurringruns/{id}`, `:enable`, `:disable`. */
  const routeRecurringRuns = (
    method: string,
    rest: string,
    q: URLSearchParams,
    body: unknown,
  ): unknown => {
    if (rest === '/recurringruns' && method === 'POST')
      return recurringRuns.view(recurringRuns.create(body));
    if (rest === '/recurringruns' && method === 'GET') {
      const ns = q.get('namespace');
      const experimentId = q.get('experiment_id');
      if (store.options.multiUser && (ns === null || ns === '') && experimentId === null)
        throw new KfpError(
          3,
          'Invalid input error: In multi-user mode, ListRecurringRuns requires a namespace or an experiment',
        );
      const rows = [...recurringRuns.schedules.values()]
        .filter(
          (r) =>
            (experimentId === null || r.experiment_id === experimentId) &&
            (!store.options.multiUser || ns === null || ns === '' || r.namespace === ns),
        )
        .map((r) => recurringRuns.view(r));
      const { page, ...more } = applyListQuery(rows, Object.fromEntries(q), [
        'display_name', 'created_at', 'recurring_run_id', 'experiment_id', 'status', 'description',
      ]); // prettier-ignore
      return { recurringRuns: page, ...more };
    }
    const m = /^\/recurringruns\/([^/:]+)(?::(enable|disable))?$/.exec(rest);
    if (m === null) return undefined;
    const id = decodeURIComponent(m[1]!);
    const action = m[2];
    if (action === undefined && method === 'GET') return recurringRuns.view(recurringRuns.get(id));
    if (action === undefined && method === 'DELETE') {
      recurringRuns.delete(id);
      return {};
    }
    if (action !== undefined && method === 'POST') {
      recurringRuns.setEnabled(id, action === 'enable');
      return {};
    }
    return undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://kfp');
    const method = req.method ?? 'GET';
    let body: unknown;
    let status = 200;
    let answer: unknown;
    try {
      body = await readBody(req);
      answer = await route(method, url, body);
    } catch (error) {
      const kfp =
        error instanceof KfpError
          ? error
          : new KfpError(13, error instanceof Error ? error.message : String(error));
      status = kfp.httpStatus;
      answer = { code: kfp.code, message: kfp.message, details: [] };
    }
    requests.push({ method, path: url.pathname + url.search, body, status });
    send(res, status, answer);
  };
  const artifacts = new KfpArtifacts();
  const serve = (req: IncomingMessage, res: ServerResponse): void => {
    if (artifacts.serve(req, res)) return;
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, { code: 13, message: String(error), details: [] });
    });
  };

  const direct = createServer(serve);
  const port = await listen(direct, '127.0.0.1');
  const servers = [direct];

  // The API server refuses to proxy to loopback addresses: listen on this machine's own address.
  let proxyPath: string | undefined;
  const wantProxy = options.serviceProxy ?? true;
  if (wantProxy && cluster.hostAddress !== undefined) {
    const proxied = createServer(serve);
    const proxyPort = await listen(proxied, cluster.hostAddress);
    servers.push(proxied);
    await registerService(cluster, namespace, cluster.hostAddress, proxyPort);
    proxyPath = `/api/v1/namespaces/${namespace}/services/ml-pipeline:8888/proxy`;
  }

  return {
    url: `http://127.0.0.1:${port}`,
    proxyPath,
    proxyUrl: proxyPath === undefined ? undefined : `${cluster.server}${proxyPath}`,
    store,
    pipelines,
    recurringRuns,
    artifacts,
    requests,
    async stop(): Promise<void> {
      for (const s of servers) {
        s.closeAllConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
    },
  };
}

/**
 * What a KFP install looks like to the API server's service proxy: an `ml-pipeline` Service
 * (port 8888) and Endpoints naming a Pod whose IP is `ip` (the proxy checks the Pod exists and
 * owns the address). No controller runs, so the Pod's status and the Endpoints are written here.
 */
async function registerService(
  cluster: TestCluster,
  namespace: string,
  ip: string,
  port: number,
): Promise<void> {
  await cluster.ensureNamespace(namespace);
  const labels = { app: 'ml-pipeline', 'app.kubernetes.io/component': 'ml-pipeline' };
  const podName = 'ml-pipeline-kfp-double';
  const { admin } = cluster;
  const upsert = async (type: ResourceType, object: KubeObject): Promise<void> => {
    try {
      await admin.create(resourcePath(type, { namespace }), object);
    } catch (error) {
      if (!(error instanceof KubeApiError && error.status === 409)) throw error;
      await admin.apply(
        resourcePath(type, { namespace, name: object.metadata.name }),
        object,
        'cellflow-kfp-double',
      );
    }
  };
  await upsert(RESOURCES.pods, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: podName, namespace, labels },
    spec: {
      nodeName: 'cpu-node-0',
      automountServiceAccountToken: false,
      containers: [
        {
          name: 'ml-pipeline-api-server',
          image: 'cellflow/kfp-double',
          ports: [{ containerPort: port }],
        },
      ],
    },
  });
  await admin.mergePatch(
    resourcePath(RESOURCES.pods, { namespace, name: podName, subresource: 'status' }),
    {
      status: {
        phase: 'Running',
        podIP: ip,
        podIPs: [{ ip }],
        hostIP: '127.0.0.1',
        startTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      },
    },
  );
  await upsert(RESOURCES.services, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'ml-pipeline', namespace, labels },
    spec: {
      selector: { app: 'ml-pipeline' },
      ports: [{ name: 'http', port: 8888, protocol: 'TCP', targetPort: port }],
    },
  });
  await upsert(RESOURCES.endpoints, {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'ml-pipeline', namespace, labels },
    subsets: [
      {
        addresses: [{ ip, targetRef: { kind: 'Pod', namespace, name: podName } }],
        ports: [{ name: 'http', port, protocol: 'TCP' }],
      },
    ],
  });
  // The KFP UI's server (its artifact endpoint), port 80, served by the same process.
  const ui = { app: 'ml-pipeline-ui' };
  await upsert(RESOURCES.services, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'ml-pipeline-ui', namespace, labels: ui },
    spec: { selector: ui, ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: port }] },
  });
  await upsert(RESOURCES.endpoints, {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'ml-pipeline-ui', namespace, labels: ui },
    subsets: [
      {
        addresses: [{ ip, targetRef: { kind: 'Pod', namespace, name: podName } }],
        ports: [{ name: 'http', port, protocol: 'TCP' }],
      },
    ],
  });
}
