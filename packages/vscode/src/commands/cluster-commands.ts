/**
 * Commands for clusters: deploy a notebook (run now, upload as a new version, or schedule), switch
 * context, open a run in the KFP UI, re-run.
 */
import * as vscode from 'vscode';
import type { CompiledPipeline, ParameterValue } from '@cellflow/core';
import type { KubeflowBackend, RunRef } from '@cellflow/backend';
import { describeSchedule, describeUpload, type DeployChoiceId } from '@cellflow/ui/deploy-choices';
import {
  confirmGpus,
  confirmImages,
  pickContext,
  pickDeployChoice,
  pickNamespace,
  pickParameters,
  pickScheduleTrigger,
} from '../cluster/deploy-choices.js';
import type { CommandKey } from '../command-ids.js';
import { findNotebook, resolveNotebook } from '../notebook/notebook-cells.js';
import type { TrackedRun } from '../runs/run-tracker.js';
import type { CommandContext, CommandFactory } from './command-context.js';
import { needsTrust } from './workspace-trust.js';

/** What tests (and other extensions) may pass to skip the questions. */
interface DeployOptions {
  readonly context?: string;
  readonly namespace?: string;
  readonly parameters?: Readonly<Record<string, ParameterValue>>;
  /** Run now (default when other options are given), upload as a new version, or schedule. */
  readonly mode?: DeployChoiceId;
  /** With `schedule`: a cron expression or an interval, as typed. */
  readonly trigger?: string;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The notification's button that lets the person choose a kubeconfig file. */
export const CHOOSE_KUBECONFIG = 'Choose Kubeconfig File…';

/**
 * True when a kubeconfig can be read. Otherwise says clearly that none was found and offers to
 * choose the file (written to the setting `cellflow.cluster.kubeconfig`); true once chosen.
 */
async function ensureKubeconfig(ctx: CommandContext): Promise<boolean> {
  if (await ctx.cluster.hasKubeconfig()) return true;
  const choice = await vscode.window.showErrorMessage(
    'Cellflow: no kubeconfig found. KUBECONFIG is not set (or names no existing file) and ~/.kube/config does not exist. Choose your kubeconfig file to connect to a cluster.',
    CHOOSE_KUBECONFIG,
  );
  if (choice !== CHOOSE_KUBECONFIG) return false;
  const files = await vscode.window.showOpenDialog({
    title: 'Cellflow: kubeconfig file',
    openLabel: 'Use this kubeconfig',
    canSelectFiles: true,
    canSelectFolders: false,
    canSelectMany: false,
  });
  const file = files?.[0];
  if (file === undefined) return false;
  await ctx.config.setKubeconfig(file.fsPath);
  ctx.cluster.reset();
  return true;
}

/**
 * Asks for context and namespace (unless given), connects (the API server must answer), and
 * remembers the choice; any failure is a notification, and nothing is remembered then.
 */
async function chooseCluster(
  ctx: CommandContext,
  given: DeployOptions,
  title = 'Cellflow: Deploy',
): Promise<KubeflowBackend | undefined> {
  let context = given.context;
  let namespace = given.namespace;
  try {
    if (context === undefined) {
      if (!(await ensureKubeconfig(ctx))) return undefined;
      const picked = await pickContext(
        await ctx.cluster.contexts(),
        ctx.config.clusterContext,
        title,
      );
      if (picked === undefined) return undefined;
      context = picked.name;
      namespace ??= await pickNamespace(
        (picked.name === ctx.config.clusterContext ? ctx.config.clusterNamespace : undefined) ??
          picked.namespace ??
          'kubeflow',
        title,
      );
      if (namespace === undefined) return undefined;
    }
    const backend = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `Cellflow: connecting to ${context}…`,
      },
      () => ctx.cluster.connect({ context, ...(namespace !== undefined ? { namespace } : {}) }),
    );
    await ctx.config.rememberCluster(backend.kube.contextName, backend.kube.namespace);
    return backend;
  } catch (error) {
    void vscode.window.showErrorMessage(`Cellflow: ${messageOf(error)}`);
    return undefined;
  }
}

/**
 * Deploy Pipeline to Cluster…: context and namespace, GPU requests against the cluster's capacity,
 * then how to deploy: run now (parameters, submit, follow), upload as a new version, or schedule
 * (trigger and parameters; uploads a new version and runs it on that schedule). Resolves with the
 * run id, the version id or the schedule id.
 */
