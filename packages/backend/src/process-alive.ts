import { readFileSync } from 'node:fs';

/** Whether a process exists (a process we may not signal still exists). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * When a process started, in clock ticks since boot (Linux's /proc/PID/stat, field 22), or null
 * where that cannot be read. With its pid, it names one process: a pid is reused, this is not.
 */
export function processStartTicks(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Whether the process recorded as `pid` (started at `startTicks`, when known) still runs. */
export function isSameProcessAlive(pid: number, startTicks: string | null | undefined): boolean {
  if (!isAlive(pid)) return false;
  if (startTicks === null || startTicks === undefined) return true;
  const now = processStartTicks(pid);
  return now === null || now === startTicks;
}
