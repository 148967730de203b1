/**
 * The strip above each code cell: the step the cell belongs to, what it runs after, its GPU
 * request, the live state of its step in the current run, core's diagnostics for the cell, a
 * button that opens the tag editor, and on the cell where a step failed, why it failed.
 */
import type { Diagnostic, PipelineStep } from '@cellflow/core';
import type { CellRole, CellTags } from '@cellflow/core';
import { describeContinuation, renderStepFailure, type StepFailureView } from '@cellflow/ui';
import { Widget } from '@lumino/widgets';
import type { StepState } from '@cellflow/protocol';

export interface CellChipsModel {
  readonly tags: CellTags;
  /** The step the cell's code runs in, when the cell is part of one. */
  readonly step: PipelineStep | undefined;
  /** True for the cell that starts its step (dependencies and resources are shown there). */
  readonly firstOfStep: boolean;
  readonly diagnostics: readonly Diagnostic[];
  readonly runState: StepState | undefined;
  /** For a cell without a role tag: the step whose block it continues (see `continuedStep`). */
  readonly continues?: string;
  /** For a cell without a role tag: the role of the tagged cell above whose block it joins. */
  readonly joins?: CellRole['kind'];
  /** Why the step failed, on the cell where it failed. */
  readonly failure?: StepFailureView;
}

/** What the strip's buttons do. */
export interface CellChipsActions {
  readonly onEdit: () => void;
  /** The failed chip: details of the step's failure. */
  readonly onShowFailure: (step: string) => void;
  readonly onShowLog: (step: string) => void;
}

function chip(parent: HTMLElement, kind: string, text: string, title: string): HTMLElement {
  const node = document.createElement('span');
  node.className = `cf-chip cf-chip-${kind}`;
  node.textContent = text;
  node.title = title;
  parent.appendChild(node);
  return node;
}

function roleText(
  tags: CellTags,
  continues: string | undefined,
  joins: CellRole['kind'] | undefined,
): [string, string] | undefined {
  switch (tags.role.kind) {
    case 'step':
      return [`step: ${tags.role.name}`, 'This cell starts a pipeline step'];
    case 'continue': {
      // No role tag: the cell joins the block above it, whatever that is.
      const label = describeContinuation(continues, joins);
      return label !== undefined ? [label.text, label.tooltip] : undefined;
    }
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
  private readonly failure: HTMLElement;
  /** What the strip shows now (see `render`). */
  private shown = '';

  constructor(private readonly actions: CellChipsActions) {
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
      actions.onEdit();
    });
    this.failure = document.createElement('div');
    this.failure.className = 'cf-cell-failure';
    this.failure.setAttribute('role', 'alert');
    this.node.append(this.chips, edit, this.problems, this.failure);
  }

  /**
   * Shows `model`. An unchanged model leaves the strip's elements as they are: re-analyses come
   * often (every edit, the kernel's metadata) and a click must not land on a replaced chip.
   */
  render(model: CellChipsModel): void {
    const { tags, step, firstOfStep, diagnostics, runState, failure } = model;
    const key = JSON.stringify([
      tags,
      step?.name,
      step?.after,
      step?.resources,
      firstOfStep,
      diagnostics,
      runState,
      model.continues,
      model.joins,
      failure,
    ]);
    if (key === this.shown) return;
    this.shown = key;
    this.chips.replaceChildren();
    const role = roleText(tags, model.continues, model.joins);
    if (role !== undefined)
      chip(this.chips, tags.role.kind === 'continue' ? 'role cf-chip-continues' : 'role', ...role);
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
    if (runState !== undefined && step !== undefined) {
      const state = chip(
        this.chips,
        `state cf-state-${runState}`,
        runState,
        runState === 'failed'
          ? `Step ${step.name} failed: click for why, the traceback and the log`
          : `Step ${step.name} in the current run`,
      );
      if (runState === 'failed') {
        state.setAttribute('role', 'button');
        state.tabIndex = 0;
        const open = (event: Event): void => {
          event.stopPropagation();
          this.actions.onShowFailure(step.name);
        };
        state.addEventListener('click', open);
        state.addEventListener('keydown', (event) => {
          if (event.key === 'Enter' || event.key === ' ') open(event);
        });
      }
    }
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
    if (failure !== undefined)
      renderStepFailure(this.failure, failure, {
        onShowLog: () => this.actions.onShowLog(failure.step),
      });
    else this.failure.replaceChildren();
    this.node.dataset.failure = failure !== undefined ? 'true' : '';
  }
}
