/**
 * A cluster run's executed notebook: what its cells showed (`readClusterCellOutputs`) put on the
 * notebook it was submitted from, which the run's description names (a path on the machine that
 * submitted it), or on a notebook the caller names. Outputs go only on the code that made them: a
 * notebook whose cell holds other code than the run ran is refused with the fix.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { buildExecutedNotebook, compile, parseNotebook, type NotebookFile } from '@cellflow/core';
import { BackendError, type RunRef } from '../backend.js';
import type { ClusterCellOutputs } from './cluster-cell-outputs.js';

/** What `KubeflowBackend.cellOutputs` reads of a run. */
export interface ClusterRunOutputs extends ClusterCellOutputs {
  /** The code each cell of the run ran, by cell index. */
  readonly ran: ReadonlyMap<number, string>;
  /** The notebook the run was submitted from, as its description records it. */
  readonly notebookPath?: string;
}

/** The run's outputs on `notebookFile` (default: the notebook it was submitted from). */
export async function buildClusterExecutedNotebook(
  run: RunRef,
  read: ClusterRunOutputs,
  notebookFile?: string,
): Promise<{ notebook: NotebookFile; file: string }> {
  const file = notebookFile ?? read.notebookPath;
  const nameIt = `Fix: name the notebook it ran: \`cellflow outputs ${run.id} --notebook FILE\`.`;
  if (file === undefined)
    throw new BackendError(
      'not-found',
      `Run ${run.id} does not say which notebook it was submitted from. ${nameIt}`,
    );
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch {
    throw new BackendError(
      'not-found',
      notebookFile === undefined
        ? `Run ${run.id} was submitted from ${file}, which is not here. Fix: open its outputs where it was submitted from, or name the notebook it ran: \`cellflow outputs ${run.id} --notebook FILE\`.`
        : `Cannot read ${file}. Fix: name a notebook file that is here.`,
    );
  }
  const { notebook, diagnostics } = parseNotebook(bytes);
  if (notebook === undefined)
    throw new BackendError(
      'request-refused',
      `${file}: not a notebook: ${diagnostics[0]?.message ?? ''}`,
    );
  const code = compile(bytes, { fileName: basename(file).replace(/\.ipynb$/i, '') }).pipeline?.code;
  for (const record of read.cells) {
    const ran = read.ran.get(record.cell);
    const cell = notebook.cells[record.cell];
    if (cell?.kind === 'code' && (ran === undefined || code?.get(record.cell) === ran)) continue;
    throw new BackendError(
      'request-refused',
      `${file} is not the notebook run ${run.id} ran: its cell ${record.cell + 1} ${cell?.kind === 'code' ? 'holds other code than the run ran' : 'is not a code cell there'}. Fix: run the notebook again and open that run's outputs, or undo the change since.`,
    );
  }
  return { notebook: buildExecutedNotebook(notebook, read.cells), file };
}
