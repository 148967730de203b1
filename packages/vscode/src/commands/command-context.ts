/** What command handlers may use; each command is a factory over this. */
import type { Config } from '../config.js';
import type { CellDiagnostics } from '../cells/cell-diagnostics.js';
import type { NotebookAnalysis } from '../notebook/notebook-analysis.js';
import type { BackendLoader } from '../runs/backend-loader.js';
import type { PipelineRunner } from '../runs/pipeline-runner.js';
import type { RunTracker } from '../runs/run-tracker.js';
import type { GraphPanels } from '../views/graph-panel.js';
import type { RunsView } from '../views/runs-view.js';
import type { ClusterConnections } from '../cluster/cluster-connections.js';
import type { ClusterView } from '../views/cluster-view.js';

export interface CommandContext {
  readonly config: Config;
  readonly analysis: NotebookAnalysis;
  readonly diagnostics: CellDiagnostics;
  readonly backends: BackendLoader;
  readonly tracker: RunTracker;
  readonly runner: PipelineRunner;
  readonly runsView: RunsView;
  readonly graphs: GraphPanels;
  readonly cluster: ClusterConnections;
  readonly clusterView: ClusterView;
}

export type CommandHandler = (...args: unknown[]) => unknown;
export type CommandFactory = (ctx: CommandContext) => CommandHandler;
