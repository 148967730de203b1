/** Commands for serving: Serve Model…, and the Endpoints view's test, delete and refresh. */
import * as vscode from 'vscode';
import { formatMetricValue } from '@cellflow/core';
import type { Backend, Endpoint, ModelRef } from '@cellflow/backend';
import { CommandIds, type CommandKey } from '../command-ids.js';
import { resolveNotebook } from '../notebook/notebook-cells.js';
import { PipelineRunner } from '../runs/pipeline-runner.js';
import type { EndpointsViewItem } from '../views/endpoints-view.js';
import type { CommandContext, CommandFactory } from './command-context.js';
import { needsTrust } from './workspace-trust.js';

interface ServeOptions {
  readonly runId?: string;
  readonly step?: string;
  readonly variable?: string;
  readonly target?: 'local' | 'cluster';
  readonly name?: string;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function pickBackend(
  ctx: CommandContext,
  doc: vscode.NotebookDocument,
  given: ServeOptions['target'],
): Promise<{ backend: Backend; target: 'local' | 'cluster' } | undefined> {
  let target = given;
  if (target === undefined && ctx.cluster.configured) {
    const pick = await vscode.window.showQuickPick(
      [
        {
          label: '$(vm) This machine',
          description: 'a local model server',
          target: 'local' as const,
        },
        {
          label: '$(cloud) Cluster',
          description: 'a KServe InferenceService',
          target: 'cluster' as const,
        },
      ],
      { title: 'Cellflow: Serve Model — where' },
    );
    if (pick === undefined) return undefined;
    target = pick.target;
  }
  if (target === 'cluster') return { backend: await ctx.cluster.connect(), target };
  return {
    backend: await ctx.backends.local(PipelineRunner.workspaceOf(doc.uri)),
    target: 'local',
  };
}

/**
 * Serve Model…: a succeeded run of the notebook's pipeline and one of its `serve:` variables,
 * served locally or on the cluster. Resolves with the endpoint's name.
 */
const serveModel: CommandFactory = (ctx) => async (target, options) => {
  if (needsTrust('serving a model')) return undefined;
  const doc = resolveNotebook(target);
  if (doc === undefined) {
    void vscode.window.showWarningMessage('Cellflow: open the notebook whose model to serve.');
    return undefined;
  }
  const given = (options ?? {}) as ServeOptions;
  const graph = ctx.analysis.analyze(doc).graph;
  const models = (graph?.steps ?? []).flatMap((s) =>
    s.serve.map((variable) => ({ step: s.name, variable })),
  );
  if (graph === undefined || models.length === 0) {
    void vscode.window
      .showWarningMessage(
        'Cellflow: no step marks a model to serve. Fix: mark the variable that holds the trained model (a `serve:VARIABLE` tag on its step), then run the pipeline.',
        'Mark Model to Serve…',
      )
      .then((choice) => {
        if (choice !== undefined) void vscode.commands.executeCommand(CommandIds.setServe);
      });
    return undefined;
  }
  try {
    const chosen = await pickBackend(ctx, doc, given.target);
    if (chosen === undefined) return undefined;
    let runId = given.runId;
    if (runId === undefined) {
      const runs = (
        await chosen.backend.listRuns({ pipeline: graph.pipeline.name, limit: 20 })
      ).filter((r) => r.state === 'succeeded');
      if (runs.length === 0) {
        void vscode.window.showWarningMessage(
          `Cellflow: no succeeded run of ${graph.pipeline.name} on ${chosen.target === 'local' ? 'this machine' : 'the cluster'} yet. Run the pipeline first.`,
        );
        return undefined;
      }
      const pick = await vscode.window.showQuickPick(
        runs.map((r) => ({
          label: r.id,
          description: r.finishedAt ?? r.createdAt,
          detail: Object.entries(r.metrics)
            .map(([k, v]) => `${k} ${formatMetricValue(v)}`)
            .join(', '),
        })),
        { title: 'Cellflow: Serve Model — run' },
      );
      if (pick === undefined) return undefined;
      runId = pick.label;
    }
    let model = models.find((m) => m.step === given.step && m.variable === given.variable);
    if (model === undefined && models.length === 1) model = models[0];
    if (model === undefined) {
      const pick = await vscode.window.showQuickPick(
        models.map((m) => ({ label: m.variable, description: `step ${m.step}`, model: m })),
        { title: 'Cellflow: Serve Model — model' },
      );
      if (pick === undefined) return undefined;
      model = pick.model;
    }
    const ref: ModelRef = { runId, ...model };
    const endpoint = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `Cellflow: serving ${ref.variable} from run ${ref.runId}…`,
      },
      () => chosen.backend.serve(ref, given.name !== undefined ? { name: given.name } : {}),
    );
    ctx.endpointsView.refresh();
    void vscode.window
      .showInformationMessage(`Cellflow: serving ${endpoint.name}.`, 'Test Request')
      .then((choice) => {
        if (choice !== undefined)
          void vscode.commands.executeCommand('cellflow.testEndpoint', {
            name: endpoint.name,
            target: chosen.target,
          });
      });
    return endpoint.name;
  } catch (error) {
    void vscode.window.showErrorMessage(`Cellflow: ${messageOf(error)}`);
    return undefined;
  }
};

/** The endpoint a tree item or `{ name, target }` names, from the view's model. */
async function findEndpoint(
  ctx: CommandContext,
  arg: unknown,
): Promise<EndpointsViewItem | undefined> {
  const items = await ctx.endpointsView.model();
  const wanted = arg as { endpoint?: Endpoint; name?: string; target?: string } | undefined;
  const name = wanted?.endpoint?.name ?? wanted?.name;
  const target = wanted?.endpoint?.target ?? wanted?.target;
  if (name !== undefined)
    return items.find(
      (i) => i.endpoint.name === name && (target === undefined || i.endpoint.target === target),
    );
  if (items.length === 0) {
    void vscode.window.showInformationMessage(
      'Cellflow: nothing is being served. Use Serve Model… first.',
    );
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    items.map((i) => ({
      label: i.endpoint.name,
      description: `${i.endpoint.target} · ${i.endpoint.url}`,
      item: i,
    })),
    { title: 'Cellflow: endpoint' },
  );
  return pick?.item;
}

const testEndpoint: CommandFactory = (ctx) => async (arg) => {
  const found = await findEndpoint(ctx, arg);
  if (found === undefined) return undefined;
  return ctx.testers.show(found.endpoint);
};

const deleteEndpoint: CommandFactory = (ctx) => async (arg) => {
  if (needsTrust('deleting an endpoint')) return false;
  const found = await findEndpoint(ctx, arg);
  if (found === undefined) return false;
  if ((arg as { confirmed?: boolean } | undefined)?.confirmed !== true) {
    const ok = await vscode.window.showWarningMessage(
      `Stop serving ${found.endpoint.name} (${found.endpoint.target})?`,
      { modal: true },
      'Delete',
    );
    if (ok === undefined) return false;
  }
  try {
    await found.backend.deleteEndpoint({ name: found.endpoint.name });
  } catch (error) {
    void vscode.window.showErrorMessage(`Cellflow: ${messageOf(error)}`);
    return false;
  }
  ctx.endpointsView.refresh();
  return true;
};

const refreshEndpoints: CommandFactory = (ctx) => () => ctx.endpointsView.refresh();

export const endpointCommands = {
  serveModel,
  testEndpoint,
  deleteEndpoint,
  refreshEndpoints,
} satisfies Partial<Record<CommandKey, CommandFactory>>;
