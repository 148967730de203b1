/**
 * What both editors' Deploy offers and how they report it: run now, upload as a new version,
 * schedule. The editors ask in their own way (a quick pick, a dialog); the choices, their words
 * and the messages after each are the same.
 */
import type { PipelineUpload, ScheduleSummary } from '@cellflow/protocol';

export type DeployChoiceId = 'run' | 'upload' | 'schedule';

export interface DeployChoice {
  readonly id: DeployChoiceId;
  readonly label: string;
  readonly detail: string;
}

export const DEPLOY_CHOICES: readonly DeployChoice[] = [
  {
    id: 'run',
    label: 'Run now',
    detail: 'One run on the cluster, followed live in the Runs view',
  },
  {
    id: 'upload',
    label: 'Upload as a new version',
    detail:
      'The pipeline of this name in Kubeflow Pipelines gets a new version (created on first upload)',
  },
  {
    id: 'schedule',
    label: 'Schedule…',
    detail: 'Upload as a new version, then run it on a cron schedule or at an interval',
  },
];

/** The question for a schedule's trigger, and what it accepts. */
export const SCHEDULE_TRIGGER_PROMPT =
  'Cron ("0 6 * * *": minute hour day month weekday) or an interval ("1h", "15m", "1d", seconds)';

export function describeUpload(upload: PipelineUpload): string {
  return `Uploaded ${upload.pipelineName} as version ${upload.versionName}${upload.pipelineCreated ? ' (new pipeline)' : ''}.`;
}

export function describeSchedule(schedule: ScheduleSummary): string {
  return `Scheduled ${schedule.name} (${schedule.trigger}, ${schedule.state}); schedule id ${schedule.id}.`;
}
export * from './gpu-choices.js';
