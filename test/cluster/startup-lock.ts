/**
 * One cluster start-up at a time per machine. Starting kube-apiserver with the Kubeflow CRDs is
 * ~10 s of CPU, followed by ~5 s of background OpenAPI work; two start-ups at once on 2 cores take
 * twice as long each. Test files run in parallel, so startCluster takes this lock (a file created
 * with O_EXCL holding the owner's pid; a dead owner's lock is taken over) and releases it once the
 * new API server has gone quiet, or after `maxHoldMs`.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { templateRoot } from './cluster-template.js';
import { isRunning } from '../support/processes.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface StartupLock {
  /** Milliseconds spent waiting for another start-up. */
  waitedMs: number;
  release(): void;
  /** Releases once process `pid` uses < 10% of a core over 500 ms (or after `maxHoldMs`). */
  releaseWhenQuiet(pid: number, maxHoldMs?: number): void;
}

/** User + system CPU seconds of a process so far (from /proc), or undefined when it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

export async function acquireStartupLock(timeoutMs = 600_000): Promise<StartupLock> {
  const root = templateRoot();
  mkdirSync(root, { recursive: true });
  const path = join(root, 'startup.lock');
  const started = Date.now();
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch {
      let owner = 0;
      try {
        owner = Number(readFileSync(path, 'utf8'));
      } catch {
        continue; // released meanwhile
      }
      if (owner > 0 && (owner === process.pid ? false : !isRunning(owner))) {
        rmSync(path, { force: true });
        continue;
      }
      if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${path}`);
      await sleep(200);
    }
  }
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    try {
      if (Number(readFileSync(path, 'utf8')) === process.pid) rmSync(path, { force: true });
    } catch {
      // already gone
    }
  };
  process.once('exit', release);
  return {
    waitedMs: Date.now() - started,
    release,
    releaseWhenQuiet(pid: number, maxHoldMs = 20_000): void {
      const deadline = Date.now() + maxHoldMs;
      let last = cpuSeconds(pid);
      const tick = (): void => {
        const now = cpuSeconds(pid);
        if (released || now === undefined || last === undefined || now - last < 0.05) {
          release();
          return;
        }
        last = now;
        if (Date.now() > deadline) release();
        else setTimeout(tick, 500).unref();
      };
      setTimeout(tick, 500).unref();
    },
  };
}
