/** Starts the built `cellflow agent` as a real process and reads its ready line (for tests). */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT_READY_PREFIX, type AgentReadyLine } from '@cellflow/backend/agent-protocol';
import { repoRoot } from '../golden/golden-cases.js';

export const cliPath = join(repoRoot, 'packages/cli/bin/cellflow.js');

export interface AgentProcess {
  readonly child: ChildProcess;
  readonly ready: AgentReadyLine;
  readonly baseUrl: string;
  /** Everything the agent wrote so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or signal) once the process has ended. */
  readonly exited: Promise<number | string | null>;
  /** SIGTERM, then SIGKILL after 5 s. */
  stop(): Promise<void>;
}

export async function startAgentProcess(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; stdin?: 'pipe' | 'ignore' } = {},
): Promise<AgentProcess> {
  const spawnOptions: SpawnOptions = {
    cwd: options.cwd ?? repoRoot,
    env: options.env ?? process.env,
    stdio: [options.stdin ?? 'pipe', 'pipe', 'pipe'],
  };
  const child = spawn(process.execPath, [cliPath, 'agent', ...args], spawnOptions);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | string | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal)),
  );
  const ready = await new Promise<AgentReadyLine>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent not ready in 20 s:\n${err}`)), 20_000);
    const look = (): void => {
      const line = out.split('\n').find((l) => l.startsWith(AGENT_READY_PREFIX));
      if (line === undefined) return;
      clearTimeout(timer);
      resolve(JSON.parse(line.slice(AGENT_READY_PREFIX.length)) as AgentReadyLine);
    };
    child.stdout!.on('data', look);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`agent exited (${String(code)}) before it was ready:\n${err}`));
    });
  });
  return {
    child,
    ready,
    baseUrl: `http://127.0.0.1:${ready.port}/api/`,
    stdout: () => out,
    stderr: () => err,
    exited,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The token an agent was started with: from its ready line or its token file. */
export function tokenOf(agent: AgentProcess): string {
  if (agent.ready.token !== undefined) return agent.ready.token;
  if (agent.ready.tokenFile !== null) return readFileSync(agent.ready.tokenFile, 'utf8').trim();
  throw new Error('the agent was given its token by the environment');
}

/** Pids of every descendant of `pid` (from /proc), for checking nothing is left behind. */
export function descendantsOf(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSafe('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const c of children.get(queue.shift()!) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
