/**
 * Cluster commands: `submit`, `status`, `logs`, `cancel`, `capacity`, over `KubeflowBackend`.
 * Every one takes the same connection flags (kubeconfig, context, namespace, KFP endpoint).
 * `status` and `logs` also read a local run when its id is under the workspace's `.cellflow/runs`.
 */
import {
  checkStepImagesForCluster,
  compile,
  describeGpuPool,
  hasErrors,
  type CompiledPipeline,
} from '@cellflow/core';
import {
  BackendError,
  isTerminalRunState,
  KubeflowBackend,
  LocalBackend,
  parseParameterAssignments,
  type Backend,
  type ClusterSettings,
  type KubeflowBackendOptions,
  type RunEvent,
  type RunSummary,
} from '@cellflow/backend';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { CliError, fileNameOf, formatDiagnostic, readNotebookFile } from '../notebook-file.js';
import { formatDuration, formatMetrics, formatStepOutputs } from '../run-format.js';

export interface ClusterFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  kfpEndpoint?: string;
  kfpNamespace?: string;
  kfpServiceAccount?: string;
}

/**
 * Compiles a notebook to go to a cluster: steps default to `image`, else (inside a Kubeflow
 * notebook server) the server's own image. Besides the compiler's diagnostics, names the steps
 * whose bare Python image lacks modules they import (warnings: the user may know better).
 */
export async function compileForCluster(
  notebook: string,
  image: string | undefined,
  doing: string,
  ctx: CliContext,
  backend?: KubeflowBackend,
): Promise<CompiledPipeline> {
  const defaultImage = image ?? (await backend?.notebookImage());
  const result = compile(await readNotebookFile(notebook), {
    fileName: fileNameOf(notebook),
    ...(defaultImage !== undefined ? { defaultImage } : {}),
  });
  const diagnostics =
    result.pipeline !== undefined
      ? [
          ...result.diagnostics,
          ...checkStepImagesForCluster(result.pipeline.graph, result.pipeline.code),
        ]
      : result.diagnostics;
  for (const d of diagnostics) ctx.err(formatDiagnostic(notebook, d));
  if (hasErrors(result.diagnostics) || result.pipeline === undefined)
    throw new CliError(`${notebook}: not ${doing}; fix the errors above.`, 1);
  return result.pipeline;
}

/** Adds the connection flags to a command. */
export function withClusterFlags(command: Command): Command {
  return command
    .option(
      '--kubeconfig <file>',
      'kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster)',
    )
    .option('--context <name>', 'kubeconfig context (default: the current one)')
    .option('-n, --namespace <ns>', "namespace for runs (default: the context's, else kubeflow)")
    .option('--kfp-endpoint <url>', 'Kubeflow Pipelines API URL (default: through the API server)')
    .option('--kfp-namespace <ns>', 'namespace of the ml-pipeline service (default: kubeflow)')
    .option(
      '--kfp-service-account <name>',
      'with --kfp-endpoint: use a token of this service account (audience pipelines.kubeflow.org)',
    );
}

/** The connection the cluster flags ask for. */
export function clusterOptionsOf(flags: ClusterFlags): KubeflowBackendOptions {
  return {
    ...(flags.kubeconfig !== undefined ? { kubeconfig: flags.kubeconfig } : {}),
    ...(flags.context !== undefined ? { context: flags.context } : {}),
    ...(flags.namespace !== undefined ? { namespace: flags.namespace } : {}),
    kfp: {
      ...(flags.kfpEndpoint !== undefined ? { endpoint: flags.kfpEndpoint } : {}),
      ...(flags.kfpNamespace !== undefined ? { serviceNamespace: flags.kfpNamespace } : {}),
      ...(flags.kfpServiceAccount !== undefined ? { serviceAccount: flags.kfpServiceAccount } : {}),
    },
  };
}

export async function connectCluster(
  flags: ClusterFlags,
  more: Omit<KubeflowBackendOptions, keyof ClusterSettings | 'kfp'> = {},
): Promise<KubeflowBackend> {
  try {
    return await KubeflowBackend.connect({ ...more, ...clusterOptionsOf(flags) });
  } catch (error) {
    throw asCliError(error);
  }
}

export function asCliError(error: unknown): unknown {
  return error instanceof BackendError
    ? new CliError(
        error.message,
        error.code === 'bad-parameter' || error.code === 'unknown-parameter' ? 2 : 1,
      )
    : error;
}

