/**
 * The agent's HTTP server: exposes the backends of its targets (`AgentTargets`: this machine, or a
 * kubeconfig context and namespace, as each request names it) to a browser (see
 * `agent-protocol.ts`). Listens on
 * loopback only, answers only requests with the token, from an allowed origin (none by default:
 * browsers reach it through the Jupyter server extension, which is same-origin for them), to a
 * loopback `Host` (no DNS rebinding), with bodies up to a bound.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BackendError, targetFromQuery, type KubeContextSummary } from '../backend.js';
import { isResourceId } from '../resource-id.js';
import {
  AGENT_PROTOCOL_VERSION,
  matchAgentRoute,
  statusForErrorCode,
  type AgentErrorBody,
  type AgentInfo,
} from './agent-protocol.js';
import { AgentRequestError } from './agent-request-error.js';
import { ROUTE_HANDLERS, type RouteContext } from './agent-routes.js';
import { lastEventIndex, writeJournalAsEvents } from './agent-sse.js';
import type { AgentTargets } from './agent-targets.js';

export interface AgentServerOptions {
  /** The backend of each target requests name (made on first use); the server does not dispose of them. */
  readonly targets: AgentTargets;
  /** The kubeconfig's contexts, for `GET contexts` (a person picks the cluster to deploy to). */
  readonly contexts: () => Promise<KubeContextSummary[]>;
  /** The secret every request must carry. At least 16 characters. */
  readonly token: string;
  /** Loopback address to bind (default 127.0.0.1); anything else is refused. */
  readonly host?: string;
  /** 0 (default): a free port. */
  readonly port?: number;
  /** Origins (`http://localhost:8888`) whose pages may call the agent; default none. */
  readonly allowedOrigins?: readonly string[];
  /** Largest request body accepted (default 8 MiB). */
  readonly maxBodyBytes?: number;
  /** Cellflow version reported by `info`. */
  readonly version?: string;
  /** SSE keep-alive comment interval (default 15 s). */
  readonly keepAliveMs?: number;
  /** One line per request (method, path without query, status, time); never headers or bodies. */
  readonly log?: (line: string) => void;
}

export interface AgentServer {
  readonly port: number;
  /** `http://127.0.0.1:PORT/api/` */
  readonly baseUrl: string;
  /** Stops listening and ends open streams. */
  close(): Promise<void>;
}

/** The API lives under this path, so the agent can later serve other things beside it. */
export const AGENT_API_PREFIX = '/api/';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

/** Refuses anything but a loopback address: the agent runs code, it must never face a network. */
export function assertLoopbackHost(host: string): void {
  if (!LOOPBACK_HOSTS.has(host))
    throw new AgentRequestError(
      'forbidden',
      `The agent only listens on loopback (127.0.0.1, ::1 or localhost), not "${host}": it runs code for whoever holds its token. To reach it from elsewhere, go through Jupyter (the cellflow_jupyter server extension) or an SSH tunnel.`,
    );
}

