/**
 * Production deploys on Kubeflow Pipelines: a notebook's pipeline uploaded as a KFP pipeline (one
 * per pipeline name, reused) with a new version per upload, and recurring runs (KFP's schedules:
 * cron or interval) of a version. Through the v2beta1 API: `pipelines`, `pipelines/upload_version`,
 * `pipelines/{id}/versions`, `recurringruns` (+ `:enable` / `:disable`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { buildPipelineYamlForGraph, type CompiledPipeline } from '@cellflow/core';
import {
  BackendError,
  type PipelineUpload,
  type ScheduleOptions,
  type ScheduleSummary,
  type UploadOptions,
} from '@cellflow/protocol';
import { resolveRunParameters } from '../parameters.js';
import type { KfpClient, KfpPipeline, KfpPipelineVersion, KfpRecurringRun } from './kfp-client.js';
import { urlForDisplay } from '../secret-redaction.js';

export {
  isPipelineDeployer,
  type PipelineDeployer,
  type PipelineUpload,
  type ScheduleOptions,
  type ScheduleSummary,
  type UploadOptions,
} from '@cellflow/protocol';

const SCHEDULE_KEY = 'cellflow-schedule:';

/**
 * The Kubeflow Pipelines UI: beside an explicit KFP endpoint, or through the API server's proxy to
 * the `ml-pipeline-ui` service.
 */
export function kfpUiBaseOf(kfp: KfpClient): string {
  // Shown to people and opened in browsers: never with the endpoint's user and password.
  const api = urlForDisplay(kfp.base.replace(/\/apis\/v2beta1$/, ''));
  return kfp.viaProxy
    ? api.replace(/\/services\/ml-pipeline:8888\/proxy$/, '/services/ml-pipeline-ui:80/proxy')
    : api;
}

/** `90`, `90s`, `15m`, `1h30m`, `1d` -> seconds. */
export function parseScheduleInterval(text: string): number {
  const trimmed = text.trim();
  const units: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };
  let seconds = 0;
  if (/^\d+$/.test(trimmed)) seconds = Number(trimmed);
  else if (/^(\d+[smhd])+$/.test(trimmed))
    for (const [, n, unit] of trimmed.matchAll(/(\d+)([smhd])/g))
      seconds += Number(n) * (units[unit ?? 's'] ?? 1);
  if (!(seconds > 0))
    throw new BackendError(
      'bad-parameter',
      `\`${text}\` is not an interval. Fix: write seconds or a duration such as 90s, 15m, 1h30m or 1d.`,
    );
  return seconds;
}

/**
 * KFP's cron: six fields, seconds first (`0 0 6 * * *`). Five standard fields get `0` seconds;
 * `@hourly`-style descriptors and `@every 1h` pass as they are.
 */
