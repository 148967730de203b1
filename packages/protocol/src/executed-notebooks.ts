/**
 * A run's results as a notebook: a backend that keeps what each cell showed gives the run's
 * executed notebook, every cell with its outputs (a local run's from its folder; a cluster run's
 * from its steps' artifacts and logs, on the notebook it was submitted from). VS Code asks the backend it holds;
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

/** Whether `backend` gives its runs' executed notebooks (the local and Kubeflow backends do). */
export function hasExecutedNotebooks<T>(backend: T): backend is T & ExecutedNotebookSource {
  return (
    typeof backend === 'object' &&
    backend !== null &&
    typeof (backend as Partial<ExecutedNotebookSource>).executedNotebook === 'function'
  );
}
