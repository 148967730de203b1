/** What command handlers may use; each command is a factory over this. */
import type * as vscode from 'vscode';
import type { Config } from '../config.js';
import type { CellDiagnostics } from '../cells/cell-diagnostics.js';
import type { NotebookAnalysis } from '../notebook/notebook-analysis.js';
import type { BackendLoader } from '../runs/backend-loader.js';
import type { PipelineRunner } from '../runs/pipeline-runner.js';
import type { RunTracker } from '../runs/run-tracker.js';
import type { RunOutputsDocuments } from '../runs/run-outputs-documents.js';
import type { InlineRunOutputs } from '../cells/inline-run-outputs.js';
import type { GraphPanels } from '../views/graph-panel.js';
import type { RunsView } from '../views/runs-view.js';
import type { ClusterConnections } from '../cluster/cluster-connections.js';
import type { ClusterView } from '../views/cluster-view.js';
import type { EndpointTesterPanels } from '../views/endpoint-tester-panel.js';
import type { EndpointsView } from '../views/endpoints-view.js';
import type { RunDetailsPanels } from '../views/run-details-panel.js';
import type { StudyFollowers } from '../tuning/study-followers.js';
import type { StudyTracker } from '../tuning/study-tracker.js';
import type { TuningPanels } from '../views/tuning-panel.js';
import type { TuningView } from '../views/tuning-view.js';

/** The parts `activate` creates that command handlers use and the extension's API hands out. */
export interface SharedParts {
  readonly diagnostics: CellDiagnostics;
  readonly tracker: RunTracker;
  readonly runner: PipelineRunner;
  readonly runsView: RunsView;
  readonly graphs: GraphPanels;
  readonly cluster: ClusterConnections;
  readonly clusterView: ClusterView;
  readonly endpointsView: EndpointsView;
  readonly testers: EndpointTesterPanels;
  readonly runDetails: RunDetailsPanels;
  readonly studies: StudyTracker;
  readonly tuning: StudyFollowers;
  readonly tuningView: TuningView;
  readonly tuningPanels: TuningPanels;
}

export interface CommandContext extends SharedParts {
  /** The extension's folder (the shipped example, webview assets). */
  readonly extensionUri: vscode.Uri;
  readonly config: Config;
  readonly analysis: NotebookAnalysis;
  readonly backends: BackendLoader;
  /** Runs' executed notebooks, as read-only documents. */
  readonly runOutputs: RunOutputsDocuments;
  /** A run's outputs on the cells of a notebook, as decorations (nothing saved). */
  readonly inlineOutputs: InlineRunOutputs;
}

export type CommandHandler = (...args: unknown[]) => unknown;
export type CommandFactory = (ctx: CommandContext) => CommandHandler;