export async function startAgentServer(options: AgentServerOptions): Promise<AgentServer> {
  const host = options.host ?? '127.0.0.1';
  assertLoopbackHost(host);
  if (options.token.length < 16)
    throw new AgentRequestError('bad-request', 'The agent token must have at least 16 characters.');
  const tokenDigest = digest(options.token);
  const allowedOrigins = new Set(options.allowedOrigins ?? []);
  const maxBodyBytes = options.maxBodyBytes ?? 8 * 1024 * 1024;
  const log = options.log ?? (() => undefined);
  const agentInfo: Pick<AgentInfo, 'protocol' | 'version' | 'defaultTarget'> = {
    protocol: AGENT_PROTOCOL_VERSION,
    version: options.version ?? '0.1.0',
    defaultTarget: options.targets.defaultTarget,
  };
  let port = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<number> => {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    const hostHeader = req.headers.host ?? '';
    const hostName = hostHeader.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
    if (!LOOPBACK_HOSTS.has(hostName))
      return fail(res, 'forbidden', `Host "${hostHeader}" is not this agent's loopback address.`);
    const origin = req.headers.origin;
    const sameOrigin = origin === `http://${hostHeader}`;
    if (origin !== undefined && !sameOrigin && !allowedOrigins.has(origin))
      return fail(
        res,
        'forbidden',
        `Origin ${origin} may not use this agent; start it with --allow-origin ${origin} if that page should.`,
      );
    if (origin !== undefined && !sameOrigin) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'Access-Control-Allow-Methods': 'GET, POST, DELETE',
        'Access-Control-Allow-Headers': 'Authorization, Content-Type, Last-Event-ID',
        'Access-Control-Max-Age': '600',
      });
      res.end();
      return 204;
    }
    if (!hasToken(req.headers.authorization, tokenDigest)) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="cellflow-agent"');
      return fail(
        res,
        'unauthorized',
        'Missing or wrong agent token: send `Authorization: Bearer <token>` (the token the agent was started with).',
      );
    }
    const url = new URL(req.url ?? '/', 'http://agent.invalid');
    if (!url.pathname.startsWith(AGENT_API_PREFIX))
      return fail(
        res,
        'not-found',
        `No agent route ${url.pathname}; the API is under ${AGENT_API_PREFIX}.`,
      );
    const route = matchAgentRoute(req.method ?? 'GET', url.pathname.slice(AGENT_API_PREFIX.length));
    if (route === undefined)
      return fail(res, 'not-found', `No agent route ${req.method} ${url.pathname}.`);
    if ('methodNotAllowed' in route)
      return fail(res, 'method-not-allowed', `${url.pathname} does not take ${req.method}.`);
    for (const [name, value] of Object.entries(route.params))
      if (!isResourceId(value))
        return fail(
          res,
          'bad-request',
          `The ${name} in the path is not an id (letters, digits, '.', '_', '-'; no '..').`,
        );
    let spec;
    try {
      spec = targetFromQuery(url.searchParams);
    } catch (error) {
      return fail(res, 'bad-request', (error as Error).message);
    }
    try {
      const body = req.method === 'POST' ? await readJsonBody(req, maxBodyBytes) : undefined;
      const target = await options.targets.get(spec);
      const context: RouteContext = {
        backend: target.backend,
        info: { ...agentInfo, ...target.info },
        journals: target.journals,
        contexts: options.contexts,
      };
      const reply = await ROUTE_HANDLERS[route.name](context, {
        params: route.params,
        query: url.searchParams,
        body,
      });
      if (reply.kind === 'stream') {
        const after = lastEventIndex(req);
        if (after === 'invalid')
          return fail(
            res,
            'bad-request',
            '`Last-Event-ID` must be the id of an event of this stream.',
          );
        return await writeJournalAsEvents(res, reply.journal, reply.event, after, {
          keepAliveMs: options.keepAliveMs ?? 15_000,
          firstItemWaitMs: 1_000,
          errorBody: (error) => errorReply(error, log),
        });
      }
      if (reply.body === undefined) {
        res.writeHead(reply.status);
        res.end();
      } else sendJson(res, reply.status, reply.body);
      return reply.status;
    } catch (error) {
      const { status, body } = errorReply(error, log);
      if (status === 413) res.setHeader('Connection', 'close');
      sendJson(res, status, body);
      return status;
    }
  };

  const server = createServer((req, res) => {
    const started = Date.now();
    const path = (req.url ?? '/').replace(/\?.*$/, '');
    handle(req, res).then(
      (status) => log(`${req.method} ${path} ${status} ${Date.now() - started}ms`),
      (error: unknown) => {
        log(
          `${req.method} ${path} failed: ${error instanceof Error ? error.message : String(error)}`,
        );
        if (!res.headersSent) sendJson(res, 500, { code: 'internal', message: 'Agent error.' });
        else res.destroy();
      },
    );
  });
  server.headersTimeout = 30_000;
  server.requestTimeout = 0; // streams stay open as long as the run
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const urlHost = host === '::1' ? '[::1]' : host;
  return {
    port,
    baseUrl: `http://${urlHost}:${port}${AGENT_API_PREFIX}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** `Authorization: token X` or `Bearer X`, compared in constant time (digests of equal length). */
function hasToken(header: string | undefined, expected: Buffer): boolean {
  const match = /^(?:token|bearer)\s+(\S+)\s*$/i.exec(header ?? '');
  return match !== null && timingSafeEqual(digest(match[1]!), expected);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

function fail(res: ServerResponse, code: AgentErrorBody['code'], message: string): number {
  const status = statusForErrorCode(code);
  sendJson(res, status, { code, message } satisfies AgentErrorBody);
  return status;
}

function errorReply(
  error: unknown,
  log: (line: string) => void,
): { status: number; body: AgentErrorBody } {
  if (error instanceof BackendError || error instanceof AgentRequestError) {
    const body: AgentErrorBody = {
      code: error.code,
      message: error.message,
      ...(error instanceof AgentRequestError && error.diagnostics !== undefined
        ? { diagnostics: error.diagnostics }
        : {}),
    };
    return { status: statusForErrorCode(error.code), body };
  }
  log(
    `unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  return {
    status: 500,
    body: {
      code: 'internal',
      message: `The agent failed unexpectedly: ${error instanceof Error ? error.message : String(error)}. Its log has the details.`,
    },
  };
}

/** Reads a JSON body of at most `max` bytes (413 beyond, without reading the rest). */
async function readJsonBody(req: IncomingMessage, max: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  const tooLarge = (): AgentRequestError =>
    new AgentRequestError(
      'payload-too-large',
      `The request body is larger than the agent accepts (${max} bytes).`,
    );
  if (Number.isFinite(declared) && declared > max) {
    req.resume();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) {
      req.resume();
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  if (jsonNestingDepth(text) > MAX_JSON_DEPTH)
    throw new AgentRequestError(
      'bad-request',
      `The request body nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep.`,
    );
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new AgentRequestError(
      'bad-request',
      `The request body is not JSON: ${error instanceof Error ? error.message : String(error)}.`,
    );
  }
}

/** Deepest nesting of arrays and objects a request body may have (handlers walk bodies). */
const MAX_JSON_DEPTH = 256;

/** How deeply `text`'s arrays and objects nest, in one pass that skips strings. */
function jsonNestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}
