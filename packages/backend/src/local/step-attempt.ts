/**
 * One attempt at one step: start its process, enforce `timeout:`, honour cancel, clean up its
 * process group, and turn what happened into success or a located `StepFailure`.
 */
import { readFile } from 'node:fs/promises';
import type { MetricValues, StepFailure } from '../run-events.js';
import { startDeadlineTimer } from './deadline-timer.js';
import { killProcessesOfRun } from './run-processes.js';
import {
  signalProcessGroup,
  type StepExit,
  type StepLaunch,
  type StepLauncher,
} from './step-process.js';

/** What the runtime writes to `--result` (see core's runtime.py). */
export interface StepResultJson {
  readonly status: 'succeeded' | 'failed';
  readonly outputs: Readonly<Record<string, { readonly format: string; readonly bytes: number }>>;
  readonly metrics: MetricValues;
  /** The failure as the runtime saw it; the process's exit is added here. */
  readonly error?: Omit<StepFailure, 'exitCode' | 'signal'>;
  readonly durationMs?: number;
}

export interface AttemptOutcome {
  readonly result: StepResultJson | null;
  readonly failure: StepFailure | null;
}

/** How long a stopped step gets between SIGTERM and SIGKILL. */
export const STOP_GRACE_MS = 2000;

export interface AttemptControl {
  /** Called once the process exists; `stop()` then kills its whole group (cancel). */
  started(stop: () => void): void;
}

async function readResult(path: string): Promise<StepResultJson | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as StepResultJson;
  } catch {
    return null;
  }
}

function formatSeconds(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return [h > 0 ? `${h}h` : '', m > 0 ? `${m}m` : '', s > 0 || seconds === 0 ? `${s}s` : ''].join(
    '',
  );
}

const SIGNAL_CAUSES: Partial<Record<NodeJS.Signals, string>> = {
  SIGKILL: 'killed by SIGKILL (often the out-of-memory killer; `dmesg` says) ',
  SIGSEGV: 'crashed (SIGSEGV, a fault in native code) ',
  SIGABRT: 'aborted (SIGABRT, usually a failed check in native code) ',
  SIGTERM: 'stopped by SIGTERM from another process ',
};

function describeExit(step: string, exit: StepExit): StepFailure {
  const base = { kind: 'exit', cell: null, line: null, exitCode: exit.code, signal: exit.signal };
  if (exit.lost !== undefined) {
    return {
      ...base,
      message: `Step \`${step}\` was lost: ${exit.lost}. Fix: run again; if it repeats, use --fresh-processes.`,
    };
  }
  if (exit.signal !== null) {
    const cause = SIGNAL_CAUSES[exit.signal] ?? `killed by ${exit.signal} `;
    return {
      ...base,
      message: `Step \`${step}\` was ${cause}before it finished. Its log shows what it printed until then.`,
    };
  }
  return {
    ...base,
    message:
      `Step \`${step}\` exited with code ${exit.code} before it finished: something in its code ended the ` +
      'process directly (`os._exit()`, a native crash, or `sys.exit()` in a thread). Its log shows what it printed until then.',
  };
}

/** Runs the attempt to its end. Never throws: every way of ending is an outcome. */
export async function runStepAttempt(
  step: string,
  launcher: StepLauncher,
  launch: StepLaunch,
  resultPath: string,
  timeoutSeconds: number | null,
  control: AttemptControl,
): Promise<AttemptOutcome> {
  let child;
  try {
    child = await launcher.launch(launch);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return {
      result: null,
      failure: {
        kind: 'launch',
        cell: null,
        line: null,
        message: `Step \`${step}\` could not start: ${why}. Fix: check the interpreter (--python PATH).`,
      },
    };
  }
  const pid = child.pid;
  let killTimer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const stop = (): void => {
    if (killTimer !== undefined) return;
    signalProcessGroup(pid, 'SIGTERM');
    killTimer = setTimeout(() => signalProcessGroup(pid, 'SIGKILL'), STOP_GRACE_MS);
  };
  const deadline =
    timeoutSeconds !== null
      ? startDeadlineTimer(timeoutSeconds * 1000, () => {
          timedOut = true;
          stop();
        })
      : undefined;
  control.started(stop);
  const exit = await child.exited;
  deadline?.clear();
  clearTimeout(killTimer);
  signalProcessGroup(pid, 'SIGKILL'); // whatever the step left running in its group goes too
  // ... and what it started in other sessions, or that its supervisor's death orphaned.
  const runId = launch.env.CELLFLOW_RUN_ID;
  if (runId !== undefined) killProcessesOfRun(runId, step);
  const result = await readResult(resultPath);
  if (timedOut) {
    return {
      result,
      failure: {
        kind: 'timeout',
        cell: null,
        line: null,
        exitCode: exit.code,
        signal: exit.signal,
        message: `Step \`${step}\` did not finish within ${formatSeconds(timeoutSeconds ?? 0)} (its \`timeout:\` tag) and was stopped. Fix: make it faster, or raise the tag's limit.`,
      },
    };
  }
  if (exit.code === 0 && result?.status === 'succeeded') return { result, failure: null };
  if (result?.status === 'failed' && result.error !== undefined) {
    const e = result.error;
    return {
      result,
      failure: {
        kind: e.kind,
        message: e.message,
        cell: e.cell ?? null,
        line: e.line ?? null,
        ...(e.type !== undefined ? { type: e.type } : {}),
        ...(e.traceback !== undefined ? { traceback: e.traceback } : {}),
        exitCode: exit.code,
        signal: exit.signal,
      },
    };
  }
  return { result, failure: describeExit(step, exit) };
}
