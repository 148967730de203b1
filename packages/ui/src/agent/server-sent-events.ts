/**
 * Reads a `text/event-stream` body (the WHATWG server-sent events format) into messages. Used with
 * `fetch` instead of `EventSource` so requests can carry auth headers and `Last-Event-ID`.
 */

export interface ServerSentEvent {
  /** `event:` field, `message` when absent. */
  readonly event: string;
  /** `data:` lines joined with `\n`. */
  readonly data: string;
  /** `id:` field of this message, or null when it had none. */
  readonly id: string | null;
}

export async function* readServerSentEvents(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<ServerSentEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let id: string | null = null;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      // A trailing `\r` may be the first half of `\r\n`: keep it until more arrives.
      for (;;) {
        const match = /\r\n|\r|\n/.exec(buffer);
        if (match === null || (match[0] === '\r' && match.index === buffer.length - 1 && !done))
          break;
        const line = buffer.slice(0, match.index);
        buffer = buffer.slice(match.index + match[0].length);
        if (line === '') {
          if (data.length > 0)
            yield { event: event === '' ? 'message' : event, data: data.join('\n'), id };
          event = '';
          data = [];
          id = null;
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        let value = colon === -1 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
        else if (field === 'id' && !value.includes('\0')) id = value;
      }
      if (done) return;
    }
  } finally {
    reader.releaseLock();
  }
}
