/** Reading a growing log file as lines: what is there, then what is appended, until the writer is done. */
import { open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';

const POLL_MS = 100;

/**
 * Yields the file's lines (without the newline). Stops at the end of the file once `isDone()` held
 * before the last read, so nothing written before the writer finished is missed. `wake` lets the
 * caller shorten the wait between reads (e.g. on step events).
 */
export async function* followLines(
  path: string,
  isDone: () => boolean,
  wake?: (listener: () => void) => () => void,
): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  const buffer = Buffer.alloc(64 * 1024);
  let offset = 0;
  /** The line being read, in pieces: joined once its end arrives, so a long line costs linear time. */
  const partial: string[] = [];
  for (;;) {
    const doneBefore = isDone();
    let handle;
    try {
      handle = await open(path, 'r');
    } catch {
      handle = null;
    }
    if (handle !== null) {
      try {
        for (;;) {
          const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
          if (bytesRead === 0) break;
          offset += bytesRead;
          const text = decoder.write(buffer.subarray(0, bytesRead));
          const lines = text.split('\n');
          const last = lines.pop() ?? '';
          if (lines.length > 0) {
            partial.push(lines[0]!);
            lines[0] = partial.join('');
            partial.length = 0;
            yield* lines;
          }
          if (last !== '') partial.push(last);
        }
      } finally {
        await handle.close();
      }
    }
    if (doneBefore) {
      const rest = partial.join('') + decoder.end();
      if (rest !== '') yield rest;
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(finish, POLL_MS);
      const off = wake?.(finish);
      function finish(): void {
        clearTimeout(timer);
        off?.();
        resolve();
      }
    });
  }
}
