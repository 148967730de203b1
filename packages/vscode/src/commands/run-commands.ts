/** Commands that run, cancel, inspect and compile pipelines. */
import * as vscode from 'vscode';
import { compile } from '@cellflow/core';
import type { Backend, RunRef } from '@cellflow/backend';
import { hasExecutedNotebooks } from '@cellflow/protocol';
import { PipelineRunner } from '../runs/pipeline-runner.js';
import type { CommandKey } from '../command-ids.js';
import {
  resolveNotebook,
  revealCell,
  toCoreNotebook,
  type CellRef,
} from '../notebook/notebook-cells.js';
import type { CommandContext, CommandFactory } from './command-context.js';
import { needsTrust } from './workspace-trust.js';
import { runDetailsOfSummary, runDetailsOfTracked } from '../views/run-details-panel.js';

/** Starts a run; resolves with its id once submitted (tests then wait with `whenFinished`). */
const runLocally: CommandFactory = (ctx) => async (target) => {
  if (needsTrust('running a pipeline')) return undefined;
  const doc = resolveNotebook(target);
  if (doc === undefined) {
    void vscode.window.showWarningMessage('Cellflow: open a notebook to run.');
    return undefined;
  }
  const run = await ctx.runner.run(doc);
  if (run === undefined) return undefined;
  const finished = ctx.runner.whenFinished(run.ref.id);
  void vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: `Cellflow: ${run.pipeline}` },
    async () => {
      await finished;
    },
  );
  return run.ref.id;
};

const cancelRun: CommandFactory = (ctx) => async (arg) => {
  const item = arg as { run?: { ref?: RunRef; target?: string } } | undefined;
  const given = typeof arg === 'string' ? arg : item?.run?.ref?.id;
  const active = ctx.tracker.active();
  const runId =
    given ??
    (active.length === 1
      ? active[0]?.ref.id
      : (
          await vscode.window.showQuickPick(
            active.map((r) => ({ label: r.ref.id, description: r.pipeline })),
          )
        )?.label);
  if (runId === undefined) {
    if (active.length === 0)
      void vscode.window.showInformationMessage('Cellflow: no run is active.');
    return;
  }
  const cluster = ctx.cluster.current;
  if (ctx.runner.backendFor(runId) === undefined && item?.run?.target === 'cluster' && cluster)
    await cluster.cancel(item.run.ref ?? { id: runId });
  else await ctx.runner.cancel(runId);
  ctx.runsView.refresh();
};

interface StepLogsArg {
  readonly runId: string;
  readonly pipeline: string;
  readonly step: string;
  /** Workspace folder whose history holds a past local run. */
  readonly workspace?: string;
  readonly target?: 'local' | 'cluster';
}

function isStepLogsArg(v: unknown): v is StepLogsArg {
  return typeof v === 'object' && v !== null && typeof (v as StepLogsArg).runId === 'string';
}

/** The backend that knows a run: this window's, the cluster's, or a workspace's history. */
async function backendForLogs(ctx: CommandContext, arg: StepLogsArg): Promise<Backend | undefined> {
  const known = ctx.runner.backendFor(arg.runId);
  if (known !== undefined) return known;
  if (arg.target === 'cluster') return ctx.cluster.current;
  return arg.workspace !== undefined ? ctx.backends.local(arg.workspace) : undefined;
}

