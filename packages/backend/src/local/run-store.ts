/**
 * Run history on disk, under `<workspace>/.cellflow/`:
 *
 *   runs/<run-id>/run.json          status, timings, parameters, metrics, every step (RunRecord)
 *   runs/<run-id>/events.jsonl      every RunEvent, in order (what `watch()` replays)
 *   runs/<run-id>/pipeline.json     the graph that ran
 *   runs/<run-id>/step-host.py      runs the entry scripts (fresh or forked from a warm interpreter)
 *   runs/<run-id>/notebook.ipynb    the notebook as it was run (cells without outputs)
 *   runs/<run-id>/steps/<step>/     step.py (entry script), log.txt, result.json, metrics.json, outputs/<variable>/,
 *                                   cell-outputs.json (what each of its cells showed, nbformat 4 outputs)
 *   cache/<key>.json                which run's step produced the outputs for a cache key
 *
 * `run.json` is replaced atomically (write + rename), so a reader never sees half of it.
 */
import { randomBytes } from 'node:crypto';
import { appendFile, chmod, mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ParameterValue } from '@cellflow/core';
import { BackendError } from '../backend.js';
import { isResourceId } from '../resource-id.js';
import { REDACTED } from '../secret-redaction.js';
import type { MetricValues, RunEvent, RunState, StepFailure, StepState } from '../run-events.js';

export interface OutputRecord {
  readonly format: string;
  readonly bytes: number;
  /** sha256 of the output folder's files: what downstream cache keys are made of. */
  readonly hash: string;
}

export interface StepRecord {
  readonly name: string;
  state: StepState;
  attempts: number;
  maxAttempts: number;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  cachedFrom?: string;
  failure?: StepFailure;
  metrics?: MetricValues;
  outputs: Record<string, OutputRecord>;
  cacheKey?: string;
  gpus?: number[];
  reason?: string;
}

export interface RunRecord {
  readonly version: 1;
  readonly id: string;
  readonly pipeline: string;
  readonly notebookPath: string | null;
  readonly createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  state: RunState;
  reason?: string;
  readonly parameters: Record<string, ParameterValue>;
  /** Parameters stored as `***` in run.json: their names look secret or the notebook says so. */
  readonly secretParameters?: readonly string[];
  metrics: Record<string, number | string>;
  readonly options: {
    readonly cache: boolean;
    readonly concurrency: number;
    /** Thread budget of math libraries in each step (OMP_NUM_THREADS, ...); null: their default. */
    readonly threadsPerStep: number | null;
    readonly cpuOnly: boolean;
    readonly python: string;
    readonly pythonVersion: string;
    readonly cwd: string;
  };
  /** The process that runs it: a `running` run whose runner is gone was interrupted. */
  readonly runnerPid: number;
  /** When that process started (see process-alive.ts): a reused pid is not the runner. */
  readonly runnerStartTicks?: string | null;
  readonly steps: StepRecord[];
}

