/**
 * The end of a step's log, for a failure report: read from the last `TAIL_BYTES` of the file
 * only, whatever its size, and with each line shortened to its end (a progress bar drawn with
 * `\r` is one line of many megabytes).
 */
import { open } from 'node:fs/promises';

/** How much of a log's end is read for its last lines. */
const TAIL_BYTES = 64 * 1024;
/** Longest line shown; longer ones show their end. */
const MAX_LINE_CHARS = 400;

export async function readLogTail(path: string, lines: number): Promise<string[]> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    return [];
  }
  try {
    const { size } = await handle.stat();
    const start = Math.max(0, size - TAIL_BYTES);
    const buffer = Buffer.alloc(size - start);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
    const all = buffer.subarray(0, bytesRead).toString('utf8').split('\n');
    while (all.length > 0 && all[all.length - 1] === '') all.pop();
    const firstIsCut = start > 0 && all.length <= lines;
    return all.slice(-lines).map((line, i) => {
      // A terminal shows what follows the last carriage return of a line.
      const shown = line.slice(line.lastIndexOf('\r') + 1);
      if (shown.length > MAX_LINE_CHARS)
        return `… ${shown.length - MAX_LINE_CHARS} characters, then: ${shown.slice(-MAX_LINE_CHARS)}`;
      return i === 0 && firstIsCut && shown.length === line.length ? `… ${shown}` : shown;
    });
  } finally {
    await handle.close();
  }
}
