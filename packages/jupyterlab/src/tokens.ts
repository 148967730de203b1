import type { AgentClient } from '@cellflow/ui';
import { Token } from '@lumino/coreutils';
import type { ISignal } from '@lumino/signaling';
import type { NotebookAnalysis } from './notebook/notebook-analysis.js';

/** The agent connection every Cellflow view shares (one per JupyterLab page). */
export interface ICellflowAgent {
  readonly client: AgentClient;
}

export const ICellflowAgent = new Token<ICellflowAgent>(
  'cellflow-jupyterlab:agent',
  'The Cellflow agent client: runs, tuning, serving and capacity through the Jupyter server.',
);

/** The analysis of the notebook in focus, kept current as it is edited. */
export interface ICellflowAnalysis {
  readonly current: NotebookAnalysis | null;
  readonly changed: ISignal<ICellflowAnalysis, NotebookAnalysis | null>;
}

export const ICellflowAnalysis = new Token<ICellflowAnalysis>(
  'cellflow-jupyterlab:analysis',
  'The Cellflow analysis (steps, dependencies, diagnostics) of the notebook in focus.',
);