export function timestamp(date: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}${p(date.getMonth() + 1)}${p(date.getDate())}-${p(date.getHours())}${p(date.getMinutes())}${p(date.getSeconds())}`;
}

/** Run history is private to its user: files 0600 in a 0700 `.cellflow`. */
export const HISTORY_FILE_MODE = 0o600;
export const HISTORY_DIR_MODE = 0o700;

export async function writeFileAtomic(path: string, content: string): Promise<void> {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, content, { mode: HISTORY_FILE_MODE });
  await rename(tmp, path);
}

/** Creates `.cellflow` (0700), or makes an existing one private. */
export async function ensurePrivateHistoryRoot(root: string): Promise<void> {
  await mkdir(root, { recursive: true, mode: HISTORY_DIR_MODE });
  await chmod(root, HISTORY_DIR_MODE).catch(() => {}); // not ours to change: leave it
}

/** The JSON values of a `.jsonl` file, one per line; a line cut short by a crash ends the history. */
export async function readJsonLines<T>(path: string): Promise<T[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return [];
  }
  const values: T[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      values.push(JSON.parse(line) as T);
    } catch {
      break;
    }
  }
  return values;
}

export class RunStore {
  readonly root: string;
  readonly runsDir: string;
  readonly cacheDir: string;
  /** Per run: writes are chained so run.json and events.jsonl are written in event order. */
  private readonly queues = new Map<string, Promise<void>>();

  constructor(workspace: string) {
    this.root = join(workspace, '.cellflow');
    this.runsDir = join(this.root, 'runs');
    this.cacheDir = join(this.root, 'cache');
  }

  /** A new, sortable run id (`20261121-184600-digits-3fa2`) and its folder. */
  async createRun(pipeline: string, now = new Date()): Promise<string> {
    await ensurePrivateHistoryRoot(this.root);
    await mkdir(this.runsDir, { recursive: true });
    for (;;) {
      const id = `${timestamp(now)}-${pipeline}-${randomBytes(2).toString('hex')}`;
      try {
        await mkdir(this.runDir(id));
        return id;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
  }

  /** A run's folder; an id that is not one (`..%2F..`, a slash) never becomes a path. */
  runDir(id: string): string {
    if (!isResourceId(id)) throw new BackendError('run-not-found', `No run ${JSON.stringify(id)}.`);
    return join(this.runsDir, id);
  }

  stepDir(id: string, step: string): string {
    if (!isResourceId(step))
      throw new BackendError('step-not-found', `No step ${JSON.stringify(step)} in run ${id}.`);
    return join(this.runDir(id), 'steps', step);
  }

  logPath(id: string, step: string): string {
    return join(this.stepDir(id, step), 'log.txt');
  }

  outputPath(id: string, step: string, variable: string): string {
    if (!isResourceId(variable))
      throw new BackendError(
        'not-found',
        `Step ${step} of run ${id} has no output ${JSON.stringify(variable)}.`,
      );
    return join(this.stepDir(id, step), 'outputs', variable);
  }

  /** Queues a write for the run; resolves when it (and every earlier one) is on disk. */
  private enqueue(id: string, write: () => Promise<void>): Promise<void> {
    const next = (this.queues.get(id) ?? Promise.resolve()).then(write, write);
    this.queues.set(id, next);
    return next;
  }

  saveRun(record: RunRecord): Promise<void> {
    const secret = new Set(record.secretParameters ?? []);
    const parameters = Object.fromEntries(
      Object.entries(record.parameters).map(([name, value]) => [
        name,
        secret.has(name) ? REDACTED : value,
      ]),
    );
    const content = `${JSON.stringify({ ...record, parameters }, null, 2)}\n`;
    return this.enqueue(record.id, () =>
      writeFileAtomic(join(this.runDir(record.id), 'run.json'), content),
    );
  }

  appendEvent(event: RunEvent): Promise<void> {
    const line = `${JSON.stringify(event)}\n`;
    return this.enqueue(event.runId, () =>
      appendFile(join(this.runDir(event.runId), 'events.jsonl'), line, {
        mode: HISTORY_FILE_MODE,
      }),
    );
  }

  /** Waits for every queued write of the run. */
  flush(id: string): Promise<void> {
    return this.queues.get(id) ?? Promise.resolve();
  }

  async readRun(id: string): Promise<RunRecord | null> {
    try {
      return JSON.parse(await readFile(join(this.runDir(id), 'run.json'), 'utf8')) as RunRecord;
    } catch {
      return null;
    }
  }

  readEvents(id: string): Promise<RunEvent[]> {
    return readJsonLines<RunEvent>(join(this.runDir(id), 'events.jsonl'));
  }

  async listRunIds(): Promise<string[]> {
    try {
      return (await readdir(this.runsDir)).sort().reverse();
    } catch {
      return [];
    }
  }
}
