/**
 * One authenticated connection to a Kubernetes API server, read from the kubeconfig the way kubectl
 * does (KUBECONFIG, ~/.kube/config, or the pod's service account inside a cluster), through
 * @kubernetes/client-node. Kubernetes calls go through the client's typed APIs (`core`, `custom`)
 * via `read`/`write`, which add what the client lacks (1.4 has no retries and no timeout): bounded
 * retries, a per-attempt timeout and one error shape (`HttpError`, or an `Error` naming the network
 * failure) for `clusterError` to explain. The KFP REST API and a followed pod log stay plain
 * HTTP(S), in ./plain-requests.ts (reasons there). Credentials never reach a message or log.
 */
import type { RequestOptions } from 'node:https';
import type * as ClientNodeModule from '@kubernetes/client-node';
import type {
  ConfigurationOptions,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  RequestContext,
  ResponseContext,
} from '@kubernetes/client-node';
import { BackendError } from '../backend.js';
import { defaultKubeconfigSource, noKubeconfigError } from './kube-contexts.js';

export interface ClusterSettings {
  /** Kubeconfig file; default: KUBECONFIG, then ~/.kube/config, then the in-cluster service account. */
  readonly kubeconfig?: string;
  /** Kubeconfig context; default: the current context. */
  readonly context?: string;
  /** Namespace for runs; default: the context's namespace, else `kubeflow`. */
  readonly namespace?: string;
}

export interface RequestSettings {
  /** Milliseconds before one attempt is abandoned (default 15 s). */
  readonly timeoutMs?: number;
  /** Further attempts after a connection error, 429 or 5xx (default 3; 0 for non-idempotent calls). */
  readonly retries?: number;
  readonly signal?: AbortSignal;
  /** Extra headers (an explicit KFP endpoint's bearer token). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Body media type (default `application/json`; PATCH needs `application/merge-patch+json`). */
  readonly contentType?: string;
}

/** An HTTP error answer, with the parsed body when there is one. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly url: string,
  ) {
    super(`HTTP ${status} from ${url}`);
  }
}

/** @kubernetes/client-node, loaded once a connection opens (its import takes seconds). */
export type ClientNode = typeof ClientNodeModule;

/** Options of one typed API call (`read`/`write`). */
export type CallOptions = ConfigurationOptions;

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });

/** The `message` of a Kubernetes Status or KFP error body. */
export function errorMessageOf(body: unknown): string {
  if (typeof body === 'object' && body !== null) {
    const b = body as { message?: unknown; error?: unknown };
    if (typeof b.message === 'string') return b.message;
    if (typeof b.error === 'string') return b.error;
  }
  return typeof body === 'string' ? body.slice(0, 300) : '';
}

/** Retried: a connection error, 408, 429 or 5xx (the same request may succeed later). */
function retryable(error: unknown): boolean {
  return (
    !(error instanceof HttpError) ||
    error.status === 408 ||
    error.status === 429 ||
    error.status >= 500
  );
}

/**
 * `attempt`, and up to `retries` more after an error worth retrying, with backoff (200 ms
 * doubling, at most 2 s); the last error otherwise. The one retry rule of every cluster request.
 */
export async function withRetries<T>(
  attempt: () => Promise<T>,
  retries: number,
  signal?: AbortSignal,
): Promise<T> {
  let lastError: unknown;
  for (let n = 0; n <= retries; n++) {
    if (n > 0) await sleep(Math.min(200 * 2 ** (n - 1), 2000), signal);
    if (signal?.aborted === true) break;
    try {
      return await attempt();
    } catch (error) {
      lastError = error;
      if (!retryable(error)) break;
    }
  }
  throw lastError instanceof Error ? lastError : new Error('aborted');
}

