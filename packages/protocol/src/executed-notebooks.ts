/**
 * A run's results as a notebook: a backend that keeps what each cell showed (local runs) gives
 * the run's executed notebook, every cell with its outputs. VS Code asks the backend it holds;
 * JupyterLab asks the agent (`GET runs/:run/notebook`, `AGENT_ROUTES.executedNotebook`), whose
 * handler asks its backend through the same check.
 */
import type { NotebookFile } from '@cellflow/core';
import type { RunRef } from './backend.js';

/** A backend that can give a run's executed notebook. */
export interface ExecutedNotebookSource {
  /** The notebook as the run ran it, each cell with the outputs it showed and an execution count. */
  executedNotebook(ref: RunRef): Promise<NotebookFile>;
}

/** Whether `backend` keeps its runs' cell outputs (the local backend does; a cluster one does not yet). */
export function hasExecutedNotebooks<T>(backend: T): backend is T & ExecutedNotebookSource {
  return (
    typeof backend === 'object' &&
    backend !== null &&
    typeof (backend as Partial<ExecutedNotebookSource>).executedNotebook === 'function'
  );
}
