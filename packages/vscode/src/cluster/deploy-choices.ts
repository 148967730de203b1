/**
 * The questions Deploy Pipeline to Cluster… asks, one function each: which context and namespace,
 * whether the GPU requests fit the cluster (and a changed request when one does not), how to
 * deploy (run now, upload as a new version, schedule) and a schedule's trigger, and the run's
 * parameter values typed by the parameters cell. Each returns undefined when cancelled.
 */
import * as vscode from 'vscode';
import {
  checkStepImagesForCluster,
  parseCellTags,
  withDefaultImage,
  type CompiledPipeline,
  type GpuPool,
  type ParameterValue,
  type PipelineGraph,
  type PipelineStep,
} from '@cellflow/core';
import type { KubeContext } from '@cellflow/backend';
import {
  DEPLOY_CHOICES,
  GPU_COUNT_RULE,
  SCHEDULE_TRIGGER_PROMPT,
  gpuChoicesOf,
  gpuFitOf,
  gpuTagCellOf,
  parseGpuCount,
  suggestedGpuCount,
  withGpuChoice,
  type DeployChoiceId,
  type GpuChoice,
} from '@cellflow/ui/deploy-choices';
import { readCellTags, writeCellTags } from '../notebook/notebook-cells.js';

export async function pickContext(
  contexts: readonly KubeContext[],
  preferred: string | undefined,
  title = 'Cellflow: Deploy',
): Promise<KubeContext | undefined> {
  if (contexts.length === 0) {
    void vscode.window.showErrorMessage(
      'Cellflow: the kubeconfig has no contexts. Fix: set KUBECONFIG or the setting cellflow.cluster.kubeconfig to a kubeconfig with your cluster.',
    );
    return undefined;
  }
  const items = contexts.map((c) => ({
    label: c.name,
    description: [
      c.current ? 'current' : '',
      c.namespace !== null ? `namespace ${c.namespace}` : '',
    ]
      .filter((s) => s !== '')
      .join(' · '),
    detail: `cluster ${c.cluster}`,
    context: c,
    picked: c.name === preferred,
  }));
  items.sort((a, b) => Number(b.picked) - Number(a.picked));
  const pick = await vscode.window.showQuickPick(items, {
    title: `${title} — Kubernetes context`,
    placeHolder: 'The cluster to run on',
  });
  return pick?.context;
}

export function pickNamespace(
  suggested: string,
  title = 'Cellflow: Deploy',
): Thenable<string | undefined> {
  return vscode.window.showInputBox({
    title: `${title} — namespace`,
    prompt: 'Namespace for the run (your Kubeflow profile namespace on multi-user clusters)',
    value: suggested,
    validateInput: (v) =>
      /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(v)
        ? undefined
        : 'Lowercase letters, digits and -, starting and ending with a letter or digit',
  });
}

/** Run now, upload as a new version, or schedule (the choices both editors offer). */
export async function pickDeployChoice(target: string): Promise<DeployChoiceId | undefined> {
  const icons: Record<DeployChoiceId, string> = {
    run: '$(play)',
    upload: '$(cloud-upload)',
    schedule: '$(calendar)',
  };
  const pick = await vscode.window.showQuickPick(
    DEPLOY_CHOICES.map((c) => ({ label: `${icons[c.id]} ${c.label}`, detail: c.detail, id: c.id })),
    { title: `Cellflow: Deploy to ${target}`, placeHolder: 'How to deploy the pipeline' },
  );
  return pick?.id;
}

