import { LocalBackend, type Backend, type RunSummary } from '@cellflow/backend';
import { InvalidArgumentError, type Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import {
  asCliError,
  connectCluster,
  withClusterFlags,
  type ClusterFlags,
} from './cluster-commands.js';
import { formatDuration, formatMetrics } from '../run-format.js';

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError('expected a whole number of at least 1.');
  return n;
}

function describeSteps(run: RunSummary): string {
  const failed = run.steps.filter((s) => s.state === 'failed').map((s) => s.name);
  const count = (state: string): number => run.steps.filter((s) => s.state === state).length;
  const parts = [
    `${count('succeeded')} ran`,
    ...(count('cached') > 0 ? [`${count('cached')} cached`] : []),
    ...(failed.length > 0 ? [`failed: ${failed.join(', ')}`] : []),
    ...(count('cancelled') > 0 ? [`${count('cancelled')} cancelled`] : []),
  ];
  return parts.join(', ');
}

function localTime(iso: string): string {
  const d = new Date(iso);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Left-aligned columns, as wide as their widest cell. */
function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

export function registerRunsCommand(program: Command, ctx: CliContext): void {
  withClusterFlags(
    program
      .command('runs')
      .description(
        'List past and current runs, newest first: status, duration, metrics (local, or --cluster).',
      )
      .option('--cluster', "list the cluster's Kubeflow runs instead of local ones")
      .option('--json', 'print the runs as JSON (every step, parameter and metric)')
      .option('--pipeline <name>', 'only runs of this pipeline')
      .option('--limit <n>', 'at most this many runs', positiveInteger)
      .option('--workspace <dir>', 'folder whose .cellflow/ keeps run history (default: .)'),
  ).action(
    async (
      opts: ClusterFlags & {
        cluster?: boolean;
        json?: boolean;
        pipeline?: string;
        limit?: number;
        workspace?: string;
      },
    ) => {
      const local =
        opts.cluster === true
          ? undefined
          : new LocalBackend(opts.workspace !== undefined ? { workspace: opts.workspace } : {});
      const backend: Backend = local ?? (await connectCluster(opts));
      let runs: RunSummary[];
      try {
        runs = await backend.listRuns({
          ...(opts.pipeline !== undefined ? { pipeline: opts.pipeline } : {}),
          ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
        });
      } catch (error) {
        throw asCliError(error);
      }
      if (opts.json === true) {
        ctx.out(JSON.stringify(runs, null, 2));
        return;
      }
      if (runs.length === 0) {
        ctx.out(
          local !== undefined
            ? `No runs yet under ${local.workspace}/.cellflow/runs. Start one with \`cellflow run NOTEBOOK.ipynb\`.`
            : 'No runs on the cluster yet. Start one with `cellflow submit NOTEBOOK.ipynb`.',
        );
        return;
      }
      const rows = [['RUN', 'STATUS', 'STARTED', 'DURATION', 'STEPS', 'METRICS']];
      for (const r of runs) {
        rows.push([
          r.id,
          r.state,
          localTime(r.startedAt ?? r.createdAt),
          formatDuration(r.durationMs),
          describeSteps(r),
          formatMetrics(r.metrics),
        ]);
      }
      for (const line of table(rows)) ctx.out(line);
    },
  );
}
