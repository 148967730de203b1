/**
 * What each cell of a local run showed: the notebook as it was run (`runs/<id>/notebook.ipynb`,
 * written when the run starts) and each step's `cell-outputs.json` (written by the step runtime,
 * bounded there: 1 MiB a cell, 8 MiB a step), put together as the executed notebook.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  buildExecutedNotebook,
  parseNotebook,
  type CellOutputs,
  type Notebook,
  type NotebookFile,
} from '@cellflow/core';
import { BackendError } from '../backend.js';

/** A step's cell outputs file, in its step folder. */
export const CELL_OUTPUTS_FILE = 'cell-outputs.json';
/** The notebook as the run ran it, in the run's folder. */
export const RUN_NOTEBOOK_FILE = 'notebook.ipynb';

/** Keeps the notebook as it was run beside the run (its cells without outputs). */
export async function writeRunNotebook(runDir: string, notebook: Notebook): Promise<void> {
  await writeFile(join(runDir, RUN_NOTEBOOK_FILE), JSON.stringify(buildExecutedNotebook(notebook)));
}

/** The cells a step recorded, or none when it recorded nothing (not run, or killed). */
export async function readStepCellOutputs(stepDir: string): Promise<CellOutputs[]> {
  try {
    const file = JSON.parse(await readFile(join(stepDir, CELL_OUTPUTS_FILE), 'utf8')) as {
      cells?: CellOutputs[];
    };
    return Array.isArray(file.cells) ? file.cells : [];
  } catch {
    return [];
  }
}

/**
 * A step reused from an earlier run recorded its cells by their index then; the cells are the same
 * code in the same order (that is what made it reusable), so its records are renumbered with the
 * step's cells now.
 */
export async function renumberStepCellOutputs(
  stepDir: string,
  cells: readonly number[],
): Promise<void> {
  const recorded = await readStepCellOutputs(stepDir);
  if (recorded.length === 0 || recorded.every((r, i) => r.cell === cells[i])) return;
  const renumbered = recorded.flatMap((r, i) =>
    cells[i] === undefined ? [] : [{ ...r, cell: cells[i] }],
  );
  await writeFile(join(stepDir, CELL_OUTPUTS_FILE), JSON.stringify({ cells: renumbered }));
}

/** The executed notebook of the run in `runDir`: its notebook with every step's cell outputs. */
export async function readExecutedNotebook(
  runDir: string,
  steps: readonly string[],
): Promise<NotebookFile> {
  let text: string;
  try {
    text = await readFile(join(runDir, RUN_NOTEBOOK_FILE), 'utf8');
  } catch {
    throw new BackendError(
      'not-found',
      `This run kept no copy of its notebook (${join(runDir, RUN_NOTEBOOK_FILE)}), so its outputs cannot be shown: it was made by an older Cellflow. Fix: run the notebook again.`,
    );
  }
  const { notebook } = parseNotebook(text);
  if (notebook === undefined)
    throw new BackendError('not-found', `The run's notebook copy is unreadable: ${runDir}.`);
  const outputs = await Promise.all(
    steps.map((step) => readStepCellOutputs(join(runDir, 'steps', step))),
  );
  return buildExecutedNotebook(notebook, outputs.flat());
}
