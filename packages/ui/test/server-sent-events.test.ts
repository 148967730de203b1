/** The SSE reader against the format's corner cases, fed in awkward chunks as a network would. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readServerSentEvents, type ServerSentEvent } from '@cellflow/ui';

function streamOf(chunks: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(c);
      controller.close();
    },
  });
}

async function read(chunks: readonly Uint8Array[]): Promise<ServerSentEvent[]> {
  const out: ServerSentEvent[] = [];
  for await (const e of readServerSentEvents(streamOf(chunks))) out.push(e);
  return out;
}

const wire =
  'retry: 1000\r\n\r\n: keep-alive\r\n\r\nid: 0\r\nevent: log\r\ndata: "héllo ✓"\r\n\r\n' +
  'id: 1\nevent: run-event\ndata: {"a":\ndata: 1}\n\n' +
  'event: end\rdata: {}\r\r';

const expected: ServerSentEvent[] = [
  { event: 'log', data: '"héllo ✓"', id: '0' },
  { event: 'run-event', data: '{"a":\n1}', id: '1' },
  { event: 'end', data: '{}', id: null },
];

describe('readServerSentEvents', () => {
  it('reads CRLF, LF and CR lines, comments, multi-line data and ids', async () => {
    assert.deepEqual(await read([new TextEncoder().encode(wire)]), expected);
  });

  it('gives the same messages whatever the chunking (even inside CRLF or a UTF-8 character)', async () => {
    const bytes = new TextEncoder().encode(wire);
    for (const size of [1, 2, 3, 5, 7, 13]) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.slice(i, i + size));
      assert.deepEqual(await read(chunks), expected, `chunks of ${size}`);
    }
  });

  it('drops a message cut off before its blank line', async () => {
    const cut = new TextEncoder().encode(
      'id: 4\nevent: log\ndata: "x"\n\nid: 5\nevent: log\ndata: "y"\n',
    );
    assert.deepEqual(await read([cut]), [{ event: 'log', data: '"x"', id: '4' }]);
  });
});
