/**
 * One authenticated connection to a Kubernetes API server, read from the kubeconfig the way kubectl
 * does (KUBECONFIG, ~/.kube/config, or the pod's service account inside a cluster), through
 * @kubernetes/client-node. Requests are plain HTTPS with bounded retries; failures become
 * `BackendError`s that say what is wrong and what to do. Credentials never reach a message or log.
 */
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import { BackendError } from '../backend.js';

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

type KubeConfigLike = KubeConfig;

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

export class KubeConnection {
  private constructor(
    private readonly kc: KubeConfigLike,
    readonly server: string,
    readonly contextName: string,
    readonly namespace: string,
  ) {}

  /** Loads the kubeconfig (client-node is imported here, lazily: it is heavy). */
  static async open(settings: ClusterSettings = {}): Promise<KubeConnection> {
    const { KubeConfig } = await import('@kubernetes/client-node');
    const kc = new KubeConfig();
    try {
      if (settings.kubeconfig !== undefined) kc.loadFromFile(settings.kubeconfig);
      else kc.loadFromDefault();
    } catch (error) {
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
      kc,
      cluster.server.replace(/\/+$/, ''),
      kc.getCurrentContext(),
      namespace,
    );
  }

  /** Kubeconfig contexts, for pickers. */
  contexts(): { name: string; cluster: string; namespace: string | null }[] {
    return this.kc
      .getContexts()
      .map((c) => ({ name: c.name, cluster: c.cluster, namespace: c.namespace ?? null }));
  }

  /** The bearer token of the kubeconfig user, when it has a static one (for an explicit KFP endpoint). */
  async bearerToken(): Promise<string | undefined> {
    const opts: RequestOptions = { headers: {} };
    await this.kc.applyToHTTPSOptions(opts);
    const auth = (opts.headers as Record<string, string | undefined>).Authorization;
    return auth?.startsWith('Bearer ') === true ? auth.slice('Bearer '.length) : undefined;
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
    if (url.origin === new URL(this.server).origin) await this.kc.applyToHTTPSOptions(opts);
    return opts;
  }

  /** One JSON request to `path` on the API server (or to an absolute URL), with bounded retries. */
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
        const retryable =
          !(error instanceof HttpError) ||
          error.status === 429 ||
          error.status === 502 ||
          error.status === 503 ||
          error.status === 504 ||
          error.status >= 500;
        if (!retryable) break;
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
   * A streaming GET (watch, log follow): calls `onLine` for every line until the server ends the
   * stream or `signal` aborts. Rejects with `HttpError` when the server refuses the stream.
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
