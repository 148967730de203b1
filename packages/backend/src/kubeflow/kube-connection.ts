/**
 * One authenticated connection to a Kubernetes API server, read from the kubeconfig the way kubectl
 * does (KUBECONFIG, ~/.kube/config, or the pod's service account inside a cluster), through
 * @kubernetes/client-node. Kubernetes calls go through the client's typed APIs (`core`, `custom`)
 * via `read`/`write`, which add what the client lacks (1.4 has no retries and no timeout): bounded
 * retries, a per-attempt timeout and one error shape (`HttpError`, or an `Error` naming the network
 * failure) for `clusterError` to explain. `request` and `stream` stay plain HTTP(S): the KFP REST API
 * (no typed client exists for v2beta1) and a followed pod log (see `stream`) go through them.
 * Credentials never reach a message or log.
 */
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { request as httpRequest, type IncomingMessage } from 'node:http';
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

  private async call<T>(
    send: (options: CallOptions) => Promise<T>,
    settings: RequestSettings & { retries: number },
  ): Promise<T> {
    let lastError: unknown;
    for (let attempt = 0; attempt <= settings.retries; attempt++) {
      if (attempt > 0) await sleep(Math.min(200 * 2 ** (attempt - 1), 2000), settings.signal);
      if (settings.signal?.aborted === true) break;
      try {
        return await this.attempt(send, settings);
      } catch (error) {
        lastError = error;
        if (!retryable(error)) break;
      }
    }
    throw lastError instanceof Error ? lastError : new Error('aborted');
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

  private async optionsFor(url: URL, method: string, timeoutMs: number): Promise<RequestOptions> {
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

  /**
   * One JSON request to an absolute URL (the KFP API, through the API server's service proxy or at
   * its own endpoint; the kubeconfig's credentials go only to the API server), with bounded retries.
   * KFP v2beta1 has no maintained typed client, and the typed service-proxy calls carry no body.
   */
  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    settings: RequestSettings = {},
  ): Promise<T> {
    const url = new URL(path.startsWith('http') ? path : `${this.server}${path}`);
    const retries = settings.retries ?? (method === 'GET' ? 3 : 0);
    let lastError: unknown;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) await sleep(Math.min(200 * 2 ** (attempt - 1), 2000), settings.signal);
      if (settings.signal?.aborted === true) break;
      try {
        return await this.once<T>(url, method, body, settings);
      } catch (error) {
        lastError = error;
        if (!retryable(error)) break;
      }
    }
    throw lastError;
  }

  private async once<T>(
    url: URL,
    method: string,
    body: unknown,
    settings: RequestSettings,
  ): Promise<T> {
    const timeoutMs = settings.timeoutMs ?? 15_000;
    const opts = await this.optionsFor(url, method, timeoutMs);
    if (settings.headers !== undefined) opts.headers = { ...opts.headers, ...settings.headers };
    // Bytes go as they are (a multipart upload, with its `contentType`); anything else as JSON.
    const payload =
      body === undefined ? undefined : body instanceof Uint8Array ? body : JSON.stringify(body);
    if (payload !== undefined) {
      opts.headers = {
        ...opts.headers,
        'content-type': settings.contentType ?? 'application/json',
        'content-length': Buffer.byteLength(payload),
      };
    }
    return new Promise<T>((resolve, reject) => {
      const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
      const req = send(opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text === '' ? undefined : JSON.parse(text);
          } catch {
            /* not JSON: keep the text */
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve(parsed as T);
          else reject(new HttpError(status, parsed, `${url.origin}${url.pathname}`));
        });
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      settings.signal?.addEventListener('abort', () => req.destroy(new Error('aborted')));
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  /**
   * A streaming GET on the API server (a followed pod log): calls `onLine` for every line until the
   * server ends the stream or `signal` aborts; rejects with `HttpError` when the server refuses the
   * stream and with an `Error` when the connection drops. Hand-written because the client's `Log`
   * (1.4) does neither: measured against a server that drops the connection mid-log, its output
   * stream never ends (a follow would hang), and a refused connection becomes "HTTP 500 Error
   * occurred in log request" without the cause.
   */
  async stream(path: string, onLine: (line: string) => void, signal: AbortSignal): Promise<void> {
    const url = new URL(`${this.server}${path}`);
    const opts = await this.optionsFor(url, 'GET', 0);
    delete opts.timeout;
    if (signal.aborted) return;
    await new Promise<void>((resolve, reject) => {
      const req = httpsRequest(opts, (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              /* keep text */
            }
            reject(new HttpError(status, parsed, `${url.origin}${url.pathname}`));
          });
          return;
        }
        let pending = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          pending += chunk;
          let at: number;
          while ((at = pending.indexOf('\n')) >= 0) {
            onLine(pending.slice(0, at));
            pending = pending.slice(at + 1);
          }
        });
        res.on('end', () => {
          if (pending !== '') onLine(pending);
          resolve();
        });
        res.on('error', (e) => (signal.aborted ? resolve() : reject(e)));
        // Settles a stream that closed without 'end' or 'error' (no-op after either).
        res.on('close', () =>
          signal.aborted ? resolve() : reject(new Error('the stream closed early')),
        );
      });
      req.on('error', (e) => (signal.aborted ? resolve() : reject(e)));
      req.on('close', () => (signal.aborted ? resolve() : undefined));
      signal.addEventListener('abort', () => req.destroy(), { once: true });
      req.end();
    });
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