const deployToCluster: CommandFactory = (ctx) => async (target, options) => {
  if (needsTrust('deploying a pipeline')) return undefined;
  const doc = resolveNotebook(target);
  if (doc === undefined) {
    void vscode.window.showWarningMessage('Cellflow: open a notebook to deploy.');
    return undefined;
  }
  const given = (options ?? {}) as DeployOptions;
  if ((await ctx.runner.compile(doc)) === undefined) return undefined;
  const backend = await chooseCluster(ctx, given);
  if (backend === undefined) return undefined;
  let pipeline = await ctx.runner.compile(doc);
  if (pipeline === undefined) return undefined;
  if (pipeline.graph.steps.some((s) => s.resources.gpu !== null)) {
    try {
      const capacity = await backend.capacity();
      for (;;) {
        const answer = await confirmGpus(doc, pipeline.graph, capacity.pools, capacity.target);
        if (answer === undefined) return undefined;
        if (answer === 'deploy') break;
        pipeline = await ctx.runner.compile(doc);
        if (pipeline === undefined) return undefined;
      }
    } catch (error) {
      void vscode.window.showErrorMessage(`Cellflow: ${messageOf(error)}`);
      return undefined;
    }
  }
  for (;;) {
    const answer = await confirmImages(doc, pipeline, await backend.notebookImage());
    if (answer === undefined) return undefined;
    if (answer === 'deploy') break;
    pipeline = await ctx.runner.compile(doc);
    if (pipeline === undefined) return undefined;
  }
  const mode =
    given.mode ??
    (given.context !== undefined ? 'run' : await pickDeployChoice(backend.describe()));
  if (mode === undefined) return undefined;
  if (mode === 'upload') return uploadVersion(ctx, backend, doc, pipeline);
  const { parseParameterText, parseScheduleTrigger } = await ctx.backends.load();
  let trigger: ReturnType<typeof parseScheduleTrigger> | undefined;
  if (mode === 'schedule') {
    const text = given.trigger ?? (await pickScheduleTrigger(parseScheduleTrigger));
    if (text === undefined) return undefined;
    trigger = parseScheduleTrigger(text);
  }
  const graph = pipeline.graph;
  const parameters =
    given.parameters ??
    (await pickParameters(graph, (name, text) => {
      const p = graph.parameters.find((q) => q.name === name);
      if (p === undefined) throw new Error(`Unknown parameter ${name}`);
      return parseParameterText(p, text);
    }));
  if (parameters === undefined) return undefined;
  if (trigger !== undefined) {
    const scheduled = pipeline;
    const made = await vscode.window
      .withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: `Cellflow: uploading and scheduling ${graph.pipeline.name}…`,
        },
        async () => {
          const upload = await backend.upload(scheduled, { notebookPath: doc.uri.fsPath });
          return backend.schedule(scheduled, {
            ...trigger,
            versionId: upload.versionId,
            parameters,
            notebookPath: doc.uri.fsPath,
          });
        },
      )
      .then(undefined, (error: unknown) => {
        void vscode.window.showErrorMessage(`Cellflow: ${messageOf(error)}`);
        return undefined;
      });
    if (made === undefined) return undefined;
    offerKfpUi(`Cellflow: ${describeSchedule(made)}`, made.uiUrl);
    return made.id;
  }
  const to = ctx.cluster.target(backend);
  const compiled = pipeline;
  const run = await vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: `Cellflow: submitting ${graph.pipeline.name} to ${to.label}…`,
    },
    () => ctx.runner.start(doc, compiled, to, { parameters }),
  );
  if (run === undefined) return undefined;
  followInStatusBar(ctx, run);
  void vscode.window
    .showInformationMessage(
      `Cellflow: submitted run ${run.ref.id} to ${to.label}.`,
      'Open in KFP UI',
    )
    .then((choice) => {
      const url = backend.target.runUrl(run.ref);
      if (choice !== undefined && url !== null) void vscode.env.openExternal(vscode.Uri.parse(url));
    });
  ctx.runsView.refresh();
  return run.ref.id;
};

/** Upload as a new version: the KFP pipeline of the notebook's pipeline name gets one. */
async function uploadVersion(
  ctx: CommandContext,
  backend: KubeflowBackend,
  doc: vscode.NotebookDocument,
  pipeline: CompiledPipeline,
): Promise<string | undefined> {
  try {
    const upload = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `Cellflow: uploading ${pipeline.graph.pipeline.name} to ${backend.describe()}…`,
      },
      () => backend.upload(pipeline, { notebookPath: doc.uri.fsPath }),
    );
    offerKfpUi(`Cellflow: ${describeUpload(upload)}`, upload.uiUrl);
    ctx.clusterView.refresh();
    return upload.versionId;
  } catch (error) {
    void vscode.window.showErrorMessage(`Cellflow: ${messageOf(error)}`);
    return undefined;
  }
}

