/** A KFP run as a Cellflow `RunSummary` (the same shape local runs have). */
import { stepTasksOfPipelineSpec } from '@cellflow/core';
import type { RunSummary, StepSummary } from '../backend.js';
import type { MetricValues } from '../run-events.js';
import type { KfpRun } from './kfp-client.js';
import type { StepReports } from './step-reports.js';
import { runStateOfKfp, stepStateOfKfp } from './workflow-states.js';

type Json = Record<string, unknown>;
const obj = (v: unknown): Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};

function pipelineNameOf(run: KfpRun): string {
  const spec = obj((run as { pipeline_spec?: unknown }).pipeline_spec);
  const inner = spec.pipeline_spec !== undefined ? obj(spec.pipeline_spec) : spec;
  const name = obj(inner.pipelineInfo).name;
  return typeof name === 'string' ? name : run.display_name;
}

function durationOf(
  start: string | null | undefined,
  end: string | null | undefined,
): number | null {
  if (start == null || end == null) return null;
  const ms = Date.parse(end) - Date.parse(start);
  return Number.isFinite(ms) && ms >= 0 ? ms : null;
}

/** Step name -> KFP task name, from the run's pipeline spec. */
export function stepTasksOfKfpRun(run: KfpRun): Map<string, string> {
  const spec = obj((run as { pipeline_spec?: unknown }).pipeline_spec);
  const inner = spec.pipeline_spec !== undefined ? obj(spec.pipeline_spec) : spec;
  return new Map(stepTasksOfPipelineSpec(inner).map(({ step, task }) => [step, task]));
}

/** Every task of the run's pipeline spec, in spec order, with KFP's detail where it has one. */
function stepsOf(run: KfpRun, reports: StepReports): StepSummary[] {
  const details = run.run_details?.task_details ?? [];
  const stepOfTask = new Map([...stepTasksOfKfpRun(run)].map(([step, task]) => [task, step]));
  const tasks = [...stepOfTask.keys()];
  const names =
    tasks.length > 0
      ? tasks
      : details
          .map((t) => t.display_name ?? '')
          .filter((n) => n !== '' && n !== 'root' && !n.endsWith('-driver'));
  return names.map((task) => {
    const t = details.find((d) => d.display_name === task);
    const name = task.replace(/-/g, '_');
    const report = reports.get(stepOfTask.get(task) ?? name);
    return {
      name,
      state: stepStateOfKfp(t?.state),
      attempts: t?.state === undefined || t.state === 'PENDING' ? 0 : 1,
      startedAt: t?.start_time ?? null,
      finishedAt: t?.end_time ?? null,
      durationMs: durationOf(t?.start_time, t?.end_time),
      ...(report !== undefined && Object.keys(report.metrics).length > 0
        ? { metrics: report.metrics }
        : {}),
      ...(report !== undefined && Object.keys(report.artifacts).length > 0
        ? { outputs: report.artifacts }
        : {}),
    };
  });
}

/** The run's metrics: every step's, in step order. */
function metricsOf(steps: readonly StepSummary[]): MetricValues {
  return Object.assign({}, ...steps.map((s) => s.metrics ?? {})) as MetricValues;
}

/** `reports`: what the steps reported in their logs (metrics, outputs), by step name. */
export function runSummaryOfKfp(run: KfpRun, reports: StepReports = new Map()): RunSummary {
  const steps = stepsOf(run, reports);
  const state = runStateOfKfp(run.state);
  const parameters = (run.runtime_config?.parameters ?? {}) as RunSummary['parameters'];
  return {
    id: run.run_id,
    pipeline: pipelineNameOf(run),
    state,
    notebookPath: null,
    createdAt: run.created_at ?? '',
    startedAt: run.created_at ?? null,
    finishedAt:
      run.finished_at !== undefined && !run.finished_at.startsWith('1970') ? run.finished_at : null,
    durationMs: durationOf(
      run.created_at,
      run.finished_at?.startsWith('1970') === true ? undefined : run.finished_at,
    ),
    parameters,
    metrics: metricsOf(steps),
    steps,
    ...(run.error?.message !== undefined && run.error.message !== ''
      ? { reason: run.error.message }
      : {}),
  };
}
