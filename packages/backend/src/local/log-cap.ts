/**
 * A cap on a step's log while the step runs. Steps write their log themselves (appending), so
 * the file is checked every `CHECK_MS`: once over the cap, it keeps its first half-cap, a note
 * that output was cut there, and the newest quarter-cap. Appending writers go on writing at the
 * new end. When the step ends, a last line says how much was cut.
 */
import { appendFile, open, stat, truncate } from 'node:fs/promises';

/** Default cap of one step's log (`maxLogBytes`, `$CELLFLOW_MAX_LOG_BYTES`). */
export const DEFAULT_MAX_LOG_BYTES = 100 * 1024 * 1024;
const CHECK_MS = 250;

/** The cap in force: the option, else `$CELLFLOW_MAX_LOG_BYTES`, else the default. */
export function maxLogBytesOf(option: number | undefined, env: NodeJS.ProcessEnv): number {
  if (option !== undefined) return option;
  const fromEnv = Number(env.CELLFLOW_MAX_LOG_BYTES);
  return Number.isInteger(fromEnv) && fromEnv >= 4096 ? fromEnv : DEFAULT_MAX_LOG_BYTES;
}

export interface LogCap {
  /** Stops checking; a last check runs and the count of cut bytes is written. */
  stop(): Promise<void>;
}

async function readEnd(path: string, from: number, length: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, from);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

export function startLogCap(path: string, maxBytes: number): LogCap {
  const head = Math.floor(maxBytes / 2);
  const tail = Math.floor(maxBytes / 4);
  /** Bytes at the start that stay: the head and the note after it, once output was cut. */
  let kept: number | null = null;
  let cut = 0;
  let checking: Promise<void> = Promise.resolve();
  const check = async (): Promise<void> => {
    let size;
    try {
      size = (await stat(path)).size;
    } catch {
      return;
    }
    if (size <= maxBytes) return;
    const newest = await readEnd(path, size - tail, tail);
    if (kept === null) {
      const note = Buffer.from(
        `\n[cellflow] The log reached its cap of ${maxBytes} bytes (CELLFLOW_MAX_LOG_BYTES); output was cut here, the newest follows.\n`,
      );
      // The note is written in place at `head`, then the file cut right after it: the step may
      // append at any moment, and the note must stay whole where later checks cut back to.
      const handle = await open(path, 'r+');
      try {
        await handle.write(note, 0, note.length, head);
        await handle.truncate(head + note.length);
      } finally {
        await handle.close();
      }
      kept = head + note.length;
      cut += size - head - newest.length;
    } else {
      await truncate(path, kept);
      cut += size - kept - newest.length;
    }
    await appendFile(path, newest);
  };
  const timer = setInterval(() => {
    checking = checking.then(check).catch(() => {});
  }, CHECK_MS);
  return {
    stop: async () => {
      clearInterval(timer);
      await checking;
      await check().catch(() => {});
      if (cut > 0)
        await appendFile(
          path,
          `[cellflow] ${cut} bytes of this step's output were cut to keep its log under ${maxBytes} bytes.\n`,
        ).catch(() => {});
    },
  };
}