/** The body of an error answer: parsed JSON (a Kubernetes Status), else the text. */
function parsedBody(body: unknown): unknown {
  if (typeof body !== 'string') return body;
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

export class KubeConnection {
  /** Core resources: nodes, pods, their logs, config maps, service account tokens. */
  readonly core: CoreV1Api;
  /** Custom resources: Argo Workflows, Katib Experiments and Trials, KServe InferenceServices. */
  readonly custom: CustomObjectsApi;

  private constructor(
    /** The loaded client library (its `Watch`, `ListWatch`, ... are used from here). */
    readonly lib: ClientNode,
    /** The kubeconfig with the chosen context (for the client's `Watch`). */
    readonly config: KubeConfig,
    readonly server: string,
    readonly contextName: string,
    readonly namespace: string,
  ) {
    this.core = config.makeApiClient(lib.CoreV1Api);
    this.custom = config.makeApiClient(lib.CustomObjectsApi);
  }

  /** Loads the kubeconfig (client-node is imported here, lazily: it is heavy). */
  static async open(settings: ClusterSettings = {}): Promise<KubeConnection> {
    const lib = await import('@kubernetes/client-node');
    const kc = new lib.KubeConfig();
    try {
      if (settings.kubeconfig !== undefined) kc.loadFromFile(settings.kubeconfig);
      else if (defaultKubeconfigSource() === undefined) throw noKubeconfigError();
      else kc.loadFromDefault();
    } catch (error) {
      if (error instanceof BackendError) throw error;
      throw new BackendError(
        'cluster-config',
        `Cannot read the kubeconfig${settings.kubeconfig !== undefined ? ` ${settings.kubeconfig}` : ''}: ${error instanceof Error ? error.message : String(error)}. ` +
          'Fix: point KUBECONFIG (or --kubeconfig) at a valid file, e.g. the one `kubectl config view` uses.',
      );
    }
    if (settings.context !== undefined) {
      if (kc.getContextObject(settings.context) === null) {
        const names = kc.getContexts().map((c) => c.name);
        throw new BackendError(
          'cluster-config',
          `The kubeconfig has no context \`${settings.context}\`. Contexts: ${names.length > 0 ? names.join(', ') : 'none'}. Fix: pass one of them with --context.`,
        );
      }
      kc.setCurrentContext(settings.context);
    }
    const cluster = kc.getCurrentCluster();
    if (cluster === null) {
      throw new BackendError(
        'cluster-config',
        'No Kubernetes cluster is configured (no current context in the kubeconfig, and not running inside a cluster). ' +
          'Fix: set a context with `kubectl config use-context NAME`, or pass --context.',
      );
    }
    const context = kc.getContextObject(kc.getCurrentContext());
    const namespace = settings.namespace ?? context?.namespace ?? 'kubeflow';
    return new KubeConnection(
      lib,
      kc,
      cluster.server.replace(/\/+$/, ''),
      kc.getCurrentContext(),
      namespace,
    );
  }

  /**
   * The API server's version (`/version`, the client's `VersionApi`): a cheap check that the server
   * answers with these credentials, e.g. right after connecting.
   */
  async serverVersion(settings: RequestSettings = {}): Promise<string> {
    const version = this.config.makeApiClient(this.lib.VersionApi);
    return (await this.read((o) => version.getCode({}, o), settings)).gitVersion;
  }

  /** Kubeconfig contexts, for pickers. */
  contexts(): { name: string; cluster: string; namespace: string | null }[] {
    return this.config
      .getContexts()
      .map((c) => ({ name: c.name, cluster: c.cluster, namespace: c.namespace ?? null }));
  }

  /** The bearer token of the kubeconfig user, when it has a static one (for an explicit KFP endpoint). */
  async bearerToken(): Promise<string | undefined> {
    const opts: RequestOptions = { headers: {} };
    await this.config.applyToHTTPSOptions(opts);
    const auth = (opts.headers as Record<string, string | undefined>).Authorization;
    return auth?.startsWith('Bearer ') === true ? auth.slice('Bearer '.length) : undefined;
  }

  /**
   * A typed API call that only reads: retried (default 3 more attempts, with backoff) after a
   * network error, 408, 429 or 5xx. `send` gets the options to pass to the API method, e.g.
   * `kube.read((o) => kube.core.listNode({}, o))`.
   */
  read<T>(send: (options: CallOptions) => Promise<T>, settings: RequestSettings = {}): Promise<T> {
    return this.call(send, { retries: 3, ...settings });
  }

  /** A typed API call that changes something: not retried unless `settings.retries` says so. */
  write<T>(send: (options: CallOptions) => Promise<T>, settings: RequestSettings = {}): Promise<T> {
    return this.call(send, { retries: 0, ...settings });
  }

  private call<T>(
    send: (options: CallOptions) => Promise<T>,
    settings: RequestSettings & { retries: number },
  ): Promise<T> {
    return withRetries(() => this.attempt(send, settings), settings.retries, settings.signal);
  }

  /**
   * One attempt, bounded by `timeoutMs` and `signal` through a middleware that gives the request
   * an AbortSignal (the client passes it to fetch). Its failure comes back as `HttpError` (with
   * the Status body and the URL without its query) or as an `Error` naming the network failure.
   */
  private async attempt<T>(
    send: (options: CallOptions) => Promise<T>,
    settings: RequestSettings,
  ): Promise<T> {
    const timeoutMs = settings.timeoutMs ?? 15_000;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const abort = (): void => controller.abort();
    settings.signal?.addEventListener('abort', abort, { once: true });
    let url = this.server;
    const { Observable } = this.lib;
    const middleware = {
      pre: (context: RequestContext) => {
        const at = new URL(context.getUrl());
        url = `${at.origin}${at.pathname}`;
        context.setSignal(controller.signal);
        if (settings.contentType !== undefined)
          context.setHeaderParam('Content-Type', settings.contentType);
        for (const [key, value] of Object.entries(settings.headers ?? {}))
          context.setHeaderParam(key, value);
        return new Observable(Promise.resolve(context));
      },
      post: (context: ResponseContext) => new Observable(Promise.resolve(context)),
    };
    try {
      return await send({ middleware: [middleware], middlewareMergeStrategy: 'append' });
    } catch (error) {
      if (error instanceof this.lib.ApiException)
        throw new HttpError(error.code, parsedBody(error.body), url);
      if (controller.signal.aborted)
        throw new Error(
          settings.signal?.aborted === true ? 'aborted' : `no answer within ${timeoutMs} ms`,
        );
      throw networkError(error);
    } finally {
      clearTimeout(timer);
      settings.signal?.removeEventListener('abort', abort);
    }
  }

  /**
   * Options for a plain HTTP(S) request to `url` (./plain-requests.ts); the kubeconfig's
   * credentials are applied only when `url` is on the API server.
   */
  async httpsOptions(url: URL, method: string, timeoutMs: number): Promise<RequestOptions> {
    const opts: RequestOptions = {
      method,
      hostname: url.hostname,
      port: url.port,
      path: `${url.pathname}${url.search}`,
      headers: { accept: 'application/json' },
      timeout: timeoutMs,
    };
    if (url.origin === new URL(this.server).origin) await this.config.applyToHTTPSOptions(opts);
    return opts;
  }
}

/**
 * The client's fetch failure as a plain `Error` naming the cause, as Node reports it
 * (`connect ECONNREFUSED 127.0.0.1:6443`): node-fetch wraps it as "request to URL failed, reason: ...".
 */
export function networkError(error: unknown): Error {
  if (!(error instanceof Error)) return new Error(String(error));
  const reason = /^request to \S+ failed, reason: (.*)$/s.exec(error.message);
  return reason !== null ? new Error(reason[1]) : error;
}