/** `train   succeeded in 1.2s`: a step's new state (a cached step has no time of its own). */
function describeStep(
  name: string,
  state: string,
  durationMs: number | null,
  failure: { message: string } | undefined,
): string {
  const took =
    durationMs !== null && state !== 'running' && state !== 'cached'
      ? ` in ${formatDuration(durationMs)}`
      : '';
  return `${name.padEnd(18)} ${state}${took}${failure !== undefined ? `: ${failure.message}` : ''}`;
}

/** `run succeeded in 4.1s`, or with the reason it did not. */
function describeRunEnd(state: string, durationMs: number | null, reason?: string): string {
  return `run ${state}${durationMs !== null ? ` in ${formatDuration(durationMs)}` : ''}${reason !== undefined ? `: ${reason}` : ''}`;
}

function describeEvent(event: RunEvent): string {
  return event.type === 'run'
    ? describeRunEnd(event.state, event.durationMs, event.reason)
    : describeStep(event.step, event.state, event.durationMs, event.failure);
}

/** Prints state changes until the run ends; exit code 1 unless it succeeded. */
async function follow(backend: Backend, runId: string, ctx: CliContext): Promise<void> {
  let last: RunEvent | undefined;
  try {
    for await (const event of backend.watch({ id: runId })) {
      ctx.out(`[${event.time.slice(11, 19)}] ${describeEvent(event)}`);
      if (event.type === 'run') last = event;
    }
  } catch (error) {
    throw asCliError(error);
  }
  if (last?.type !== 'run' || last.state !== 'succeeded') ctx.exitCode = 1;
}

function printSummary(run: RunSummary, ctx: CliContext): void {
  ctx.out(
    `Run ${run.id} (${run.pipeline}): ${run.state}${run.reason !== undefined ? ` — ${run.reason}` : ''}`,
  );
  for (const s of run.steps) {
    const metrics = formatMetrics(s.metrics ?? {});
    ctx.out(
      `  ${s.name.padEnd(18)} ${s.state.padEnd(10)} ${formatDuration(s.durationMs).padEnd(7)} ${metrics}`.trimEnd(),
    );
  }
  if (Object.keys(run.metrics).length > 0) ctx.out(`Metrics: ${formatMetrics(run.metrics)}`);
  const outputs = formatStepOutputs(run.steps);
  if (outputs.length > 0) ctx.out('Outputs:');
  for (const line of outputs) ctx.out(`  ${line}`);
}

/** The local backend when `runId` is a run under the workspace's `.cellflow/runs`. */
function localRunBackend(runId: string, workspace = '.'): LocalBackend | undefined {
  return /^[\w.-]+$/.test(runId) && existsSync(join(workspace, '.cellflow', 'runs', runId))
    ? new LocalBackend({ workspace })
    : undefined;
}

async function localSummary(local: LocalBackend, runId: string): Promise<RunSummary> {
  const found = (await local.listRuns()).find((r) => r.id === runId);
  if (found === undefined)
    throw new CliError(`Run ${runId} has no readable run.json under ${local.workspace}/.cellflow.`);
  return found;
}

/**
 * Follows a local run that another process is running, from its history on disk: a line per
 * step state change, until it ends.
 */
async function followLocal(local: LocalBackend, first: RunSummary, ctx: CliContext): Promise<void> {
  const seen = new Map<string, string>();
  let run = first;
  for (;;) {
    const time = new Date().toISOString().slice(11, 19);
    for (const s of run.steps) {
      if (seen.get(s.name) === s.state) continue;
      seen.set(s.name, s.state);
      ctx.out(`[${time}] ${describeStep(s.name, s.state, s.durationMs, s.failure)}`);
    }
    if (isTerminalRunState(run.state)) {
      ctx.out(`[${time}] ${describeRunEnd(run.state, run.durationMs, run.reason)}`);
      if (run.state !== 'succeeded') ctx.exitCode = 1;
      return;
    }
    await new Promise((r) => setTimeout(r, 500));
    run = await localSummary(local, run.id);
  }
}

