/**
 * Ties a process's life to its parent's: calls `onGone` once the parent has died (its pid is gone,
 * or this process was handed to another parent) or once standard input, a pipe the parent holds,
 * is closed. A parent killed with SIGKILL cannot tell its child, so the child must notice.
 */
import { fstatSync } from 'node:fs';
import { isAlive } from '../process-alive.js';

export interface ParentWatchOptions {
  /** The process to outlive no longer than (default: the parent at start). */
  readonly parentPid?: number;
  /** Also end when stdin closes, if stdin is a pipe or socket (default true). */
  readonly stdin?: boolean;
  /** How often to look at the parent (default 500 ms). */
  readonly intervalMs?: number;
}

/** Starts watching; returns the stop. */
export function watchParent(
  onGone: (why: string) => void,
  options: ParentWatchOptions = {},
): () => void {
  const parentPid = options.parentPid ?? process.ppid;
  const startPpid = process.ppid;
  let fired = false;
  const fire = (why: string): void => {
    if (fired) return;
    fired = true;
    stop();
    onGone(why);
  };
  const timer = setInterval(() => {
    if (options.parentPid === undefined && process.ppid !== startPpid)
      return fire(`parent process ${parentPid} exited`);
    if (!isAlive(parentPid)) fire(`parent process ${parentPid} exited`);
  }, options.intervalMs ?? 500);
  timer.unref();
  const onStdinEnd = (): void => fire('standard input closed');
  const watchesStdin = (options.stdin ?? true) && stdinIsPipe();
  if (watchesStdin) {
    process.stdin.on('end', onStdinEnd);
    process.stdin.on('close', onStdinEnd);
    process.stdin.on('error', onStdinEnd);
    process.stdin.resume();
  }
  function stop(): void {
    clearInterval(timer);
    if (watchesStdin) {
      process.stdin.off('end', onStdinEnd);
      process.stdin.off('close', onStdinEnd);
      process.stdin.off('error', onStdinEnd);
      process.stdin.pause();
    }
  }
  return stop;
}

function stdinIsPipe(): boolean {
  try {
    const stat = fstatSync(0);
    return stat.isFIFO() || stat.isSocket();
  } catch {
    return false;
  }
}
