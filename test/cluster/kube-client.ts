/**
 * A small typed REST client for the harness and the controller driver: plain HTTPS requests to
 * the API server with a bearer token and the cluster CA, so tests see exactly what a real cluster
 * answers (status codes, Status bodies, watch events). Product code uses @kubernetes/client-node
 * with the kubeconfig the harness writes instead.
 */
import { Agent, request } from 'node:https';
import type { IncomingMessage } from 'node:http';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name?: string;
    generateName?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp?: string;
    [key: string]: unknown;
  };
  spec?: unknown;
  status?: unknown;
  [key: string]: unknown;
}

export interface KubeList<T = KubeObject> {
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

export interface WatchEvent<T = KubeObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/** An error answer of the API server: `status` is the HTTP code (403, 404, 409, 422, ...). */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

/** Identifies a resource type; `group` is '' for the core API. */
export interface ResourceType {
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
}

export const RESOURCES = {
  namespaces: { group: '', version: 'v1', plural: 'namespaces', namespaced: false },
  nodes: { group: '', version: 'v1', plural: 'nodes', namespaced: false },
  pods: { group: '', version: 'v1', plural: 'pods', namespaced: true },
  services: { group: '', version: 'v1', plural: 'services', namespaced: true },
  endpoints: { group: '', version: 'v1', plural: 'endpoints', namespaced: true },
  serviceAccounts: { group: '', version: 'v1', plural: 'serviceaccounts', namespaced: true },
  configMaps: { group: '', version: 'v1', plural: 'configmaps', namespaced: true },
  secrets: { group: '', version: 'v1', plural: 'secrets', namespaced: true },
  events: { group: '', version: 'v1', plural: 'events', namespaced: true },
  workflows: { group: 'argoproj.io', version: 'v1alpha1', plural: 'workflows', namespaced: true },
  experiments: {
    group: 'kubeflow.org',
    version: 'v1beta1',
    plural: 'experiments',
    namespaced: true,
  },
  trials: { group: 'kubeflow.org', version: 'v1beta1', plural: 'trials', namespaced: true },
  suggestions: {
    group: 'kubeflow.org',
    version: 'v1beta1',
    plural: 'suggestions',
    namespaced: true,
  },
  inferenceServices: {
    group: 'serving.kserve.io',
    version: 'v1beta1',
    plural: 'inferenceservices',
    namespaced: true,
  },
  crds: {
    group: 'apiextensions.k8s.io',
    version: 'v1',
    plural: 'customresourcedefinitions',
    namespaced: false,
  },
  roles: { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'roles', namespaced: true },
  roleBindings: {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    plural: 'rolebindings',
    namespaced: true,
  },
} as const satisfies Record<string, ResourceType>;

/** `/api/v1/namespaces/ns/pods/name/status`-style path. */
export function resourcePath(
  type: ResourceType,
  where: { namespace?: string; name?: string; subresource?: string } = {},
): string {
  const base = type.group === '' ? `/api/${type.version}` : `/apis/${type.group}/${type.version}`;
  let path = base;
  if (type.namespaced && where.namespace !== undefined) {
    path += `/namespaces/${encodeURIComponent(where.namespace)}`;
  }
  path += `/${type.plural}`;
  if (where.name !== undefined) path += `/${encodeURIComponent(where.name)}`;
  if (where.subresource !== undefined) path += `/${where.subresource}`;
  return path;
}

export interface RequestOptions {
  body?: unknown;
  contentType?: string;
  query?: Record<string, string | number | boolean | undefined>;
  signal?: AbortSignal;
}

export interface KubeClientOptions {
  server: string;
  token: string;
  ca: string;
}

export class KubeClient {
  private readonly agent: Agent;
  private readonly url: URL;

  constructor(private readonly options: KubeClientOptions) {
    this.url = new URL(options.server);
    this.agent = new Agent({ ca: options.ca, keepAlive: true, maxSockets: 16 });
  }

  /** Closes idle keep-alive sockets (call when the cluster stops). */
  close(): void {
    this.agent.destroy();
  }

  /** A client with the same server and CA but another bearer token. */
  withToken(token: string): KubeClient {
    return new KubeClient({ ...this.options, token });
  }

