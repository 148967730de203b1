/**
 * A closed-loop HTTP/1.1 load: CONNECTIONS keep-alive sockets, each sending the next request as
 * soon as the previous answer is complete, for a fixed time. Requests are written on raw sockets
 * (one write each) and answers read by their content-length, so that the client's own HTTP stack
 * costs little and does not cap what the servers under test can do on a two-core machine.
 */
import { connect } from 'node:net';

export interface LoadResult {
  /** Milliseconds from writing each request to the end of its answer, successful ones. */
  readonly latencies: number[];
  /** Answers whose status was not 200. */
  readonly errors: number;
  readonly seconds: number;
}

export async function runClosedLoopLoad(
  url: string,
  body: string,
  connections: number,
  seconds: number,
): Promise<LoadResult> {
  const { hostname, port, pathname } = new URL(url);
  const request = Buffer.from(
    `POST ${pathname} HTTP/1.1\r\nhost: ${hostname}:${port}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    Array.from(
      { length: connections },
      () =>
        new Promise<void>((resolve, reject) => {
          const socket = connect({ host: hostname, port: Number(port), noDelay: true });
          let pending: Buffer = Buffer.alloc(0);
          let sentAt = 0;
          const send = (): void => {
            sentAt = performance.now();
            socket.write(request);
          };
          socket.on('connect', send);
          socket.on('error', reject);
          socket.on('data', (chunk: Buffer) => {
            pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
            for (;;) {
              const headEnd = pending.indexOf('\r\n\r\n');
              if (headEnd < 0) return;
              const head = pending.subarray(0, headEnd).toString('latin1');
              const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
              if (pending.length < headEnd + 4 + length) return;
              pending = pending.subarray(headEnd + 4 + length);
              const now = performance.now();
              if (head.startsWith('HTTP/1.1 200')) latencies.push(now - sentAt);
              else errors++;
              if (now < end) send();
              else {
                socket.end();
                resolve();
                return;
              }
            }
          });
        }),
    ),
  );
  return { latencies, errors, seconds: (performance.now() - started) / 1000 };
}
