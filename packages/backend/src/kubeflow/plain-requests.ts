/**
 * The requests that stay plain HTTP(S) rather than the client's typed APIs, with the same retry rule
 * and error shape as `KubeConnection.read`:
 * - the Kubeflow Pipelines v2beta1 REST API (`requestJson`): no maintained typed client exists for
 *   it on npm, and the client's typed service-proxy calls (`connect*NamespacedServiceProxyWithPath`)
 *   carry no request body;
 * - a followed pod log (`streamLines`), see there.
 */
import { request as httpsRequest } from 'node:https';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import {
  HttpError,
  withRetries,
  type KubeConnection,
  type RequestSettings,
} from './kube-connection.js';

/**
 * One JSON request to an absolute URL (the KFP API, through the API server's service proxy or at
 * its own endpoint; the kubeconfig's credentials go only to the API server), with bounded retries
 * (default 3 for GET, else none).
 */
export function requestJson<T>(
  kube: KubeConnection,
  method: string,
  url: string,
  body?: unknown,
  settings: RequestSettings = {},
): Promise<T> {
  const at = new URL(url);
  return withRetries(
    () => once<T>(kube, at, method, body, settings),
    settings.retries ?? (method === 'GET' ? 3 : 0),
    settings.signal,
  );
}

async function once<T>(
  kube: KubeConnection,
  url: URL,
  method: string,
  body: unknown,
  settings: RequestSettings,
): Promise<T> {
  const timeoutMs = settings.timeoutMs ?? 15_000;
  const opts = await kube.httpsOptions(url, method, timeoutMs);
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
export async function streamLines(
  kube: KubeConnection,
  path: string,
  onLine: (line: string) => void,
  signal: AbortSignal,
): Promise<void> {
  const url = new URL(`${kube.server}${path}`);
  const opts = await kube.httpsOptions(url, 'GET', 0);
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
