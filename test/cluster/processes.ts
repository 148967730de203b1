/**
 * Child processes the harness owns: each runs in its own process group, is stopped by group, is
 * killed when this Node process exits (even on a failed test), and has a tiny shell watchdog that
 * kills the group if this process dies without running its exit hooks (SIGKILL, OOM).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  hasExited(): boolean;
  /** SIGTERM to the whole group, SIGKILL after `graceMs`; resolves when the leader has exited. */
  stop(graceMs?: number): Promise<void>;
  /** The last lines of the process's output, for error messages. */
  logTail(lines?: number): string;
}

const liveGroups = new Set<number>();
let hooksInstalled = false;

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
      process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    });
  }
}

/** Kills group `pgid` once process `parent` is gone; exits by itself when the group is gone. */
function spawnWatchdog(pgid: number): ChildProcess {
  // dash's kill takes no `--`; "-PGID" after the signal names the process group.
  const script =
    'while kill -0 "$0" 2>/dev/null && kill -0 "-$1" 2>/dev/null; do sleep 1; done; ' +
    'kill -KILL "-$1" 2>/dev/null; exit 0';
  const dog = spawn('/bin/sh', ['-c', script, String(process.pid), String(pgid)], {
    detached: true,
    stdio: 'ignore',
  });
  dog.unref();
  return dog;
}

export function spawnManaged(
  name: string,
  command: string,
  args: string[],
  options: { cwd: string; logFile: string; env?: NodeJS.ProcessEnv },
): ManagedProcess {
  installExitHooks();
  const fd = openSync(options.logFile, 'a');
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true, // own process group (setsid), so the group can be signalled as one
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name}: could not start ${command}`);
  child.unref();
  liveGroups.add(pid);
  const dog = spawnWatchdog(pid);
  let exitedFlag = false;
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      exitedFlag = true;
      killGroup(pid, 'SIGKILL'); // anything the leader left behind in its group
      liveGroups.delete(pid);
      if (dog.pid !== undefined) killGroup(dog.pid, 'SIGKILL');
      resolve(code ?? signal ?? 'unknown');
    });
  });
  const logTail = (lines = 30): string => {
    try {
      return readFileSync(options.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  };
  return {
    name,
    pid,
    logFile: options.logFile,
    exited,
    hasExited: () => exitedFlag,
    logTail,
    async stop(graceMs = 3000): Promise<void> {
      if (exitedFlag) return;
      killGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Runs `command` as a managed process to its end, stopped (SIGTERM to its group, then SIGKILL)
 * when it outlives `timeoutMs`; its output (stdout and stderr together) is in `logFile`.
 */
export async function runManaged(
  name: string,
  command: string,
  args: string[],
  options: { cwd: string; logFile: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<{ code: number | null; output: string; timedOut: boolean; ms: number }> {
  const started = performance.now();
  const managed = spawnManaged(name, command, args, options);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void managed.stop(5_000);
  }, options.timeoutMs);
  const exit = await managed.exited;
  clearTimeout(timer);
  return {
    code: typeof exit === 'number' ? exit : null,
    output: readFileSync(options.logFile, 'utf8'),
    timedOut,
    ms: Math.round(performance.now() - started),
  };
}

/** A free TCP port on 127.0.0.1 (bound then released; a short race is accepted). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Live process ids whose command line mentions `needle` (reads /proc). */
export function processesMentioning(needle: string): { pid: number; cmdline: string }[] {
  const found: { pid: number; cmdline: string }[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
    } catch {
      continue; // exited meanwhile
    }
    if (cmdline.includes(needle) && Number(entry) !== process.pid) {
      found.push({ pid: Number(entry), cmdline });
    }
  }
  return found;
}
