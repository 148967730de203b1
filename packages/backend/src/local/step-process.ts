/**
 * Starting a step's Python process. Every step process leads its own process group, so the step
 * and everything it starts can be signalled at once and nothing is left behind.
 * Two launchers share this contract: the run's supervisor (`step-host-launcher.ts`, the default)
 * and, as a fallback when it cannot start, a direct spawn here. Both run the entry script through
 * the step host (`step-host.py`) with the same argv, cwd, env and log file.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { HISTORY_FILE_MODE } from './run-store.js';

export interface StepLaunch {
  /** Path of the step's entry script. */
  readonly script: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /** The complete environment of the step. */
  readonly env: Readonly<Record<string, string>>;
  /** stdout and stderr are appended here, interleaved as written. */
  readonly logPath: string;
  /**
   * Start a new interpreter for it instead of forking the warm one (steps whose environment
   * differs from the run's: libraries read some variables when imported).
   */
  readonly fresh: boolean;
}

export interface StepExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the exit status could not be observed (the warm interpreter died). */
  readonly lost?: string;
}

export interface StepProcess {
  /** Process id; also the id of the step's process group. */
  readonly pid: number;
  readonly exited: Promise<StepExit>;
}

export interface StepLauncher {
  launch(spec: StepLaunch): Promise<StepProcess>;
  /** Stops the launcher; kills whatever it still runs. */
  close(): Promise<void>;
}

/** Sends `signal` to every process in the group; false when the group is already gone. */
export function signalProcessGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * A new interpreter per step, spawned from here: `python3 -u step-host.py --run SCRIPT ARGS`
 * (`-u`: logs stream as printed). The fallback when the supervisor is gone.
 */
export class FreshLauncher implements StepLauncher {
  constructor(
    private readonly python: string,
    /** Path of the step host (`step-host.py`) written for the run. */
    private readonly host: string,
  ) {}

  launch(spec: StepLaunch): Promise<StepProcess> {
    return new Promise((resolve, reject) => {
      const log = openSync(spec.logPath, 'a', HISTORY_FILE_MODE);
      let child;
      try {
        child = spawn(this.python, ['-u', this.host, '--run', spec.script, ...spec.args], {
          cwd: spec.cwd,
          env: spec.env,
          detached: true,
          stdio: ['ignore', log, log],
        });
      } finally {
        closeSync(log);
      }
      const exited = new Promise<StepExit>((done) => {
        child.once('exit', (code, signal) => done({ code, signal }));
      });
      child.once('error', reject);
      child.once('spawn', () => {
        if (child.pid === undefined) reject(new Error('the process did not start'));
        else resolve({ pid: child.pid, exited });
      });
    });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