export function normalizeCron(text: string): string {
  const trimmed = text.trim().replace(/\s+/g, ' ');
  if (trimmed.startsWith('@')) return trimmed;
  const fields = trimmed.split(' ');
  const wellFormed = fields.every((f) => /^[\w*/,?#LW-]+$/.test(f));
  if (!wellFormed || (fields.length !== 5 && fields.length !== 6))
    throw new BackendError(
      'bad-parameter',
      `\`${text}\` is not a cron schedule. Fix: give five fields (minute hour day month weekday, e.g. "0 6 * * *") or KFP's six with seconds first.`,
    );
  return fields.length === 5 ? `0 ${trimmed}` : trimmed;
}

/** `every 1h30m` for 5400 seconds. */
export function describeInterval(seconds: number): string {
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return `every ${parts.join('')}`;
}

/** A trigger as a person types it: an interval (`1h`, `90s`, `3600`), else a cron expression. */
export function parseScheduleTrigger(text: string): { cron: string } | { intervalSeconds: number } {
  const trimmed = text.trim();
  return /^(\d+|(\d+[smhd])+)$/.test(trimmed)
    ? { intervalSeconds: parseScheduleInterval(trimmed) }
    : { cron: normalizeCron(trimmed) };
}

/** `digits-20261205-101502-3fa9c0d1`: the pipeline, when (UTC), and what (the IR's hash). */
export function versionNameFor(pipelineName: string, yaml: string, now = new Date()): string {
  const stamp = now.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
  const hash = createHash('sha256').update(yaml).digest('hex').slice(0, 8);
  return `${pipelineName}-${stamp}-${hash}`;
}

export class PipelineDeploys {
  constructor(
    private readonly kfp: KfpClient,
    /** Namespace of pipelines and schedules in multi-user KFP; undefined when single-user. */
    private readonly namespace: string | undefined,
  ) {
    this.uiBase = kfpUiBaseOf(kfp);
  }

  private readonly uiBase: string;

  async upload(pipeline: CompiledPipeline, opts: UploadOptions = {}): Promise<PipelineUpload> {
    const { graph } = pipeline;
    const name = graph.pipeline.name;
    const yaml = buildPipelineYamlForGraph(graph, pipeline.code);
    const from = opts.notebookPath !== undefined ? ` from ${opts.notebookPath}` : '';
    let created = false;
    let found = await this.kfp.findPipeline(name, this.namespace);
    if (found === undefined) {
      const description =
        graph.pipeline.description !== ''
          ? graph.pipeline.description
          : `Uploaded by Cellflow${from}`;
      try {
        found = await this.kfp.createPipeline(name, description, this.namespace);
        created = true;
      } catch (error) {
        // Another upload may have created it since we looked.
        found = await this.kfp.findPipeline(name, this.namespace);
        if (found === undefined) throw error;
      }
    }
    const pipelineId = found.pipeline_id;
    const versionName = await this.unusedVersionName(
      pipelineId,
      opts.versionName ?? versionNameFor(name, yaml),
    );
    let version: KfpPipelineVersion;
    try {
      version = await this.kfp.uploadPipelineVersion(
        pipelineId,
        versionName,
        `Uploaded by Cellflow${from} at ${new Date().toISOString()}.`,
        yaml,
      );
    } catch (error) {
      // A lost answer: the version may exist (names are unique within a pipeline).
      const [made] = await this.kfp
        .listPipelineVersions(pipelineId, { name: versionName, pageSize: 1 })
        .catch(() => []);
      if (made === undefined) throw error;
      version = made;
    }
    return {
      pipelineId,
      pipelineName: name,
      versionId: version.pipeline_version_id,
      versionName: version.name ?? versionName,
      pipelineCreated: created,
      uiUrl: `${this.uiBase}/#/pipelines/details/${encodeURIComponent(pipelineId)}/version/${encodeURIComponent(version.pipeline_version_id)}`,
    };
  }

  /**
   * `name`, or with `-2`, `-3`... when the pipeline has a version of that name already (the same
   * notebook uploaded twice within a second), so every upload makes a version.
   */
  private async unusedVersionName(pipelineId: string, name: string): Promise<string> {
    for (let n = 1; ; n++) {
      const candidate = n === 1 ? name : `${name}-${n}`;
      const taken = await this.kfp.listPipelineVersions(pipelineId, {
        name: candidate,
        pageSize: 1,
      });
      if (taken.length === 0) return candidate;
    }
  }

  /** The pipeline uploaded under this notebook's pipeline name, or a refusal saying how to make it. */
  private async uploadedPipeline(pipelineName: string): Promise<KfpPipeline> {
    const found = await this.kfp.findPipeline(pipelineName, this.namespace);
    if (found === undefined)
      throw new BackendError(
        'not-found',
        `No pipeline named "${pipelineName}" is uploaded to Kubeflow Pipelines. Fix: upload it first with \`cellflow upload NOTEBOOK\` (or the editor's Deploy > Upload as a New Version).`,
      );
    return found;
  }

  async versions(pipelineName: string): Promise<KfpPipelineVersion[]> {
    const pipeline = await this.uploadedPipeline(pipelineName);
    return this.kfp.listPipelineVersions(pipeline.pipeline_id, { pageSize: 50 });
  }

  async createSchedule(
    pipeline: CompiledPipeline,
    opts: ScheduleOptions,
  ): Promise<ScheduleSummary> {
    const { graph } = pipeline;
    if ((opts.cron === undefined) === (opts.intervalSeconds === undefined))
      throw new BackendError(
        'bad-parameter',
        'A schedule needs exactly one of a cron expression and an interval. Fix: pass --cron "0 6 * * *" or --interval 1h.',
      );
    const maxConcurrency = opts.maxConcurrency ?? 1;
    if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1 || maxConcurrency > 10)
      throw new BackendError(
        'bad-parameter',
        `Max concurrency ${maxConcurrency} is out of KFP's range. Fix: give a whole number from 1 to 10.`,
      );
    const parameters = resolveRunParameters(graph, opts.parameters);
    const kfpPipeline = await this.uploadedPipeline(graph.pipeline.name);
    let versionId = opts.versionId;
    if (versionId === undefined) {
      // A page, not one: versions uploaded within the same second tie on KFP's created_at, and
      // the listing orders those by their upload instant.
      const [latest] = await this.kfp.listPipelineVersions(kfpPipeline.pipeline_id, {
        pageSize: 20,
      });
      if (latest === undefined)
        throw new BackendError(
          'not-found',
          `Pipeline "${graph.pipeline.name}" has no version. Fix: upload one with \`cellflow upload NOTEBOOK\`.`,
        );
      versionId = latest.pipeline_version_id;
    }
    const experimentName = opts.experiment ?? graph.pipeline.experiment ?? graph.pipeline.name;
    const experiment =
      (await this.kfp.findExperiment(experimentName, this.namespace)) ??
      (await this.kfp.createExperiment(experimentName, this.namespace));
    const trigger =
      opts.cron !== undefined
        ? { cron_schedule: { cron: normalizeCron(opts.cron) } }
        : { periodic_schedule: { interval_second: String(opts.intervalSeconds) } };
    const key = randomBytes(8).toString('hex');
    const from = opts.notebookPath !== undefined ? ` from ${opts.notebookPath}` : '';
    const body = {
      display_name: opts.name ?? `${graph.pipeline.name} ${describeTrigger(trigger)}`,
      description: `Scheduled by Cellflow${from}. ${SCHEDULE_KEY}${key}`,
      pipeline_version_reference: {
        pipeline_id: kfpPipeline.pipeline_id,
        pipeline_version_id: versionId,
      },
      runtime_config: { parameters },
      max_concurrency: String(maxConcurrency),
      trigger,
      mode: 'ENABLE',
      no_catchup: true,
      experiment_id: experiment.experiment_id,
      ...(opts.serviceAccount !== undefined ? { service_account: opts.serviceAccount } : {}),
    };
    let made: KfpRecurringRun | undefined;
    try {
      made = await this.kfp.createRecurringRun(body);
    } catch (error) {
      // A lost answer may still have made it: look for this request's key before failing.
      made = (
        await this.kfp.listRecurringRuns({ experimentId: experiment.experiment_id }).catch(() => [])
      ).find((r) => r.description?.includes(`${SCHEDULE_KEY}${key}`) === true);
      if (made === undefined) throw error;
    }
    return this.summaryOf(made);
  }

  /** Schedules in the namespace (or all, single-user), newest first; with `pipelineName`, only that pipeline's. */
  async listSchedules(pipelineName?: string): Promise<ScheduleSummary[]> {
    let pipelineId: string | undefined;
    if (pipelineName !== undefined) {
      const found = await this.kfp.findPipeline(pipelineName, this.namespace);
      if (found === undefined) return [];
      pipelineId = found.pipeline_id;
    }
    const all = await this.kfp.listRecurringRuns({
      ...(this.namespace !== undefined ? { namespace: this.namespace } : {}),
    });
    return all
      .filter(
        (r) => pipelineId === undefined || r.pipeline_version_reference?.pipeline_id === pipelineId,
      )
      .map((r) => this.summaryOf(r));
  }

  async setScheduleEnabled(id: string, enabled: boolean): Promise<ScheduleSummary> {
    await this.kfp.setRecurringRunEnabled(id, enabled);
    return this.summaryOf(await this.kfp.getRecurringRun(id));
  }

  deleteSchedule(id: string): Promise<void> {
    return this.kfp.deleteRecurringRun(id);
  }

  private summaryOf(r: KfpRecurringRun): ScheduleSummary {
    return {
      id: r.recurring_run_id,
      name: r.display_name,
      state: r.status === 'DISABLED' ? 'paused' : 'enabled',
      trigger: describeTrigger(r.trigger ?? {}),
      pipelineId: r.pipeline_version_reference?.pipeline_id ?? null,
      versionId: r.pipeline_version_reference?.pipeline_version_id ?? null,
      experimentId: r.experiment_id ?? null,
      maxConcurrency: Number(r.max_concurrency ?? '1'),
      parameters: r.runtime_config?.parameters ?? {},
      createdAt: r.created_at ?? null,
      uiUrl: `${this.uiBase}/#/recurringrun/details/${encodeURIComponent(r.recurring_run_id)}`,
    };
  }
}

function describeTrigger(trigger: KfpRecurringRun['trigger'] & object): string {
  const cron = trigger.cron_schedule?.cron;
  if (cron !== undefined) return `cron ${cron}`;
  const seconds = Number(trigger.periodic_schedule?.interval_second ?? 0);
  return seconds > 0 ? describeInterval(seconds) : 'no trigger';
}