function offerKfpUi(message: string, url: string): void {
  void vscode.window.showInformationMessage(message, 'Open in KFP UI').then((choice) => {
    if (choice !== undefined) void vscode.env.openExternal(vscode.Uri.parse(url));
  });
}

function followInStatusBar(ctx: CommandContext, run: TrackedRun): void {
  const finished = ctx.runner.whenFinished(run.ref.id);
  if (finished === undefined) return;
  void vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: `Cellflow: ${run.pipeline} on cluster` },
    async () => {
      await finished;
    },
  );
}

/**
 * Connect to a Cluster… (`switchClusterContext`): pick a context and namespace and connect; the
 * Cluster view follows. It only connects: deploying is Deploy Pipeline to Cluster….
 */
const switchClusterContext: CommandFactory = (ctx) => async (context, namespace) => {
  const given = {
    ...(typeof context === 'string' ? { context } : {}),
    ...(typeof namespace === 'string' ? { namespace } : {}),
  };
  const backend = await chooseCluster(ctx, given, 'Cellflow: Connect to a Cluster');
  if (backend === undefined) return undefined;
  ctx.clusterView.refresh();
  if (given.context === undefined)
    void vscode.window.showInformationMessage(`Cellflow: connected to ${backend.describe()}.`);
  return backend.kube.contextName;
};

/** The run a Runs view item, a run id or the newest tracked run names. */
function runArg(ctx: CommandContext, arg: unknown): { ref: RunRef; target?: string } | undefined {
  if (typeof arg === 'string') {
    const tracked = ctx.tracker.get(arg);
    return tracked !== undefined ? tracked : { ref: { id: arg } };
  }
  const item = arg as { run?: { ref?: RunRef; target?: string } } | undefined;
  if (item?.run?.ref !== undefined)
    return {
      ref: item.run.ref,
      ...(item.run.target !== undefined ? { target: item.run.target } : {}),
    };
  return ctx.tracker.runs()[0];
}

const openInKfpUi: CommandFactory = (ctx) => async (arg) => {
  const run = runArg(ctx, arg);
  // The run's own backend when this window started it, else the cluster its listing came from.
  const backend =
    (run !== undefined ? ctx.runner.backendFor(run.ref.id) : undefined) ?? ctx.cluster.current;
  const url = run !== undefined ? (backend?.target.runUrl(run.ref) ?? null) : null;
  if (url === null) {
    void vscode.window.showInformationMessage('Cellflow: no cluster run to open.');
    return undefined;
  }
  await vscode.env.openExternal(vscode.Uri.parse(url));
  return url;
};

/** Re-run: the same notebook, parameters and target as the run (a new run). */
const rerun: CommandFactory = (ctx) => async (arg) => {
  if (needsTrust('running a pipeline')) return undefined;
  const picked = runArg(ctx, arg);
  if (picked === undefined) return undefined;
  const summary = await ctx.runsView.summaryOf(picked.ref.id);
  const tracked = ctx.tracker.get(picked.ref.id);
  const notebookUri =
    tracked?.notebook ??
    (summary?.notebookPath != null ? vscode.Uri.file(summary.notebookPath).toString() : undefined);
  if (notebookUri === undefined) {
    void vscode.window.showWarningMessage(
      `Cellflow: run ${picked.ref.id} does not say which notebook it came from; open the notebook and run it.`,
    );
    return undefined;
  }
  const doc =
    findNotebook(notebookUri) ??
    (await vscode.workspace.openNotebookDocument(vscode.Uri.parse(notebookUri)));
  const parameters = summary?.parameters ?? {};
  const cluster =
    (tracked?.target ?? summary?.target) === 'cluster' ? ctx.cluster.current : undefined;
  const pipeline = await ctx.runner.compile(doc);
  if (pipeline === undefined) return undefined;
  const run =
    cluster !== undefined
      ? await ctx.runner.start(doc, pipeline, ctx.cluster.target(cluster), { parameters })
      : await ctx.runner.run(doc, { parameters });
  return run?.ref.id;
};

const refreshCluster: CommandFactory = (ctx) => () => ctx.clusterView.refresh();

export const clusterCommands = {
  deployToCluster,
  switchClusterContext,
  openInKfpUi,
  rerun,
  refreshCluster,
} satisfies Partial<Record<CommandKey, CommandFactory>>;
