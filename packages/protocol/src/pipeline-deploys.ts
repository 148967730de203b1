/**
 * Production deploys on Kubeflow Pipelines as callers see them: an upload's result, a schedule's
 * summary, and what a backend that deploys (`KubeflowBackend`) offers besides runs.
 */
import type { CompiledPipeline, ParameterValue } from '@cellflow/core';

export interface UploadOptions {
  /** The notebook the pipeline comes from (in the descriptions). */
  readonly notebookPath?: string;
  /** The version's name (default: pipeline name, UTC time and the content's hash). */
  readonly versionName?: string;
}

/** What an upload made: the pipeline (found or created) and its new version. */
export interface PipelineUpload {
  readonly pipelineId: string;
  readonly pipelineName: string;
  readonly versionId: string;
  readonly versionName: string;
  /** True when this upload created the pipeline itself. */
  readonly pipelineCreated: boolean;
  /** The version's page in the KFP UI. */
  readonly uiUrl: string;
}

export interface ScheduleOptions {
  /** Cron (`0 6 * * *`, or KFP's six fields with seconds first); exclusive with `intervalSeconds`. */
  readonly cron?: string;
  readonly intervalSeconds?: number;
  /** Pipeline version to run (default: the newest version of the pipeline). */
  readonly versionId?: string;
  readonly parameters?: Readonly<Record<string, ParameterValue>>;
  /** KFP experiment (default: the notebook's experiment, else the pipeline name). */
  readonly experiment?: string;
  /** Runs of the schedule at once, 1-10 (default 1). */
  readonly maxConcurrency?: number;
  /** Display name (default: pipeline name and trigger). */
  readonly name?: string;
  /** Kubernetes service account of the runs' pods (default KFP's). */
  readonly serviceAccount?: string;
  readonly notebookPath?: string;
}

/** A schedule as Cellflow shows it. */
export interface ScheduleSummary {
  readonly id: string;
  readonly name: string;
  readonly state: 'enabled' | 'paused';
  /** `cron 0 0 6 * * *` or `every 1h`. */
  readonly trigger: string;
  readonly pipelineId: string | null;
  readonly versionId: string | null;
  readonly experimentId: string | null;
  readonly maxConcurrency: number;
  readonly parameters: Record<string, unknown>;
  readonly createdAt: string | null;
  readonly uiUrl: string;
}

/** What a backend that deploys to Kubeflow Pipelines offers besides runs (`KubeflowBackend`). */
export interface PipelineDeployer {
  upload(pipeline: CompiledPipeline, opts?: UploadOptions): Promise<PipelineUpload>;
  schedule(pipeline: CompiledPipeline, opts: ScheduleOptions): Promise<ScheduleSummary>;
  listSchedules(pipelineName?: string): Promise<ScheduleSummary[]>;
  setScheduleEnabled(id: string, enabled: boolean): Promise<ScheduleSummary>;
  deleteSchedule(id: string): Promise<void>;
}

export function isPipelineDeployer(backend: object): backend is PipelineDeployer {
  const b = backend as Partial<PipelineDeployer>;
  return typeof b.upload === 'function' && typeof b.schedule === 'function';
}
