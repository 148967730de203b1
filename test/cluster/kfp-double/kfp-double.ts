/**
 * A KFP v2beta1 REST test double: experiments and runs over plain HTTP, reachable directly and
 * through the API server's service proxy like a real KFP
 * (`/api/v1/namespaces/kubeflow/services/ml-pipeline:8888/proxy/apis/v2beta1/...`, via a Service
 * and Endpoints that point at this process). Every run creates its Argo Workflow in the API server
 * (see ./runs.ts). Errors are gRPC-gateway bodies: `{ code, message, details }`.
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
import { applyListQuery, KfpError } from './list-query.js';
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
  /** Every request served, oldest first. */
  requests: RecordedRequest[];
  stop(): Promise<void>;
}

const API = '/apis/v2beta1';

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
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
    if (
      /^\/(pipelines|recurringruns|auth|visualizations|workflows|scheduledworkflows|filters)\b/.test(
        rest,
      )
    ) {
      throw new KfpError(12, `${method} ${API}${rest} is not implemented by the KFP double`);
    }
    throw new KfpError(5, 'Not Found');
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
  const serve = (req: IncomingMessage, res: ServerResponse): void => {
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
}
