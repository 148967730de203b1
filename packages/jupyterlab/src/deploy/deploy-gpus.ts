/**
 * Deploy's GPU changes written into the notebook: each changed step's `gpu:` tag (on the cell that
 * carries it, else the step's first cell) becomes the chosen request, through `@cellflow/ui`'s
 * `withGpuChoice` (core's tag formatter), as VS Code's Deploy rewrites it.
 */
import { parseCellTags, type PipelineGraph } from '@cellflow/core';
import { GPU_COUNT_RULE, gpuTagCellOf, parseGpuCount, withGpuChoice } from '@cellflow/ui';
import type { ICellModel } from '@jupyterlab/cells';
import type { NotebookAnalysis } from '../notebook/notebook-analysis.js';
import type { GpuChange } from './deploy-dialog.js';

function tagsOf(cell: ICellModel | undefined): string[] {
  const tags: unknown = cell?.getMetadata('tags');
  return Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [];
}

/**
 * Writes `changes` into the steps' cells of the open notebook (edits the user can undo and must
 * save). Returns what is wrong, naming the step and the fix, when a count is not a count; then
 * nothing is written.
 */
export function changeStepGpus(
  analysis: NotebookAnalysis,
  graph: PipelineGraph,
  changes: readonly GpuChange[],
): string | undefined {
  for (const change of changes)
    if (change.choice.gpu !== null && parseGpuCount(change.count) === undefined)
      return `Step \`${change.step}\`: "${change.count}" is not a number of GPUs. Fix: ${GPU_COUNT_RULE.toLowerCase()}.`;
  const cells = analysis.panel.content.model?.cells;
  if (cells === undefined) return undefined;
  for (const change of changes) {
    const step = graph.steps.find((s) => s.name === change.step);
    if (step === undefined) continue;
    const index = gpuTagCellOf(
      step,
      (i) => parseCellTags(tagsOf(cells.get(i))).tags.gpu !== undefined,
    );
    const cell = index !== undefined ? cells.get(index) : undefined;
    if (cell === undefined) continue;
    cell.setMetadata(
      'tags',
      withGpuChoice(tagsOf(cell), change.choice, parseGpuCount(change.count) ?? 1),
    );
  }
  return undefined;
}
