/** Writes a `StreamJournal` to an HTTP response as server-sent events, from a resume point on. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AgentErrorBody, AgentStreamEventName } from './agent-protocol.js';
import type { StreamJournal } from './stream-journal.js';

export interface SseOptions {
  /** A comment line this often keeps proxies from closing a quiet stream (ms). */
  readonly keepAliveMs: number;
  /** How long to wait for the first item before answering, so an early failure gets its status. */
  readonly firstItemWaitMs: number;
  readonly errorBody: (error: unknown) => {
    readonly status: number;
    readonly body: AgentErrorBody;
  };
}

/** The `Last-Event-ID` a reconnecting client sent: the index after which to go on, or -1. */
export function lastEventIndex(req: IncomingMessage): number | 'invalid' {
  const raw = req.headers['last-event-id'];
  const header = Array.isArray(raw) ? raw[0] : raw;
  if (header === undefined || header === '') return -1;
  return /^\d{1,15}$/.test(header) ? Number(header) : 'invalid';
}

export async function writeJournalAsEvents(
  res: ServerResponse,
  journal: StreamJournal<unknown>,
  eventName: Exclude<AgentStreamEventName, 'end' | 'error'>,
  after: number,
  options: SseOptions,
): Promise<number> {
  const release = journal.attach();
  const closed = new AbortController();
  res.on('close', () => closed.abort());
  let keepAlive: NodeJS.Timeout | undefined;
  try {
    let next = after + 1;
    await journal.waitBeyond(after, options.firstItemWaitMs, closed.signal);
    const outcome = journal.outcome;
    if (next >= journal.items.length && outcome != null) {
      const { status, body } = options.errorBody(outcome.error);
      res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
      return status;
    }
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 1000\n\n');
    keepAlive = setInterval(() => res.write(': keep-alive\n\n'), options.keepAliveMs);
    while (!closed.signal.aborted) {
      while (next < journal.items.length && !closed.signal.aborted) {
        const data = JSON.stringify(journal.items[next]);
        if (!res.write(`id: ${next}\nevent: ${eventName}\ndata: ${data}\n\n`))
          await new Promise<void>((resolve) => {
            res.once('drain', resolve);
            closed.signal.addEventListener('abort', () => resolve());
          });
        next += 1;
      }
      const over = journal.outcome;
      if (over !== undefined && next >= journal.items.length) {
        const end: AgentStreamEventName = over === null ? 'end' : 'error';
        const data = over === null ? {} : options.errorBody(over.error).body;
        res.end(`event: ${end}\ndata: ${JSON.stringify(data)}\n\n`);
        break;
      }
      await journal.waitBeyond(next - 1, 60_000, closed.signal);
    }
    return 200;
  } finally {
    clearInterval(keepAlive);
    release();
  }
}
