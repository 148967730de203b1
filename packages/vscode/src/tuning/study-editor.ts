/**
 * Tune Hyperparameters…'s study editor: a quick pick listing the study (objective, goal,
 * algorithm, trial counts, each searched parameter) where picking a row changes it, until the user
 * starts the study. Starts from the notebook's `metadata.cellflow.tuning`, else a study around the
 * parameters cell's defaults. Every change is checked by core (`parseStudySpec`); ranges are typed
 * and shown as `@cellflow/ui`'s study form reads them (JupyterLab's study editor reads the same).
 */
import * as vscode from 'vscode';
import {
  parseStudySpec,
  studyToMetadata,
  TUNING_ALGORITHMS,
  type PipelineGraph,
  type StudySpec,
} from '@cellflow/core';
import {
  describeSearchParameter,
  parameterRangeText,
  parseParameterRange,
  suggestedRangeText,
} from '@cellflow/ui/study-form';

export type StudyStart = { readonly study: StudySpec; readonly target: 'local' | 'cluster' };

/** Checks the stored shape against the graph; the study, or the first problem. */
function check(tuning: Record<string, unknown>, graph: PipelineGraph): StudySpec | string {
  const { study, diagnostics } = parseStudySpec(tuning, graph);
  const error = diagnostics.find((d) => d.severity === 'error');
  if (study === null || error !== undefined) return error?.message ?? 'The study is not valid.';
  return study;
}

type Row = vscode.QuickPickItem & { readonly action: string; readonly parameter?: string };

export async function editStudy(
  start: StudySpec,
  graph: PipelineGraph,
  clusterAvailable: boolean,
): Promise<StudyStart | undefined> {
  let tuning = studyToMetadata(start);
  let study = start;
  for (;;) {
    const searched = new Set(study.parameters.map((p) => p.name));
    const rows: Row[] = [
      { label: '$(play) Start tuning on this machine', action: 'start-local' },
      ...(clusterAvailable
        ? [{ label: '$(cloud) Start tuning on the cluster (Katib)', action: 'start-cluster' }]
        : []),
      { label: '', kind: vscode.QuickPickItemKind.Separator, action: '' },
      { label: 'Objective', description: study.objective, action: 'objective' },
      { label: 'Goal', description: study.goal, action: 'goal' },
      { label: 'Algorithm', description: study.algorithm, action: 'algorithm' },
      {
        label: 'Trials',
        description: `${study.maxTrials} in all, ${study.parallelTrials} at once, stop after ${study.maxFailedTrials} failed`,
        action: 'trials',
      },
      { label: 'Searched parameters', kind: vscode.QuickPickItemKind.Separator, action: '' },
      ...study.parameters.map((p) => ({
        label: `$(symbol-variable) ${p.name}`,
        description: describeSearchParameter(p),
        action: 'parameter',
        parameter: p.name,
      })),
      ...graph.parameters
        .filter(
          (p) =>
            !searched.has(p.name) &&
            (p.type === 'int' || p.type === 'float' || p.type === 'str' || p.type === 'bool'),
        )
        .map((p) => ({
          label: `$(add) Search ${p.name}`,
          description: `default ${JSON.stringify(p.default)}`,
          action: 'add',
          parameter: p.name,
        })),
    ];
    const pick = await vscode.window.showQuickPick(rows, {
      title: `Cellflow: Tune ${graph.pipeline.name}`,
      placeHolder: 'Pick a row to change it, or start',
    });
    if (pick === undefined) return undefined;
    if (pick.action === 'start-local') return { study, target: 'local' };
    if (pick.action === 'start-cluster') return { study, target: 'cluster' };
    const next = await changeRow(pick, tuning, study, graph);
    if (next === undefined) continue;
    const checked = check(next, graph);
    if (typeof checked === 'string') {
      void vscode.window.showErrorMessage(`Cellflow: ${checked}`);
      continue;
    }
    tuning = next;
    study = checked;
  }
}

async function changeRow(
  row: Row,
  tuning: Record<string, unknown>,
  study: StudySpec,
  graph: PipelineGraph,
): Promise<Record<string, unknown> | undefined> {
  switch (row.action) {
    case 'objective': {
      const pick = await vscode.window.showQuickPick(
        graph.metrics.map((m) => ({
          label: m.name,
          description: `printed as ${m.variable} in step ${m.step}`,
        })),
        { title: 'Objective metric' },
      );
      return pick === undefined ? undefined : { ...tuning, objective: pick.label };
    }
    case 'goal': {
      const pick = await vscode.window.showQuickPick(['maximize', 'minimize'], { title: 'Goal' });
      return pick === undefined ? undefined : { ...tuning, goal: pick };
    }
    case 'algorithm': {
      const pick = await vscode.window.showQuickPick([...TUNING_ALGORITHMS], {
        title: 'Search algorithm',
      });
      return pick === undefined ? undefined : { ...tuning, algorithm: pick };
    }
    case 'trials': {
      const text = await vscode.window.showInputBox({
        title: 'Trials: in all, at once, failures allowed',
        value: `${study.maxTrials}, ${study.parallelTrials}, ${study.maxFailedTrials}`,
        validateInput: (v) =>
          /^\s*\d+\s*,\s*\d+\s*,\s*\d+\s*$/.test(v) ? undefined : 'Three whole numbers: 12, 3, 3',
      });
      if (text === undefined) return undefined;
      const [maxTrials, parallelTrials, maxFailedTrials] = text
        .split(',')
        .map((n) => Number(n.trim()));
      return { ...tuning, maxTrials, parallelTrials, maxFailedTrials };
    }
    case 'parameter':
    case 'add': {
      const name = row.parameter ?? '';
      const current = study.parameters.find((p) => p.name === name);
      const def = graph.parameters.find((p) => p.name === name)?.default;
      const suggested =
        current !== undefined ? parameterRangeText(current) : suggestedRangeText(def);
      const text = await vscode.window.showInputBox({
        title: `Search ${name}`,
        prompt:
          'A range (`0.1 .. 100 log`, `1 .. 10 step 1`) or a list (`rbf, linear`); empty stops searching it',
        value: suggested,
        validateInput: (v) => {
          if (v.trim() === '') return undefined;
          const parsed = parseParameterRange(v);
          return typeof parsed === 'string' ? parsed : undefined;
        },
      });
      if (text === undefined) return undefined;
      const parameters = { ...(tuning.parameters as Record<string, unknown>) };
      if (text.trim() === '') delete parameters[name];
      else parameters[name] = parseParameterRange(text);
      return { ...tuning, parameters };
    }
    default:
      return undefined;
  }
}