/** Opens a terminal streaming the step's log; resolves with the terminal's name. */
const showStepLogs: CommandFactory = (ctx) => async (arg) => {
  const open = async (a: StepLogsArg): Promise<string | undefined> => {
    const backend = await backendForLogs(ctx, a);
    if (backend === undefined) {
      void vscode.window.showWarningMessage(
        `Cellflow: cannot find run ${a.runId} to read its logs.`,
      );
      return undefined;
    }
    return ctx.runner.showLogs({ id: a.runId }, a.step, backend)?.terminal.name;
  };
  if (isStepLogsArg(arg)) return open(arg);
  const cellRef = arg as Partial<CellRef> | undefined;
  if (typeof cellRef?.notebook === 'string' && typeof cellRef.cell === 'number') {
    const run = ctx.tracker.latestFor(cellRef.notebook);
    const step = ctx.tracker.stepAt(cellRef.notebook, cellRef.cell);
    if (run === undefined || step === undefined) return undefined;
    return open({ runId: run.ref.id, pipeline: run.pipeline, step: step.name });
  }
  const doc = resolveNotebook(undefined);
  const run = doc !== undefined ? ctx.tracker.latestFor(doc.uri.toString()) : ctx.tracker.runs()[0];
  if (run === undefined) {
    void vscode.window.showInformationMessage(
      'Cellflow: no run yet; logs of past runs are in the Runs view.',
    );
    return undefined;
  }
  const step = await vscode.window.showQuickPick(
    [...run.steps.values()].map((s) => ({ label: s.name, description: s.state })),
    { title: `Cellflow: logs of run ${run.ref.id}` },
  );
  if (step === undefined) return undefined;
  return open({ runId: run.ref.id, pipeline: run.pipeline, step: step.label });
};

/** Opens the KFP v2 pipeline YAML of the notebook in an editor (read-only feature). */
const compileToYaml: CommandFactory = (ctx) => async (target) => {
  const doc = resolveNotebook(target);
  if (doc === undefined) {
    void vscode.window.showWarningMessage('Cellflow: open a notebook to compile.');
    return undefined;
  }
  const result = compile(toCoreNotebook(doc), ctx.analysis.compileOptions(doc));
  if (result.yaml === undefined) {
    const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
    void vscode.window.showErrorMessage(
      `Cellflow: cannot compile, the notebook has ${errors} error(s); see Problems.`,
    );
    return undefined;
  }
  const yamlDoc = await vscode.workspace.openTextDocument({
    language: 'yaml',
    content: result.yaml,
  });
  await vscode.window.showTextDocument(yamlDoc, { preview: false });
  return result.yaml;
};

const revealCellCommand: CommandFactory = () => async (ref) => {
  await revealCell(ref as CellRef);
};

const showGraph: CommandFactory = (ctx) => (target) => {
  const doc = resolveNotebook(target);
  if (doc === undefined) {
    void vscode.window.showWarningMessage('Cellflow: open a notebook to see its pipeline graph.');
    return;
  }
  ctx.graphs.show(doc);
};

/** Opens the run details webview; resolves with what it shows. */
const showRunDetails: CommandFactory = (ctx) => async (arg) => {
  const item = arg as { run?: { ref?: RunRef; workspace?: string } } | undefined;
  const runId =
    typeof arg === 'string' ? arg : (item?.run?.ref?.id ?? ctx.tracker.runs()[0]?.ref.id);
  if (runId === undefined) {
    void vscode.window.showInformationMessage('Cellflow: no run to show.');
    return undefined;
  }
  const tracked = ctx.tracker.get(runId);
  const summary = await ctx.runsView.summaryOf(runId);
  const details =
    tracked !== undefined
      ? runDetailsOfTracked(tracked, summary?.parameters)
      : summary !== undefined
        ? runDetailsOfSummary(summary, summary.target)
        : undefined;
  if (details === undefined) {
    void vscode.window.showWarningMessage(`Cellflow: cannot find run ${runId}.`);
    return undefined;
  }
  const notebook =
    tracked?.notebook ??
    (summary?.notebookPath != null ? vscode.Uri.file(summary.notebookPath).toString() : undefined);
  ctx.runDetails.show(details, notebook, item?.run?.workspace);
  return details;
};

const refreshRuns: CommandFactory = (ctx) => () => ctx.runsView.refresh();

/**
 * Opens a run's executed notebook (every cell with the outputs it showed in the run) beside the
 * notebook, read-only. From the Runs view, that run; from the palette, the active notebook's
 * latest run. Resolves with the document's URI.
 */