export function registerClusterCommands(program: Command, ctx: CliContext): void {
  withClusterFlags(
    program
      .command('submit')
      .description(
        'Compile a notebook and run it on a Kubeflow cluster (GPU requests checked against the nodes first).',
      )
      .argument('<notebook>', 'the .ipynb file')
      .option(
        '-p, --param <NAME=VALUE>',
        'set a pipeline parameter (repeat for more)',
        (v: string, prev: string[]) => [...prev, v],
        [],
      )
      .option('--no-cache', 'ask KFP to re-run every step')
      .option('--name <run name>', 'display name of the run')
      .option('--image <ref>', 'default image for steps without `image:`')
      .option('-w, --watch', 'follow the run until it ends'),
  ).action(
    async (
      notebook: string,
      opts: ClusterFlags & {
        param: string[];
        cache: boolean;
        name?: string;
        image?: string;
        watch?: boolean;
      },
    ) => {
      const backend = await connectCluster(opts);
      const pipeline = await compileForCluster(notebook, opts.image, 'submitted', ctx, backend);
      let run;
      try {
        const parameters = parseParameterAssignments(pipeline.graph, opts.param);
        run = await backend.submit(pipeline, {
          parameters,
          cache: opts.cache,
          notebookPath: notebook,
          ...(opts.name !== undefined ? { runName: opts.name } : {}),
        });
      } catch (error) {
        throw asCliError(error);
      }
      ctx.out(`Submitted run ${run.id} to ${backend.describe()}.`);
      ctx.out(
        `Follow it with \`cellflow status ${run.id} --watch\`; step logs with \`cellflow logs ${run.id} STEP\`.`,
      );
      if (opts.watch === true) await follow(backend, run.id, ctx);
    },
  );

  withClusterFlags(
    program
      .command('status')
      .description(
        "A run's state and its steps' states (a cluster run, or a local one under --workspace); --watch follows it live.",
      )
      .argument('<run-id>')
      .option('-w, --watch', 'follow the run until it ends')
      .option('--json', 'print the run as JSON')
      .option('--workspace <dir>', 'folder whose .cellflow/ keeps local runs (default: .)'),
  ).action(
    async (
      runId: string,
      opts: ClusterFlags & { watch?: boolean; json?: boolean; workspace?: string },
    ) => {
      const local = localRunBackend(runId, opts.workspace);
      const backend = local ?? (await connectCluster(opts));
      let summary: RunSummary;
      try {
        summary =
          local !== undefined
            ? await localSummary(local, runId)
            : await backend.getRun({ id: runId });
      } catch (error) {
        throw asCliError(error);
      }
      if (opts.json === true) ctx.out(JSON.stringify(summary, null, 2));
      else if (opts.watch !== true) printSummary(summary, ctx);
      if (opts.watch === true) {
        if (local !== undefined) await followLocal(local, summary, ctx);
        else await follow(backend, runId, ctx);
      } else if (summary.state === 'failed') ctx.exitCode = 1;
    },
  );

  withClusterFlags(
    program
      .command('logs')
      .description(
        "A step's log: from its pod on the cluster, following while it runs, or a local run's log under --workspace.",
      )
      .argument('<run-id>')
      .argument('<step>')
      .option('--workspace <dir>', 'folder whose .cellflow/ keeps local runs (default: .)'),
  ).action(async (runId: string, step: string, opts: ClusterFlags & { workspace?: string }) => {
    const backend = localRunBackend(runId, opts.workspace) ?? (await connectCluster(opts));
    try {
      for await (const line of backend.logs({ id: runId }, step)) ctx.out(line);
    } catch (error) {
      throw asCliError(error);
    }
  });

  withClusterFlags(
    program.command('cancel').description('Cancel (terminate) a cluster run.').argument('<run-id>'),
  ).action(async (runId: string, opts: ClusterFlags) => {
    const backend = await connectCluster(opts);
    try {
      await backend.cancel({ id: runId });
    } catch (error) {
      throw asCliError(error);
    }
    ctx.out(`Cancelling run ${runId}.`);
  });

  withClusterFlags(
    program
      .command('capacity')
      .description('GPUs the cluster can give: per node and product, with what is free now.')
      .option('--json', 'print as JSON'),
  ).action(async (opts: ClusterFlags & { json?: boolean }) => {
    const backend = await connectCluster(opts);
    let capacity;
    try {
      capacity = await backend.capacity();
    } catch (error) {
      throw asCliError(error);
    }
    if (opts.json === true) {
      ctx.out(JSON.stringify(capacity, null, 2));
      return;
    }
    ctx.out(`${capacity.target}: ${capacity.cpus} CPUs allocatable`);
    if (capacity.pools.length === 0) ctx.out('No node offers GPUs.');
    for (const pool of capacity.pools) ctx.out(`  ${describeGpuPool(pool)}`);
  });
}
