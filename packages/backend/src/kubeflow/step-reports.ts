/**
 * What each step of a cluster run reported: its metrics and where its saved outputs are kept
 * (URI and Python type), read from the end of the step pods' logs (core's step report lines).
 * A finished run's reports never change, so they are kept, in memory and in a cache folder
 * (one small JSON file per run), and listing runs reads each step's log once. Runs whose pods
 * are gone (KFP deletes finished workflows after a while) are kept as reporting nothing.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseStepReport, type StepReport } from '@cellflow/core';
import type { RunRef } from '../backend.js';
import type { KubeConnection } from './kube-connection.js';
import {
  findRunWorkflow,
  readStepPodLog,
  workflowNamespace,
  workflowPodsByNode,
} from './run-resources.js';
import { readWorkflowStatus } from './workflow-states.js';

/** Step name -> what it reported; steps that reported nothing are left out. */
export type StepReports = ReadonlyMap<string, StepReport>;

/** What the logs told, and whether every log asked for was read (else not worth keeping). */
export interface ReadStepReports {
  readonly reports: StepReports;
  readonly complete: boolean;
}

/** Log lines read from the end of a step's log: the report lines are the step's last, and KFP's launcher logs a few after them. */
const TAIL_LINES = 1000;
const LOGS_AT_ONCE = 4;
const CACHE_VERSION = 1;

/** `$XDG_CACHE_HOME/cellflow/run-reports`, else `~/.cache/cellflow/run-reports`. */
export function defaultReportCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_CACHE_HOME !== undefined && env.XDG_CACHE_HOME !== ''
      ? env.XDG_CACHE_HOME
      : join(homedir(), '.cache');
  return join(base, 'cellflow', 'run-reports');
}

/** `fn` over `items`, at most `limit` at once; results in order. */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Reads the reports of `steps` (step name -> KFP task name) of one run from its pods' logs: one
 * workflow read, one pod list, then each step's log tail. Steps without a pod report nothing; a
 * log that could not be read makes the result incomplete.
 */
export async function readStepReports(
  kube: KubeConnection,
  run: RunRef,
  steps: ReadonlyMap<string, string>,
): Promise<ReadStepReports> {
  const reports = new Map<string, StepReport>();
  if (steps.size === 0) return { reports, complete: true };
  const workflow = await findRunWorkflow(kube, run);
  if (workflow === undefined) return { reports, complete: true };
  const namespace = workflowNamespace(kube, workflow);
  const status = readWorkflowStatus(workflow, steps).steps;
  const nodes = new Map<string, string>();
  for (const [step, s] of status)
    if (s.state === 'succeeded' && s.executorNode !== undefined) nodes.set(s.executorNode, step);
  if (nodes.size === 0) return { reports, complete: true };
  const found: [string, string][] = [];
  for (const [node, pod] of await workflowPodsByNode(kube, workflow)) {
    const step = nodes.get(node);
    if (step !== undefined) found.push([step, pod]);
  }
  let complete = true;
  await mapLimited(found, LOGS_AT_ONCE, async ([step, pod]) => {
    let log: string;
    try {
      log = await readStepPodLog(kube, namespace, pod, TAIL_LINES, {
        retries: 1,
        timeoutMs: 10_000,
      });
    } catch {
      complete = false; // read again next time
      return;
    }
    const report = parseStepReport(log);
    if (Object.keys(report.metrics).length > 0 || Object.keys(report.artifacts).length > 0)
      reports.set(step, report);
  });
  return { reports, complete };
}

interface CacheFile {
  readonly version: number;
  readonly runId: string;
  readonly steps: Readonly<Record<string, StepReport>>;
}

/** Reports of finished runs, kept in memory and (when given a folder) on disk. */
export class StepReportCache {
  private readonly memory = new Map<string, StepReports>();

  constructor(private readonly dir: string | null) {}

  private fileOf(runId: string): string | null {
    return this.dir !== null && /^[\w.-]+$/.test(runId) ? join(this.dir, `${runId}.json`) : null;
  }

  async get(runId: string): Promise<StepReports | undefined> {
    const kept = this.memory.get(runId);
    if (kept !== undefined) return kept;
    const file = this.fileOf(runId);
    if (file === null) return undefined;
    try {
      const data = JSON.parse(await readFile(file, 'utf8')) as CacheFile;
      if (data.version !== CACHE_VERSION || data.runId !== runId) return undefined;
      const reports = new Map(Object.entries(data.steps));
      this.memory.set(runId, reports);
      return reports;
    } catch {
      return undefined;
    }
  }

  /** Keeps a finished run's reports; a cache folder that cannot be written is only memory. */
  async set(runId: string, reports: StepReports): Promise<void> {
    this.memory.set(runId, reports);
    const file = this.fileOf(runId);
    if (file === null || this.dir === null) return;
    const data: CacheFile = {
      version: CACHE_VERSION,
      runId,
      steps: Object.fromEntries(reports),
    };
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(data), { mode: 0o600 });
      await rename(tmp, file);
    } catch {
      // a read-only home: the reports are read again next time
    }
  }
}