const showRunOutputs: CommandFactory = (ctx) => async (arg) => {
  const item = arg as
    { run?: { ref?: RunRef; pipeline?: string; workspace?: string; target?: string } } | undefined;
  const doc = resolveNotebook(undefined);
  const tracked =
    typeof arg === 'string'
      ? ctx.tracker.get(arg)
      : item?.run?.ref === undefined
        ? ((doc !== undefined ? ctx.tracker.latestFor(doc.uri.toString()) : undefined) ??
          ctx.tracker.runs()[0])
        : undefined;
  const ref = typeof arg === 'string' ? { id: arg } : (item?.run?.ref ?? tracked?.ref);
  const pipeline = item?.run?.pipeline ?? tracked?.pipeline ?? '';
  if (ref === undefined) {
    void vscode.window.showInformationMessage(
      'Cellflow: no run yet; past runs are in the Runs view (right-click one: Show Run Outputs).',
    );
    return undefined;
  }
  const workspace = item?.run?.workspace;
  const backend =
    ctx.runner.backendFor(ref.id) ??
    (item?.run?.target === 'cluster'
      ? ctx.cluster.current
      : workspace !== undefined
        ? await ctx.backends.local(workspace)
        : undefined);
  if (!hasExecutedNotebooks(backend)) {
    void vscode.window.showWarningMessage(
      `Cellflow: run ${ref.id} has no outputs here: connect to the cluster it ran on, or open it from the Runs view.`,
    );
    return undefined;
  }
  const uri = ctx.runOutputs.uriFor(ref.id, pipeline, () => backend.executedNotebook(ref));
  try {
    const notebook = await vscode.workspace.openNotebookDocument(uri);
    await vscode.window.showNotebookDocument(notebook, {
      viewColumn: vscode.ViewColumn.Beside,
      preview: false,
    });
  } catch (error) {
    void vscode.window.showErrorMessage(
      `Cellflow: cannot show the outputs of run ${ref.id}: ${(error as Error).message}`,
    );
    return undefined;
  }
  return uri.toString();
};

/**
 * Shows the active notebook's latest run's outputs on its cells, or takes them away (see
 * `InlineRunOutputs`: nothing is written into the notebook). Resolves with the run's id while
 * they show, undefined once they are gone.
 */
const toggleRunOutputsInline: CommandFactory = (ctx) => async (target) => {
  const doc = resolveNotebook(target);
  if (doc === undefined) {
    void vscode.window.showWarningMessage('Cellflow: open a notebook to show its run outputs on.');
    return undefined;
  }
  if (ctx.inlineOutputs.shownFor(doc) !== undefined) {
    ctx.inlineOutputs.show(doc, undefined);
    return undefined;
  }
  const tracked = ctx.tracker.latestFor(doc.uri.toString());
  const backend =
    (tracked !== undefined ? ctx.runner.backendFor(tracked.ref.id) : undefined) ??
    (await ctx.backends.local(PipelineRunner.workspaceOf(doc.uri)));
  const ref =
    tracked?.ref ?? (await backend.listRuns()).find((r) => r.notebookPath === doc.uri.fsPath);
  if (ref === undefined || !hasExecutedNotebooks(backend)) {
    void vscode.window.showInformationMessage(
      'Cellflow: this notebook has no run whose outputs its cells could show. Run it first.',
    );
    return undefined;
  }
  try {
    const executed = await backend.executedNotebook({ id: ref.id });
    ctx.inlineOutputs.show(doc, { runId: ref.id, executed });
  } catch (error) {
    void vscode.window.showErrorMessage(
      `Cellflow: cannot show the outputs of run ${ref.id}: ${(error as Error).message}`,
    );
    return undefined;
  }
  return ref.id;
};

export const runCommands = {
  toggleRunOutputsInline,
  refreshRuns,
  showRunDetails,
  showRunOutputs,
  showGraph,
  runLocally,
  cancelRun,
  showStepLogs,
  compileToYaml,
  revealCell: revealCellCommand,
} satisfies Partial<Record<CommandKey, CommandFactory>>;