  private open(method: string, path: string, options: RequestOptions): Promise<IncomingMessage> {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(options.query ?? {})) {
      if (v !== undefined) query.set(k, String(v));
    }
    const qs = query.toString();
    const search = qs === '' ? '' : `?${qs}`;
    const payload =
      options.body === undefined
        ? undefined
        : typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: this.url.hostname,
          port: this.url.port,
          method,
          path: path + search,
          headers: {
            authorization: `Bearer ${this.options.token}`,
            accept: 'application/json',
            ...(payload !== undefined
              ? { 'content-type': options.contentType ?? 'application/json' }
              : {}),
          },
          signal: options.signal,
        },
        resolve,
      );
      req.once('error', reject);
      req.end(payload);
    });
  }

  /** One request; resolves with the parsed JSON body, rejects with KubeApiError on >= 400. */
  async request<T = unknown>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<T> {
    const res = await this.open(method, path, options);
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const status = res.statusCode ?? 0;
    let parsed: unknown = text;
    if ((res.headers['content-type'] ?? '').includes('json') && text !== '') {
      parsed = JSON.parse(text);
    }
    if (status >= 400) {
      const body = parsed as { message?: string; reason?: string } | string;
      const message = typeof body === 'string' ? body : (body.message ?? text);
      const reason = typeof body === 'string' ? '' : (body.reason ?? '');
      throw new KubeApiError(status, reason, `${method} ${path}: ${status} ${message}`, parsed);
    }
    return parsed as T;
  }

  get<T = KubeObject>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  list<T = KubeObject>(
    path: string,
    query: { labelSelector?: string; fieldSelector?: string } = {},
  ): Promise<KubeList<T>> {
    return this.request<KubeList<T>>('GET', path, { query });
  }

  create<T = KubeObject>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, { body });
  }

  replace<T = KubeObject>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, { body });
  }

  /** JSON merge patch (RFC 7386); on a `/status` path it changes only the status subresource. */
  mergePatch<T = KubeObject>(path: string, patch: unknown): Promise<T> {
    return this.request<T>('PATCH', path, {
      body: patch,
      contentType: 'application/merge-patch+json',
    });
  }

  /** Server-side apply of a whole object (PATCH application/apply-patch+yaml; JSON is YAML). */
  apply<T = KubeObject>(path: string, object: unknown, fieldManager: string): Promise<T> {
    return this.request<T>('PATCH', path, {
      body: object,
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager, force: true },
    });
  }

  delete<T = unknown>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }

  /** The response body as text chunks while it streams (pod logs with follow=true, ...). */
  async *stream(path: string, options: RequestOptions = {}): AsyncGenerator<string> {
    const res = await this.open('GET', path, options);
    const status = res.statusCode ?? 0;
    if (status >= 400) {
      const chunks: Buffer[] = [];
      for await (const chunk of res) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      let message = text;
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        // not JSON
      }
      throw new KubeApiError(status, '', `GET ${path}: ${status} ${message}`, text);
    }
    res.setEncoding('utf8');
    for await (const chunk of res) yield chunk as string;
  }

  /**
   * Watch events of a collection path until `signal` aborts or the server closes the stream.
   * Pass `resourceVersion` from a list to see only later changes.
   */
  async *watch<T = KubeObject>(
    path: string,
    options: { resourceVersion?: string; labelSelector?: string; signal?: AbortSignal } = {},
  ): AsyncGenerator<WatchEvent<T>> {
    let buffer = '';
    try {
      for await (const chunk of this.stream(path, {
        query: {
          watch: true,
          resourceVersion: options.resourceVersion,
          labelSelector: options.labelSelector,
          allowWatchBookmarks: false,
        },
        signal: options.signal,
      })) {
        buffer += chunk;
        let newline = buffer.indexOf('\n');
        while (newline >= 0) {
          const line = buffer.slice(0, newline).trim();
          buffer = buffer.slice(newline + 1);
          if (line !== '') yield JSON.parse(line) as WatchEvent<T>;
          newline = buffer.indexOf('\n');
        }
      }
    } catch (error) {
      if (options.signal?.aborted) return;
      throw error;
    }
  }
}
