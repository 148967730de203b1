/**
 * A stand-in kubelet: the one kubelet endpoint the API server calls for pod logs,
 * `GET /containerLogs/{namespace}/{pod}/{container}`, served over HTTPS on loopback. Node objects
 * point at it through `status.daemonEndpoints.kubeletEndpoint.port`, so
 * `GET /api/v1/namespaces/N/pods/P/log` (also with `follow=true`) goes through the real API server.
 * Tests (or the controller driver) write the container output here.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';

interface LogLine {
  time: Date;
  text: string;
}

interface ContainerLog {
  lines: LogLine[];
  partial: string;
  ended: boolean;
  followers: Set<(line: LogLine | 'end') => void>;
}

export class StandInKubelet {
  private readonly logs = new Map<string, ContainerLog>();
  private readonly server: Server;
  private portNumber = 0;
  /** Every request the API server made, newest last (`/containerLogs/ns/pod/c?follow=true`). */
  readonly requests: string[] = [];

  constructor(tls: { cert: string; key: string }) {
    this.server = createServer({ cert: tls.cert, key: tls.key }, (req, res) =>
      this.handle(req, res),
    );
  }

  get port(): number {
    return this.portNumber;
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    const address = this.server.address();
    this.portNumber = typeof address === 'object' && address !== null ? address.port : port;
  }

  async close(): Promise<void> {
    for (const log of this.logs.values()) for (const f of log.followers) f('end');
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private entry(namespace: string, pod: string, container: string): ContainerLog {
    const key = `${namespace}/${pod}/${container}`;
    let log = this.logs.get(key);
    if (log === undefined) {
      log = { lines: [], partial: '', ended: false, followers: new Set() };
      this.logs.set(key, log);
    }
    return log;
  }

  /** Appends container output (the container has started once anything was written). */
  writeLog(namespace: string, pod: string, container: string, text: string): void {
    const log = this.entry(namespace, pod, container);
    const parts = (log.partial + text).split('\n');
    log.partial = parts.pop() ?? '';
    for (const part of parts) {
      const line = { time: new Date(), text: part };
      log.lines.push(line);
      for (const f of log.followers) f(line);
    }
  }

  /** What a container printed so far, and whether it has terminated (nothing written: undefined). */
  written(
    namespace: string,
    pod: string,
    container: string,
  ): { text: string; ended: boolean } | undefined {
    const log = this.logs.get(`${namespace}/${pod}/${container}`);
    if (log === undefined) return undefined;
    return { text: log.lines.map((l) => `${l.text}\n`).join('') + log.partial, ended: log.ended };
  }

  /** The container terminated: flushes a trailing partial line and ends `follow` streams. */
  endLog(namespace: string, pod: string, container: string): void {
    const log = this.entry(namespace, pod, container);
    if (log.partial !== '') this.writeLog(namespace, pod, container, '\n');
    log.ended = true;
    for (const f of log.followers) f('end');
    log.followers.clear();
  }

  /** Ends the log of every container of a pod (the pod finished). */
  endPodLogs(namespace: string, pod: string): void {
    const prefix = `${namespace}/${pod}/`;
    for (const key of this.logs.keys()) {
      if (key.startsWith(prefix)) {
        const [, , container] = key.split('/');
        if (container !== undefined) this.endLog(namespace, pod, container);
      }
    }
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.requests.push(req.url ?? '');
    const url = new URL(req.url ?? '/', 'https://kubelet');
    if (url.pathname === '/healthz') {
      res.end('ok');
      return;
    }
    const match = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (req.method !== 'GET' || match === null) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
      return;
    }
    const [, namespace = '', pod = '', container = ''] = match.map(decodeURIComponent);
    const log = this.logs.get(`${namespace}/${pod}/${container}`);
    if (log === undefined) {
      // What a kubelet says before the container has started; the API server passes it on.
      res
        .writeHead(400, { 'content-type': 'text/plain' })
        .end(`container "${container}" in pod "${pod}" is waiting to start: ContainerCreating`);
      return;
    }
    const follow = url.searchParams.get('follow') === 'true';
    const timestamps = url.searchParams.get('timestamps') === 'true';
    const tail = url.searchParams.get('tailLines');
    const limitBytes = Number(url.searchParams.get('limitBytes') ?? 'NaN');
    let remaining = Number.isFinite(limitBytes) && limitBytes > 0 ? limitBytes : Infinity;
    const format = (line: LogLine): string =>
      `${timestamps ? `${line.time.toISOString()} ` : ''}${line.text}\n`;
    const send = (line: LogLine): boolean => {
      let text = format(line);
      if (text.length > remaining) text = text.slice(0, remaining);
      remaining -= text.length;
      res.write(text);
      return remaining > 0;
    };
    res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
    const start = tail === null ? 0 : Math.max(0, log.lines.length - Number(tail));
    for (const line of log.lines.slice(start)) {
      if (!send(line)) {
        res.end();
        return;
      }
    }
    if (!follow || log.ended) {
      res.end();
      return;
    }
    const follower = (line: LogLine | 'end'): void => {
      if (line === 'end' || !send(line)) {
        log.followers.delete(follower);
        res.end();
      }
    };
    log.followers.add(follower);
    res.once('close', () => log.followers.delete(follower));
  }
}
