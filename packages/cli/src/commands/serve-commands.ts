/**
 * Serving from the command line: `serve` (a run's model on loopback, until Ctrl-C), `endpoints`
 * (the ones serving now), `predict` (send a request, show the answer and the latency).
 * A serving `cellflow serve` registers itself in `.cellflow/endpoints/` while it runs.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { compile, hasErrors, type ModelFormatName } from '@cellflow/core';
import { LocalBackend, type ModelRef } from '@cellflow/backend';
import type { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { CliError, fileNameOf, formatDiagnostic, readNotebookFile } from '../notebook-file.js';
import {
  asCliError,
  connectCluster,
  withClusterFlags,
  type ClusterFlags,
} from './cluster-commands.js';

interface EndpointFile {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  readonly model: ModelRef;
}

const endpointsDir = (workspace: string): string =>
  join(resolve(workspace), '.cellflow', 'endpoints');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function registeredEndpoints(workspace: string): Promise<EndpointFile[]> {
  const dir = endpointsDir(workspace);
  const files = await readdir(dir).catch(() => [] as string[]);
  const out: EndpointFile[] = [];
  for (const f of files.filter((f) => f.endsWith('.json'))) {
    const entry = JSON.parse(await readFile(join(dir, f), 'utf8')) as EndpointFile;
    if (alive(entry.pid)) out.push(entry);
    else await rm(join(dir, f), { force: true });
  }
  return out;
}

/** Which model a notebook serves, and the newest successful run that saved it. */
async function modelOfNotebook(
  backend: LocalBackend,
  notebook: string,
  ctx: CliContext,
): Promise<ModelRef> {
  const result = compile(await readNotebookFile(notebook), { fileName: fileNameOf(notebook) });
  for (const d of result.diagnostics)
    if (d.severity === 'error') ctx.err(formatDiagnostic(notebook, d));
  if (hasErrors(result.diagnostics) || result.graph === undefined)
    throw new CliError(`${notebook}: fix the errors above first.`, 1);
  const step = result.graph.steps.find((s) => s.serve.length > 0);
  if (step === undefined) {
    throw new CliError(
      `${notebook} marks no model to serve. Fix: tag the step that trains it \`serve:VARIABLE\`, then \`cellflow run\` it.`,
      1,
    );
  }
  const runs = await backend.listRuns({ pipeline: result.graph.pipeline.name });
  const run = runs.find(
    (r) =>
      r.state === 'succeeded' &&
      r.steps.some(
        (s) => s.name === step.name && (s.state === 'succeeded' || s.state === 'cached'),
      ),
  );
  if (run === undefined)
    throw new CliError(
      `No successful run of ${result.graph.pipeline.name} yet. Fix: \`cellflow run ${notebook}\` first.`,
      1,
    );
  return { runId: run.id, step: step.name, variable: step.serve[0]! };
}

