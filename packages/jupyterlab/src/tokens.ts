import type { AgentClient } from '@cellflow/ui';
import { Token } from '@lumino/coreutils';

/** The agent connection every Cellflow view shares (one per JupyterLab page). */
export interface ICellflowAgent {
  readonly client: AgentClient;
}

export const ICellflowAgent = new Token<ICellflowAgent>(
  'cellflow-jupyterlab:agent',
  'The Cellflow agent client: runs, tuning, serving and capacity through the Jupyter server.',
);
