/**
 * What a cell without a role tag says about the block it joins (Kale's rule: an untagged cell
 * continues the tagged cell above it): the step it runs in, or the role of the tagged cell above,
 * so that a scratch cell below `parameters` does not silently define pipeline parameters.
 * Both editors show it on the cell.
 */
import type { CellRole, PipelineGraph } from '@cellflow/core';

export interface ContinuationLabel {
  readonly text: string;
  readonly tooltip: string;
}

/**
 * The label of a cell without a role tag: `step`, the step it runs in (if any); else `joins`,
 * the role of the nearest code cell above with a role tag. Undefined when it joins nothing.
 */
export function describeContinuation(
  step: string | undefined,
  joins: CellRole['kind'] | undefined,
): ContinuationLabel | undefined {
  if (step !== undefined)
    return {
      text: `↳ continues ${step}`,
      tooltip: `No role tag: this cell runs as part of step ${step}, the block above it. Edit tags to give it a role of its own (or skip).`,
    };
  if (joins === undefined || joins === 'continue') return undefined;
  return {
    text: `↳ continues ${joins}`,
    tooltip: `No role tag: this cell joins the ${joins} cell above it${joins === 'parameters' ? ' (its variables become pipeline parameters where set to literals; its other code runs in the step below)' : ''}. Edit tags to give it a role of its own (or skip).`,
  };
}

/**
 * The step a cell runs in as part of a step's block: none for a cell of an `imports`,
 * `functions` or `parameters` block, whose other statements run in the step after it (that
 * step's cells list it too).
 */
export function continuedStep(graph: PipelineGraph | undefined, index: number): string | undefined {
  if (graph === undefined || graph.preludeCells.includes(index)) return undefined;
  return graph.steps.find((s) => s.cells.includes(index))?.name;
}

/** The role of the nearest cell before `index` with a role tag (`roleAt` undefined: not code). */
export function joinedRole(
  index: number,
  roleAt: (index: number) => CellRole['kind'] | undefined,
): CellRole['kind'] | undefined {
  for (let i = index - 1; i >= 0; i--) {
    const kind = roleAt(i);
    if (kind !== undefined && kind !== 'continue') return kind;
  }
  return undefined;
}
