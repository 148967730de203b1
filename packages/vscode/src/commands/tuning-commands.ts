/**
 * Tuning commands: Tune Hyperparameters… (edit and store the study in the notebook, then tune on
 * this machine or the cluster, followed live), Apply Best Parameters, Show Tuning Results, Cancel.
 */
import * as vscode from 'vscode';
import {
  defaultStudyFor,
  formatMetricValue,
  parseStudySpec,
  readStudySpec,
  type StudySpec,
} from '@cellflow/core';
import type { Backend, StudySummary } from '@cellflow/backend';
import type { CommandKey } from '../command-ids.js';
import { findNotebook, resolveNotebook } from '../notebook/notebook-cells.js';
import { PipelineRunner } from '../runs/pipeline-runner.js';
import type { RunTarget } from '../runs/run-tracker.js';
import { editStudy } from '../tuning/study-editor.js';
import { applyParametersInNotebook, saveStudyInNotebook } from '../tuning/study-in-notebook.js';
import type { TuningViewStudy } from '../views/tuning-view.js';
import type { CommandContext, CommandFactory } from './command-context.js';
import { needsTrust } from './workspace-trust.js';

/** What tests pass to skip the editor: the study in the `metadata.cellflow.tuning` shape. */
interface TuneOptions {
  readonly study?: Record<string, unknown>;
  readonly target?: RunTarget;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function announce(study: StudySummary): void {
  const best = study.best;
  void vscode.window
    .showInformationMessage(
      `Cellflow: study ${study.state}; ${study.counts.succeeded} trials succeeded${best?.objective != null ? `, best ${study.spec.objective} ${formatMetricValue(best.objective)}` : ''}.`,
      ...(best !== null ? ['Apply Best Parameters', 'Show Results'] : ['Show Results']),
    )
    .then((choice) => {
      if (choice === 'Apply Best Parameters')
        void vscode.commands.executeCommand('cellflow.applyBestParameters', study.id);
      if (choice === 'Show Results')
        void vscode.commands.executeCommand('cellflow.showTuningResults', study.id);
    });
}

/** Resolves with the study id once it started; `ctx.tuning.whenFinished(id)` waits for its end. */
const tuneHyperparameters: CommandFactory = (ctx) => async (target, options) => {
  if (needsTrust('tuning')) return undefined;
  const doc = resolveNotebook(target);
  if (doc === undefined) {
    void vscode.window.showWarningMessage('Cellflow: open a notebook to tune.');
    return undefined;
  }
  const given = (options ?? {}) as TuneOptions;
  const pipeline = await ctx.runner.compile(doc);
  if (pipeline === undefined) return undefined;
  const { graph } = pipeline;
  let study: StudySpec | null;
  let where: RunTarget | undefined = given.target;
  if (given.study !== undefined) {
    const parsed = parseStudySpec(given.study, graph);
    study = parsed.study;
    if (study === null) {
      void vscode.window.showErrorMessage(
        `Cellflow: ${parsed.diagnostics[0]?.message ?? 'invalid study'}`,
      );
      return undefined;
    }
  } else {
    const stored = readStudySpec(pipeline.notebook.metadata, graph);
    const start = stored.study ?? defaultStudyFor(graph);
    if (start === null) {
      void vscode.window.showWarningMessage(
        'Cellflow: nothing to tune. A study needs a metrics cell (tag `pipeline-metrics`) and numeric parameters in the parameters cell (tag `pipeline-parameters`).',
      );
      return undefined;
    }
    const edited = await editStudy(start, graph, ctx.cluster.configured);
    if (edited === undefined) return undefined;
    study = edited.study;
    where = edited.target;
  }
  // Stored in the notebook (undoable), so the study travels with it and the next run starts there.
  await saveStudyInNotebook(doc, study);
  const compiled = (await ctx.runner.compile(doc)) ?? pipeline;
  try {
    const backend: Backend =
      where === 'cluster'
        ? await ctx.cluster.connect()
        : await ctx.backends.local(PipelineRunner.workspaceOf(doc.uri));
    const ref = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `Cellflow: starting a study of ${graph.pipeline.name}…`,
      },
      () =>
        backend.tune(compiled, study, {
          notebookPath: doc.uri.fsPath,
          ...(where !== 'cluster' && ctx.config.runWithoutGpus ? { cpuOnly: true } : {}),
        }),
    );
    const notebook = doc.uri.toString();
    const finished = ctx.tuning
      .follow(backend, ref, notebook, {
        // A trial ran every step successfully: earlier failures no longer hold.
        onTrialSucceeded: () => ctx.runner.forgetFailures(notebook),
        onLost: (error) =>
          void vscode.window.showErrorMessage(
            `Cellflow: lost track of study ${ref.id}: ${messageOf(error)}`,
          ),
      })
      .then((study) => {
        if (study !== undefined) announce(study);
        return study;
      });
    void vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Window,
        title: `Cellflow: tuning ${graph.pipeline.name}`,
      },
      async () => {
        await finished;
      },
    );
    ctx.tuningView.refresh();
    return ref.id;
  } catch (error) {
    void vscode.window.showErrorMessage(`Cellflow: ${messageOf(error)}`);
    return undefined;
  }
};

