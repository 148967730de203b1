/**
 * Production deploys on Kubeflow Pipelines: `upload` (the notebook's pipeline as a new version of
 * the KFP pipeline of its name) and `schedule create|list|pause|resume|delete` (recurring runs of a
 * version), over `KubeflowBackend`, with the same connection flags as `submit`.
 */
import {
  parseParameterAssignments,
  parseScheduleInterval,
  type ScheduleSummary,
} from '@cellflow/backend';
import type { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { CliError } from '../notebook-file.js';
import {
  asCliError,
  compileForCluster,
  connectCluster,
  withClusterFlags,
  type ClusterFlags,
} from './cluster-commands.js';

function printSchedules(schedules: readonly ScheduleSummary[], ctx: CliContext): void {
  if (schedules.length === 0) {
    ctx.out('No schedules.');
    return;
  }
  for (const s of schedules)
    ctx.out(
      `${s.id}  ${s.state.padEnd(7)}  ${s.trigger.padEnd(22)}  ${s.name}  (version ${s.versionId ?? 'latest'}, at most ${s.maxConcurrency} at once)`,
    );
}

export function registerDeployCommands(program: Command, ctx: CliContext): void {
  withClusterFlags(
    program
      .command('upload')
      .description(
        "Upload a notebook's pipeline to Kubeflow Pipelines as a new version of the pipeline of its name (created on first upload).",
      )
      .argument('<notebook>', 'the .ipynb file')
      .option('--image <ref>', 'default image for steps without `image:`')
      .option(
        '--version-name <name>',
        'name of the new version (default: pipeline, time, content hash)',
      )
      .option('--json', 'print the upload as JSON'),
  ).action(
    async (
      notebook: string,
      opts: ClusterFlags & { image?: string; versionName?: string; json?: boolean },
    ) => {
      const backend = await connectCluster(opts);
      const pipeline = await compileForCluster(notebook, opts.image, 'uploaded', ctx, backend);
      let upload;
      try {
        upload = await backend.upload(pipeline, {
          notebookPath: notebook,
          ...(opts.versionName !== undefined ? { versionName: opts.versionName } : {}),
        });
      } catch (error) {
        throw asCliError(error);
      }
      if (opts.json === true) {
        ctx.out(JSON.stringify(upload, null, 2));
        return;
      }
      ctx.out(
        `Uploaded ${upload.pipelineName} as version ${upload.versionName} (${upload.pipelineCreated ? 'new pipeline' : 'existing pipeline'}) to ${backend.describe()}.`,
      );
      ctx.out(`  pipeline id  ${upload.pipelineId}`);
      ctx.out(`  version id   ${upload.versionId}`);
      ctx.out(`  KFP UI       ${upload.uiUrl}`);
      ctx.out(
        `Schedule it with \`cellflow schedule create ${notebook} --cron "0 6 * * *"\` (or --interval 1h).`,
      );
    },
  );

  const schedule = program
    .command('schedule')
    .description(
      'Recurring runs of an uploaded pipeline version on Kubeflow Pipelines: create, list, pause, resume, delete.',
    );

  withClusterFlags(
    schedule
      .command('create')
      .description(
        "Run an uploaded version of the notebook's pipeline on a cron schedule or at an interval (default: its newest version).",
      )
      .argument('<notebook>', 'the .ipynb file (its pipeline name and parameters)')
      .option(
        '--cron <expr>',
        'cron: "minute hour day month weekday" (or KFP\'s six fields, seconds first)',
      )
      .option('--interval <duration>', 'every so long: seconds, or 90s, 15m, 1h30m, 1d')
      .option(
        '--pipeline-version <id>',
        'pipeline version id (default: the newest uploaded version)',
      )
      .option(
        '-p, --param <NAME=VALUE>',
        'set a pipeline parameter (repeat for more)',
        (v: string, prev: string[]) => [...prev, v],
        [],
      )
      .option(
        '--experiment <name>',
        "KFP experiment (default: the notebook's, else the pipeline name)",
      )
      .option('--max-concurrency <n>', 'runs of this schedule at once, 1-10', '1')
      .option('--name <name>', 'display name (default: pipeline name and trigger)')
      .option('--json', 'print the schedule as JSON'),
  ).action(
    async (
      notebook: string,
      opts: ClusterFlags & {
        cron?: string;
        interval?: string;
        pipelineVersion?: string;
        param: string[];
        experiment?: string;
        maxConcurrency: string;
        name?: string;
        json?: boolean;
      },
    ) => {
      if ((opts.cron === undefined) === (opts.interval === undefined))
        throw new CliError('Give exactly one of --cron "0 6 * * *" and --interval 1h.', 2);
      const backend = await connectCluster(opts);
      const pipeline = await compileForCluster(notebook, undefined, 'scheduled', ctx, backend);
      let made;
      try {
        const parameters = parseParameterAssignments(pipeline.graph, opts.param);
        const intervalSeconds =
          opts.interval !== undefined ? parseScheduleInterval(opts.interval) : undefined;
        const maxConcurrency = Number(opts.maxConcurrency);
        made = await backend.schedule(pipeline, {
          parameters,
          maxConcurrency,
          notebookPath: notebook,
          ...(opts.cron !== undefined ? { cron: opts.cron } : {}),
          ...(intervalSeconds !== undefined ? { intervalSeconds } : {}),
          ...(opts.pipelineVersion !== undefined ? { versionId: opts.pipelineVersion } : {}),
          ...(opts.experiment !== undefined ? { experiment: opts.experiment } : {}),
          ...(opts.name !== undefined ? { name: opts.name } : {}),
        });
      } catch (error) {
        throw asCliError(error);
      }
      if (opts.json === true) {
        ctx.out(JSON.stringify(made, null, 2));
        return;
      }
      ctx.out(`Scheduled ${made.name}: ${made.trigger}, version ${made.versionId ?? 'latest'}.`);
      ctx.out(`  schedule id  ${made.id}`);
      ctx.out(`  KFP UI       ${made.uiUrl}`);
      ctx.out(
        `Pause it with \`cellflow schedule pause ${made.id}\`; its runs appear in \`cellflow runs --cluster\`.`,
      );
    },
  );

  withClusterFlags(
    schedule
      .command('list')
      .description("Schedules on the cluster, newest first (with a notebook: its pipeline's only).")
      .argument('[notebook]', "only the schedules of this notebook's pipeline")
      .option('--json', 'print the schedules as JSON'),
  ).action(async (notebook: string | undefined, opts: ClusterFlags & { json?: boolean }) => {
    const pipelineName =
      notebook !== undefined
        ? (await compileForCluster(notebook, undefined, 'read', ctx)).graph.pipeline.name
        : undefined;
    const backend = await connectCluster(opts);
    let schedules;
    try {
      schedules = await backend.listSchedules(pipelineName);
    } catch (error) {
      throw asCliError(error);
    }
    if (opts.json === true) ctx.out(JSON.stringify(schedules, null, 2));
    else printSchedules(schedules, ctx);
  });

  for (const [verb, enabled] of [
    ['pause', false],
    ['resume', true],
  ] as const) {
    withClusterFlags(
      schedule
        .command(verb)
        .description(
          enabled
            ? 'Resume a paused schedule: it starts runs again.'
            : 'Pause a schedule: no new runs until it is resumed.',
        )
        .argument('<schedule-id>'),
    ).action(async (id: string, opts: ClusterFlags) => {
      const backend = await connectCluster(opts);
      let summary;
      try {
        summary = await backend.setScheduleEnabled(id, enabled);
      } catch (error) {
        throw asCliError(error);
      }
      ctx.out(`Schedule ${id} (${summary.name}) is ${summary.state}.`);
    });
  }

  withClusterFlags(
    schedule
      .command('delete')
      .description('Delete a schedule (runs it already started are kept).')
      .argument('<schedule-id>'),
  ).action(async (id: string, opts: ClusterFlags) => {
    const backend = await connectCluster(opts);
    try {
      await backend.deleteSchedule(id);
    } catch (error) {
      throw asCliError(error);
    }
    ctx.out(`Deleted schedule ${id}.`);
  });
}
