/**
 * Steps through the run's supervisor (`step-host.py --serve`): every step process is its child, in
 * its own process group, and nothing it started outlives the run, even when this process dies.
 * A step runs in a fork of the warm supervisor (the pipeline's libraries already imported), or,
 * with `fresh`, in a new interpreter exec'd from the fork.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { HISTORY_FILE_MODE } from './run-store.js';
import { createInterface } from 'node:readline';
import {
  signalProcessGroup,
  type StepExit,
  type StepLaunch,
  type StepLauncher,
  type StepProcess,
} from './step-process.js';

/**
 * Libraries not imported ahead: their import starts threads or runtimes that a fork does not
 * survive well. Steps still import them, in their own process.
 */
export const NOT_PRELOADED = [
  'tensorflow',
  'jax',
  'jaxlib',
  'ray',
  'pyspark',
  'dask',
  'multiprocessing',
  'this',
  'antigravity',
];

export interface StepHostOptions {
  readonly python: string;
  /** Path of the step host (`step-host.py`) written for the run. */
  readonly host: string;
  /** The interpreter's environment and working directory; forks start from them. */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** Cell code of the pipeline: its imports are what gets loaded ahead (none: nothing is). */
  readonly cells: readonly string[];
  /** Entry scripts (one is enough): the step runtime's own imports are loaded ahead too. */
  readonly scripts: readonly string[];
  /** The interpreter's own stderr (import warnings, crashes) goes here. */
  readonly logPath: string;
}

interface Message {
  readonly ready?: boolean;
  readonly launched?: number;
  readonly failed?: number;
  readonly message?: string;
  readonly pid?: number;
  readonly exited?: number;
  readonly code?: number | null;
  readonly signal?: NodeJS.Signals | null;
  readonly preloaded?: string[];
  readonly ms?: number;
}

export class StepHostLauncher implements StepLauncher {
  private readonly process: ChildProcess;
  private nextId = 1;
  private readonly launching = new Map<
    number,
    { resolve: (p: StepProcess) => void; reject: (e: Error) => void }
  >();
  private readonly running = new Map<number, (exit: StepExit) => void>();
  private readonly early = new Map<number, StepExit>();
  private dead: string | null = null;
  private readonly gone: Promise<void>;
  /** Modules imported ahead, and how long that took; set once ready. */
  preloaded: { modules: readonly string[]; ms: number } | null = null;

  constructor(options: StepHostOptions) {
    const log = openSync(options.logPath, 'a', HISTORY_FILE_MODE);
    try {
      this.process = spawn(options.python, ['-u', options.host, '--serve'], {
        cwd: options.cwd,
        env: options.env,
        detached: true,
        stdio: ['pipe', 'pipe', log],
      });
    } finally {
      closeSync(log);
    }
    this.gone = new Promise((resolve) => {
      this.process.once('exit', (code, signal) => {
        this.die(`the step supervisor exited (${signal ?? `code ${code}`})`);
        resolve();
      });
      this.process.once('error', (error) => {
        this.die(`the step supervisor could not start: ${error.message}`);
        resolve();
      });
    });
    createInterface({ input: this.process.stdout! }).on('line', (line) => this.receive(line));
    this.process.stdin!.on('error', () => undefined);
    this.send({ cells: options.cells, scripts: options.scripts, skip: NOT_PRELOADED });
  }

  private send(message: unknown): void {
    if (this.dead === null) this.process.stdin!.write(`${JSON.stringify(message)}\n`);
  }

  private receive(line: string): void {
    let m: Message;
    try {
      m = JSON.parse(line) as Message;
    } catch {
      return;
    }
    if (m.ready === true) this.preloaded = { modules: m.preloaded ?? [], ms: m.ms ?? 0 };
    if (m.launched !== undefined && m.pid !== undefined) {
      const pid = m.pid;
      const waiter = this.launching.get(m.launched);
      this.launching.delete(m.launched);
      const exited = new Promise<StepExit>((resolve) => {
        const early = this.early.get(pid);
        if (early !== undefined) {
          this.early.delete(pid);
          resolve(early);
        } else this.running.set(pid, resolve);
      });
      waiter?.resolve({ pid, exited });
    }
    if (m.failed !== undefined) {
      this.launching.get(m.failed)?.reject(new Error(m.message ?? 'the step could not start'));
      this.launching.delete(m.failed);
    }
    if (m.exited !== undefined) {
      const exit: StepExit = { code: m.code ?? null, signal: m.signal ?? null };
      const done = this.running.get(m.exited);
      this.running.delete(m.exited);
      if (done !== undefined) done(exit);
      else this.early.set(m.exited, exit);
    }
  }

  /** The interpreter is gone: steps it was running are killed and reported as lost. */
  private die(reason: string): void {
    if (this.dead !== null) return;
    this.dead = reason;
    for (const { reject } of this.launching.values()) reject(new Error(reason));
    this.launching.clear();
    for (const [pid, done] of this.running) {
      signalProcessGroup(pid, 'SIGKILL');
      done({ code: null, signal: null, lost: reason });
    }
    this.running.clear();
  }

  get alive(): boolean {
    return this.dead === null;
  }

  launch(spec: StepLaunch): Promise<StepProcess> {
    if (this.dead !== null) return Promise.reject(new Error(this.dead));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.launching.set(id, { resolve, reject });
      this.send({
        op: 'launch',
        id,
        script: spec.script,
        args: spec.args,
        cwd: spec.cwd,
        env: spec.env,
        log: spec.logPath,
        fresh: spec.fresh,
      });
    });
  }

  /** Closes the interpreter's stdin: it kills what it still runs, then exits. Forced after 5 s. */
  async close(): Promise<void> {
    if (this.process.exitCode === null && this.process.signalCode === null) {
      this.process.stdin!.end();
      const timer = setTimeout(() => {
        if (this.process.pid !== undefined) signalProcessGroup(this.process.pid, 'SIGKILL');
      }, 5000);
      await this.gone;
      clearTimeout(timer);
    }
    this.die('the step supervisor was closed');
  }
}