/** The study an argument names: a tree item, a study id, or the newest. */
async function studyArg(ctx: CommandContext, arg: unknown): Promise<TuningViewStudy | undefined> {
  const all = await ctx.tuningView.model();
  if (typeof arg === 'string') return all.find((s) => s.summary.id === arg);
  const item = arg as { study?: TuningViewStudy } | undefined;
  if (item?.study !== undefined)
    return all.find((s) => s.summary.id === item.study?.summary.id) ?? item.study;
  if (all.length <= 1) return all[0];
  const pick = await vscode.window.showQuickPick(
    all.map((s) => ({
      label: s.summary.id,
      description: `${s.summary.pipeline} · ${s.summary.state}`,
      s,
    })),
    { title: 'Cellflow: study' },
  );
  return pick?.s;
}

/** Writes the best trial's values into the parameters cell (undoable); resolves with the changes. */
const applyBestParameters: CommandFactory = (ctx) => async (arg) => {
  const study = await studyArg(ctx, arg);
  const best = study?.summary.best;
  if (study === undefined || best == null) {
    void vscode.window.showInformationMessage('Cellflow: no study with a succeeded trial yet.');
    return undefined;
  }
  const uri = study.notebook;
  const doc =
    (uri !== undefined ? findNotebook(uri) : undefined) ??
    (uri !== undefined
      ? await vscode.workspace.openNotebookDocument(vscode.Uri.parse(uri))
      : resolveNotebook(undefined));
  if (doc === undefined) {
    void vscode.window.showWarningMessage(
      'Cellflow: open the notebook the study tuned, then apply again.',
    );
    return undefined;
  }
  const changes = await applyParametersInNotebook(doc, best.parameters);
  if (typeof changes === 'string') {
    void vscode.window.showErrorMessage(`Cellflow: cannot apply the best parameters: ${changes}`);
    return undefined;
  }
  void vscode.window.showInformationMessage(
    changes.length === 0
      ? 'Cellflow: the parameters cell already has the best values.'
      : `Cellflow: ${changes.map((c) => `${c.name} ${c.before} → ${c.after}`).join(', ')} (Undo reverts it; save to keep it).`,
  );
  return changes;
};

const showTuningResults: CommandFactory = (ctx) => async (arg) => {
  const study = await studyArg(ctx, arg);
  if (study === undefined) {
    void vscode.window.showInformationMessage(
      'Cellflow: no study yet. Start one with Tune Hyperparameters….',
    );
    return undefined;
  }
  return ctx.tuningPanels.show(study.summary);
};

const cancelStudy: CommandFactory = (ctx) => async (arg) => {
  const study = await studyArg(ctx, arg);
  if (study === undefined) return;
  await study.backend.cancelStudy(study.summary);
  ctx.tuningView.refresh();
};

const refreshTuning: CommandFactory = (ctx) => () => ctx.tuningView.refresh();

export const tuningCommands = {
  tuneHyperparameters,
  applyBestParameters,
  showTuningResults,
  cancelStudy,
  refreshTuning,
} satisfies Partial<Record<CommandKey, CommandFactory>>;