/** A schedule's trigger as typed, checked with `parse` (the backend's reading of it). */
export function pickScheduleTrigger(
  parse: (text: string) => unknown,
): Thenable<string | undefined> {
  return vscode.window.showInputBox({
    title: 'Cellflow: Deploy — schedule',
    prompt: SCHEDULE_TRIGGER_PROMPT,
    value: '0 6 * * *',
    validateInput: (v) => {
      try {
        parse(v);
        return undefined;
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
    },
  });
}

/** Rewrites a step's GPU request in the notebook as `choice` (one undoable edit). */
export async function changeStepGpu(
  doc: vscode.NotebookDocument,
  step: PipelineStep,
  choice: GpuChoice,
  count: number,
): Promise<boolean> {
  const index = gpuTagCellOf(
    step,
    (i) => parseCellTags(readCellTags(doc.cellAt(i))).tags.gpu !== undefined,
  );
  if (index === undefined) return false;
  const cell = doc.cellAt(index);
  return writeCellTags(cell, withGpuChoice(readCellTags(cell), choice, count));
}

export type GpuConfirmation = 'deploy' | 'changed' | undefined;

/**
 * Shows each GPU step against the cluster's capacity. `deploy` when the user accepts (only offered
 * when every request can be met), `changed` after rewriting a step's request (compile again).
 */
export async function confirmGpus(
  doc: vscode.NotebookDocument,
  graph: PipelineGraph,
  pools: readonly GpuPool[],
  target: string,
): Promise<GpuConfirmation> {
  const fits = gpuFitOf(graph, pools, target);
  if (fits.length === 0) return 'deploy';
  const blocked = fits.some((f) => f.severity === 'error');
  type Item = vscode.QuickPickItem & { step?: PipelineStep };
  const items: Item[] = [
    ...(blocked
      ? []
      : [{ label: '$(rocket) Deploy with these GPUs', description: target } as Item]),
    ...fits.map((fit): Item => ({
      label: `${fit.severity === 'error' ? '$(error)' : fit.severity === 'warning' ? '$(warning)' : '$(pass)'} ${fit.step.name}: ${fit.request}`,
      detail: fit.message,
      description: 'change…',
      step: fit.step,
    })),
  ];
  const pick = await vscode.window.showQuickPick(items, {
    title: `Cellflow: Deploy — GPUs on ${target}`,
    placeHolder: blocked
      ? 'A step asks for GPUs the cluster cannot give: pick it to change its request'
      : 'Deploy, or pick a step to change its GPU request',
  });
  if (pick === undefined) return undefined;
  if (pick.step === undefined) return 'deploy';
  const gpu = await pickGpuFor(pick.step, pools);
  if (gpu === undefined) return undefined;
  await changeStepGpu(doc, pick.step, gpu.choice, gpu.count);
  return 'changed';
}

/**
 * Names the steps whose bare Python image lacks modules they import (they would fail with
 * ModuleNotFoundError on the cluster). `deploy` when the user goes on anyway, `changed` after
 * adding the missing `packages:` to a step (compile again).
 */
export async function confirmImages(
  doc: vscode.NotebookDocument,
  pipeline: CompiledPipeline,
  defaultImage: string | undefined,
): Promise<GpuConfirmation> {
  // Steps left on the default image run in the notebook server's own, when there is one.
  const graph = withDefaultImage(pipeline.graph, defaultImage);
  const problems = checkStepImagesForCluster(graph, pipeline.code, pipeline.notebook);
  if (problems.length === 0) return 'deploy';
  type Item = vscode.QuickPickItem & {
    fix?: { cell: number; tags: readonly string[] };
    deploy?: true;
  };
  const items: Item[] = [
    {
      label: '$(rocket) Deploy anyway',
      description: 'these steps may fail with ModuleNotFoundError',
      deploy: true,
    },
    ...problems.map((d): Item => ({
      label: `$(warning) ${d.fix?.title ?? 'Choose an image that has these modules'}`,
      detail: d.message,
      ...(d.fix?.tags !== undefined ? { fix: d.fix.tags } : {}),
    })),
  ];
  const pick = await vscode.window.showQuickPick(items, {
    title: 'Cellflow: Deploy — images',
    placeHolder: 'Some steps import modules their image does not have: add them, or deploy anyway',
    matchOnDetail: true,
  });
  if (pick === undefined) return undefined;
  if (pick.deploy === true) return 'deploy';
  if (pick.fix === undefined) return undefined;
  const cell = doc.cellAt(pick.fix.cell);
  await writeCellTags(cell, pick.fix.tags);
  return 'changed';
}

async function pickGpuFor(
  step: PipelineStep,
  pools: readonly GpuPool[],
): Promise<{ choice: GpuChoice; count: number } | undefined> {
  const pick = await vscode.window.showQuickPick(
    gpuChoicesOf(pools).map((choice) => ({
      label: choice.label,
      description: choice.description,
      choice,
    })),
    { title: `Cellflow: GPU for step ${step.name}` },
  );
  if (pick === undefined) return undefined;
  const { choice } = pick;
  if (choice.gpu === null) return { choice, count: 0 };
  const count = await vscode.window.showInputBox({
    title: `Cellflow: GPUs for step ${step.name}`,
    prompt: choice.free !== undefined ? `How many? (${choice.free} free now)` : 'How many?',
    value: String(suggestedGpuCount(step, choice)),
    validateInput: (v) => (parseGpuCount(v) !== undefined ? undefined : GPU_COUNT_RULE),
  });
  const parsed = count !== undefined ? parseGpuCount(count) : undefined;
  return parsed === undefined ? undefined : { choice, count: parsed };
}

/** The text a parameter's value is edited as (`0.3`, `true`, `rbf`, `[1, 2]`). */
export function parameterText(value: ParameterValue): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * Asks whether to change parameters, then for each one a value checked with `parse` (the
 * backend's typing against the parameters cell). Returns only the values that differ.
 */
export async function pickParameters(
  graph: PipelineGraph,
  parse: (name: string, text: string) => ParameterValue,
): Promise<Record<string, ParameterValue> | undefined> {
  if (graph.parameters.length === 0) return {};
  const mode = await vscode.window.showQuickPick(
    [
      {
        label: '$(check) Use the defaults',
        detail: graph.parameters.map((p) => `${p.name}=${parameterText(p.default)}`).join(', '),
        edit: false,
      },
      { label: '$(edit) Set parameters…', edit: true },
    ],
    { title: 'Cellflow: Deploy — parameters' },
  );
  if (mode === undefined) return undefined;
  if (!mode.edit) return {};
  const values: Record<string, ParameterValue> = {};
  for (const p of graph.parameters) {
    const text = await vscode.window.showInputBox({
      title: `Cellflow: parameter ${p.name} (${p.type})`,
      value: parameterText(p.default),
      validateInput: (v) => {
        try {
          parse(p.name, v);
          return undefined;
        } catch (error) {
          return error instanceof Error ? error.message : String(error);
        }
      },
    });
    if (text === undefined) return undefined;
    const value = parse(p.name, text);
    if (JSON.stringify(value) !== JSON.stringify(p.default)) values[p.name] = value;
  }
  return values;
}
