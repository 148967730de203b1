/**
 * The strip above each code cell: the step the cell belongs to, what it runs after, its GPU
 * request, the live state of its step in the current run, core's diagnostics for the cell, and a
 * button that opens the tag editor.
 */
import type { Diagnostic, PipelineStep } from '@cellflow/core';
import type { CellTags } from '@cellflow/core';
import { Widget } from '@lumino/widgets';

export type StepRunState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cached' | 'cancelled';

export interface CellChipsModel {
  readonly tags: CellTags;
  /** The step the cell's code runs in, when the cell is part of one. */
  readonly step: PipelineStep | undefined;
  /** True for the cell that starts its step (dependencies and resources are shown there). */
  readonly firstOfStep: boolean;
  readonly diagnostics: readonly Diagnostic[];
  readonly runState: StepRunState | undefined;
}

function chip(parent: HTMLElement, kind: string, text: string, title: string): HTMLElement {
  const node = document.createElement('span');
  node.className = `cf-chip cf-chip-${kind}`;
  node.textContent = text;
  node.title = title;
  parent.appendChild(node);
  return node;
}

function roleText(tags: CellTags, step: PipelineStep | undefined): [string, string] | undefined {
  switch (tags.role.kind) {
    case 'step':
      return [`step: ${tags.role.name}`, 'This cell starts a pipeline step'];
    case 'continue':
      return step !== undefined ? [`↳ ${step.name}`, `Continues step ${step.name}`] : undefined;
    case 'parameters':
      return ['parameters', 'Pipeline parameters'];
    case 'metrics':
      return ['metrics', 'Pipeline metrics'];
    default:
      return [tags.role.kind, `Runs before every step (${tags.role.kind})`];
  }
}

export class CellChips extends Widget {
  private readonly chips: HTMLElement;
  private readonly problems: HTMLElement;

  constructor(onEdit: () => void) {
    super();
    this.addClass('cf-cell-chips');
    this.chips = document.createElement('div');
    this.chips.className = 'cf-cell-chips-row';
    this.problems = document.createElement('ul');
    this.problems.className = 'cf-cell-diagnostics';
    const edit = document.createElement('button');
    edit.className = 'cf-cell-edit jp-Button jp-mod-minimal';
    edit.textContent = 'Edit tags';
    edit.title = 'Edit the Cellflow tags of this cell (step, dependencies, GPU, image, resources)';
    edit.addEventListener('click', (event) => {
      event.stopPropagation();
      onEdit();
    });
    this.node.append(this.chips, edit, this.problems);
  }

  render(model: CellChipsModel): void {
    const { tags, step, firstOfStep, diagnostics, runState } = model;
    this.chips.replaceChildren();
    const role = roleText(tags, step);
    if (role !== undefined) chip(this.chips, 'role', role[0], role[1]);
    if (step !== undefined && firstOfStep && step.after.length > 0)
      chip(this.chips, 'after', `after: ${step.after.join(', ')}`, 'Steps that must finish first');
    // The cell's own request, else (on a step's first cell) the step's, which defaults can set.
    const gpu = tags.gpu ?? (firstOfStep ? (step?.resources.gpu ?? undefined) : undefined);
    if (gpu !== undefined)
      chip(
        this.chips,
        'gpu',
        `GPU ${gpu.count}${gpu.product !== undefined && gpu.product !== null ? ` × ${gpu.product}` : ''}`,
        'GPUs the step asks for',
      );
    if (tags.image !== undefined) chip(this.chips, 'image', tags.image, 'Container image');
    if (tags.cpu !== undefined) chip(this.chips, 'cpu', `CPU ${tags.cpu}`, 'CPU request');
    if (tags.memory !== undefined)
      chip(this.chips, 'memory', `mem ${tags.memory}`, 'Memory request');
    for (const name of tags.serve) chip(this.chips, 'serve', `serve: ${name}`, 'Served model');
    if (runState !== undefined && step !== undefined)
      chip(
        this.chips,
        `state cf-state-${runState}`,
        runState,
        `Step ${step.name} in the current run`,
      );
    this.node.dataset.step = step?.name ?? '';
    this.node.dataset.runState = runState ?? '';
    this.problems.replaceChildren(
      ...diagnostics.map((d) => {
        const item = document.createElement('li');
        item.className = `cf-diagnostic cf-diagnostic-${d.severity}`;
        item.textContent = `${d.line !== null ? `line ${d.line}: ` : ''}${d.message}`;
        item.dataset.code = d.code;
        return item;
      }),
    );
  }
}
