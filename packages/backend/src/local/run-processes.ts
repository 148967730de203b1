/**
 * Every process a run started, found without cgroups or a subreaper: each carries the run's
 * `CELLFLOW_RUN_ID` (and a step's `CELLFLOW_STEP`) in the environment it was started with, which
 * Linux shows in /proc/PID/environ whatever session or parent it has since. A process that left
 * its step's process group (`start_new_session=True`, a daemon), or was orphaned when the step's
 * supervisor was killed, is still found and stopped when its step or run ends.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Pids of the live processes started for the run (or one of its steps), this process excepted. */
export function processesOfRun(runId: string, step?: string): number[] {
  const runMarker = `CELLFLOW_RUN_ID=${runId}`;
  const stepMarker = step !== undefined ? `CELLFLOW_STEP=${step}` : null;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return []; // not Linux: process groups are all there is
  }
  const found: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0');
      if (!environ.includes(runMarker)) continue;
      if (stepMarker !== null && !environ.includes(stepMarker)) continue;
      found.push(Number(entry));
    } catch {
      // ended meanwhile, or not ours to read
    }
  }
  return found;
}

/**
 * SIGKILLs every process `processesOfRun` finds; returns how many. A process may fork between
 * the look and the kill (a shell starting its command): the look is made again until it finds
 * none, a few times at most.
 */
export function killProcessesOfRun(runId: string, step?: string): number {
  const killed = new Set<number>();
  for (let round = 0; round < 10; round++) {
    const pids = processesOfRun(runId, step);
    if (pids.length === 0) break;
    for (const pid of pids) {
      killed.add(pid);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  return killed.size;
}