export function registerServeCommands(program: Command, ctx: CliContext): void {
  withClusterFlags(
    program
      .command('serve')
      .description(
        "Serve a run's model: on this machine until Ctrl-C (KServe V1 and V2 protocols), or with --cluster as a KServe InferenceService.",
      )
      .argument(
        '<run-or-notebook>',
        'a run id, or a notebook whose newest successful run is served',
      )
      .option('--step <name>', 'the step that saved the model (with a run id)')
      .option('--variable <name>', 'the model variable (with a run id)')
      .option('--name <name>', 'endpoint name')
      .option('--port <n>', 'loopback port (default: a free one)', (v: string) => Number(v))
      .option(
        '--cluster',
        "serve a cluster run's model with KServe (run id, --step and --variable)",
      )
      .option(
        '--format <name>',
        'KServe model format when the saved type does not tell (sklearn, xgboost, pytorch, ...)',
      )
      .option('--workspace <dir>', 'folder whose .cellflow/ keeps run history (default: .)', '.'),
  ).action(
    async (
      target: string,
      opts: ClusterFlags & {
        cluster?: boolean;
        wait?: boolean;
        format?: string;
        step?: string;
        variable?: string;
        name?: string;
        port?: number;
        workspace: string;
      },
    ) => {
      if (opts.cluster === true) {
        if (opts.step === undefined || opts.variable === undefined) {
          throw new CliError('With --cluster, give the run id, --step and --variable.', 2);
        }
        const cluster = await connectCluster(opts);
        try {
          const ref = await cluster.serve(
            { runId: target, step: opts.step, variable: opts.variable },
            {
              ...(opts.name !== undefined ? { name: opts.name } : {}),
              ...(opts.format !== undefined ? { format: opts.format as ModelFormatName } : {}),
            },
          );
          ctx.out(
            `Created InferenceService ${ref.name} in ${cluster.describe()}. Readiness: \`cellflow endpoints --cluster\`.`,
          );
          if (opts.wait === true) {
            let last = '';
            for (let i = 0; i < 600; i++) {
              const e = (await cluster.listEndpoints()).find((x) => x.name === ref.name);
              const now = `${e?.state ?? 'missing'}${e?.message !== undefined ? `: ${e.message}` : ''}`;
              if (now !== last)
                ctx.out(`${ref.name}: ${now}${e?.state === 'ready' ? ` at ${e.url}` : ''}`);
              last = now;
              if (e === undefined || e.state === 'ready' || e.state === 'failed') {
                if (e?.state !== 'ready') ctx.exitCode = 1;
                break;
              }
              await new Promise((r) => setTimeout(r, 1000));
            }
          }
        } catch (error) {
          throw asCliError(error);
        }
        return;
      }
      const backend = new LocalBackend({ workspace: opts.workspace });
      let model: ModelRef;
      if (target.endsWith('.ipynb')) model = await modelOfNotebook(backend, target, ctx);
      else if (opts.step === undefined || opts.variable === undefined)
        throw new CliError(
          'With a run id, give --step and --variable (or pass the notebook instead).',
          2,
        );
      else model = { runId: target, step: opts.step, variable: opts.variable };
      let ref;
      try {
        ref = await backend.serve(model, {
          ...(opts.name !== undefined ? { name: opts.name } : {}),
          ...(opts.port !== undefined ? { port: opts.port } : {}),
        });
      } catch (error) {
        throw asCliError(error);
      }
      const endpoint = (await backend.listEndpoints()).find((e) => e.name === ref.name)!;
      const registry = join(endpointsDir(opts.workspace), `${ref.name}.json`);
      await mkdir(endpointsDir(opts.workspace), { recursive: true });
      await writeFile(
        registry,
        JSON.stringify({ name: ref.name, url: endpoint.url, pid: process.pid, model }),
      );
      ctx.out(
        `Serving ${model.variable} from run ${model.runId} (step ${model.step}) as ${ref.name}:`,
      );
      ctx.out(
        `  V1: POST ${endpoint.url}/v1/models/${ref.name}:predict   {"instances": [[...], ...]}`,
      );
      ctx.out(`  V2: POST ${endpoint.url}/v2/models/${ref.name}/infer`);
      ctx.out(`Try it: cellflow predict ${ref.name}    (Ctrl-C stops serving)`);
      await new Promise<void>((resolveStop) => {
        const stop = (): void => resolveStop();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await rm(registry, { force: true });
      await backend.dispose();
      ctx.out(`Stopped ${ref.name}.`);
    },
  );

  withClusterFlags(
    program
      .command('endpoints')
      .description(
        'Models being served: on this machine, or with --cluster the KServe InferenceServices with their state.',
      )
      .option('--cluster', "list the cluster's InferenceServices")
      .option('--delete <name>', 'with --cluster: delete this InferenceService')
      .option('--json', 'print as JSON')
      .option('--workspace <dir>', 'folder whose .cellflow/ keeps run history (default: .)', '.'),
  ).action(
    async (
      opts: ClusterFlags & {
        cluster?: boolean;
        delete?: string;
        json?: boolean;
        workspace: string;
      },
    ) => {
      if (opts.cluster === true) {
        const cluster = await connectCluster(opts);
        try {
          if (opts.delete !== undefined) {
            await cluster.deleteEndpoint({ name: opts.delete });
            ctx.out(`Deleted ${opts.delete}.`);
            return;
          }
          const list = await cluster.listEndpoints();
          if (opts.json === true) ctx.out(JSON.stringify(list, null, 2));
          else if (list.length === 0) ctx.out('No Cellflow InferenceServices in this namespace.');
          else
            for (const e of list)
              ctx.out(
                `${e.name}  ${e.state}  ${e.url || '(no URL yet)'}  ${e.model.variable} from run ${e.model.runId}${e.message !== undefined ? `  — ${e.message}` : ''}`,
              );
        } catch (error) {
          throw asCliError(error);
        }
        return;
      }
      const endpoints = await registeredEndpoints(opts.workspace);
      if (opts.json === true) ctx.out(JSON.stringify(endpoints, null, 2));
      else if (endpoints.length === 0)
        ctx.out('Nothing is being served. Start with `cellflow serve NOTEBOOK.ipynb`.');
      else
        for (const e of endpoints)
          ctx.out(
            `${e.name}  ${e.url}  ${e.model.variable} from run ${e.model.runId} (step ${e.model.step})`,
          );
    },
  );

  program
    .command('predict')
    .description('Send a prediction request to an endpoint; show the answer and the latency.')
    .argument('<endpoint>', 'an endpoint name (see `cellflow endpoints`) or its base URL')
    .option(
      '--data <file>',
      'JSON request body (default: an example row of zeros shaped like the model input)',
    )
    .option('--model <name>', 'model name, with a URL')
    .option('--v2', 'use the Open Inference Protocol V2 instead of V1')
    .option('--workspace <dir>', 'folder whose .cellflow/ keeps run history (default: .)', '.')
    .action(
      async (
        endpoint: string,
        opts: { data?: string; model?: string; v2?: boolean; workspace: string },
      ) => {
        const known = (await registeredEndpoints(opts.workspace)).find((e) => e.name === endpoint);
        const base = known?.url ?? endpoint.replace(/\/+$/, '');
        const name = opts.model ?? known?.name;
        if (!/^https?:\/\//.test(base) || name === undefined) {
          throw new CliError(
            `\`${endpoint}\` is neither a serving endpoint here nor a URL with --model. See \`cellflow endpoints\`.`,
            2,
          );
        }
        let body: string;
        if (opts.data !== undefined) body = await readFile(opts.data, 'utf8');
        else {
          const meta = (await (await fetch(`${base}/v2/models/${name}`)).json()) as {
            inputs?: { shape?: number[] }[];
          };
          const width = meta.inputs?.[0]?.shape?.[1] ?? 1;
          const row = Array.from({ length: width > 0 ? width : 1 }, () => 0);
          body =
            opts.v2 === true
              ? JSON.stringify({
                  inputs: [
                    { name: 'input-0', shape: [1, row.length], datatype: 'FP64', data: row },
                  ],
                })
              : JSON.stringify({ instances: [row] });
          ctx.err(`(no --data: sending an example of 1 row × ${row.length} zeros)`);
        }
        const url =
          opts.v2 === true
            ? `${base}/v2/models/${name}/infer`
            : `${base}/v1/models/${name}:predict`;
        const t0 = performance.now();
        let res: Response;
        try {
          res = await fetch(url, {
            method: 'POST',
            body,
            headers: { 'content-type': 'application/json' },
          });
        } catch (error) {
          throw new CliError(
            `Cannot reach ${url}: ${error instanceof Error ? error.message : String(error)}`,
            1,
          );
        }
        const text = await res.text();
        const ms = performance.now() - t0;
        ctx.out(text);
        ctx.err(`HTTP ${res.status} in ${ms.toFixed(1)} ms`);
        if (!res.ok) ctx.exitCode = 1;
      },
    );
}
