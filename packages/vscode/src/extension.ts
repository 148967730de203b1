/** Entry point: creates the parts and wires them to VS Code. Every registration is disposed. */
import * as vscode from 'vscode';
import { CellDiagnostics } from './cells/cell-diagnostics.js';
import { CellStatusProvider } from './cells/cell-status-provider.js';
import { ClusterConnections } from './cluster/cluster-connections.js';
import { CommandIds, ViewIds } from './command-ids.js';
import type { SharedParts } from './commands/command-context.js';
import { registerCommands } from './commands/command-table.js';
import { Config } from './config.js';
import { NotebookAnalysis } from './notebook/notebook-analysis.js';
import { BackendLoader } from './runs/backend-loader.js';
import { PipelineRunner } from './runs/pipeline-runner.js';
import { RunTracker } from './runs/run-tracker.js';
import { GraphPanels } from './views/graph-panel.js';
import { PipelineView } from './views/pipeline-view.js';
import { ClusterView } from './views/cluster-view.js';
import { EndpointTesterPanels } from './views/endpoint-tester-panel.js';
import { EndpointsView } from './views/endpoints-view.js';
import { RunDetailsPanels } from './views/run-details-panel.js';
import { RunOutputsDocuments } from './runs/run-outputs-documents.js';
import { InlineRunOutputs } from './cells/inline-run-outputs.js';
import { hasExecutedNotebooks } from '@cellflow/protocol';
import { StudyFollowers } from './tuning/study-followers.js';
import { StudyTracker } from './tuning/study-tracker.js';
import { TuningPanels } from './views/tuning-panel.js';
import { TuningView } from './views/tuning-view.js';
import { RunsView } from './views/runs-view.js';

/** What the extension hands to other extensions and to its integration tests. */
export interface CellflowApi extends SharedParts {
  readonly cellStatus: CellStatusProvider;
  /** Milliseconds `activate` took. */
  readonly activationMs: number;
}

export function activate(context: vscode.ExtensionContext): CellflowApi {
  const started = performance.now();
  const config = new Config();
  const analysis = new NotebookAnalysis(config);
  const backends = new BackendLoader(config);
  const tracker = new RunTracker();
  const runner = new PipelineRunner(backends, analysis, tracker, config);
  const diagnostics = new CellDiagnostics(analysis, config);
  const cellStatus = new CellStatusProvider(tracker, analysis);
  const cluster = new ClusterConnections(backends, config);
  const runsView = new RunsView(tracker, backends, cluster);
  const clusterView = new ClusterView(cluster);
  const endpointsView = new EndpointsView(backends, cluster);
  const testers = new EndpointTesterPanels(context.extensionUri);
  const runDetails = new RunDetailsPanels(context.extensionUri, tracker);
  const runOutputs = new RunOutputsDocuments();
  const inlineOutputs = new InlineRunOutputs();
  const studies = new StudyTracker();
  const tuning = new StudyFollowers(studies);
  const tuningView = new TuningView(studies, backends, cluster);
  const tuningPanels = new TuningPanels(context.extensionUri, studies, (id) => {
    void vscode.commands.executeCommand(CommandIds.applyBestParameters, id);
  });
  const pipelineView = new PipelineView(analysis);
  const graphs = new GraphPanels(context.extensionUri, analysis, tracker);
  const notebookCells = { notebookType: 'jupyter-notebook' };
  const shared: SharedParts = {
    diagnostics,
    tracker,
    runner,
    runsView,
    graphs,
    cluster,
    clusterView,
    endpointsView,
    testers,
    runDetails,
    studies,
    tuning,
    tuningView,
    tuningPanels,
  };

  context.subscriptions.push(
    runner,
    diagnostics,
    cellStatus,
    runsView,
    clusterView,
    endpointsView,
    testers,
    runDetails,
    tuningView,
    tuningPanels,
    pipelineView,
    graphs,
    vscode.notebooks.registerNotebookCellStatusBarItemProvider('jupyter-notebook', cellStatus),
    vscode.languages.registerCodeActionsProvider(
      { notebookType: notebookCells.notebookType },
      diagnostics,
      CellDiagnostics.metadata,
    ),
    vscode.window.registerTreeDataProvider(ViewIds.pipeline, pipelineView),
    vscode.window.registerTreeDataProvider(ViewIds.runs, runsView),
    vscode.window.registerTreeDataProvider(ViewIds.cluster, clusterView),
    vscode.window.registerTreeDataProvider(ViewIds.tuning, tuningView),
    vscode.window.registerTreeDataProvider(ViewIds.endpoints, endpointsView),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (Config.affectsLocalBackend(e)) backends.reset();
      if (Config.affectsCluster(e)) cluster.reset();
    }),
    runOutputs.register(),
    inlineOutputs,
    tracker.onDidChange((run) => {
      const backend = runner.backendFor(run.ref.id);
      if ((run.state === 'succeeded' || run.state === 'failed') && hasExecutedNotebooks(backend))
        void inlineOutputs.runEnded(run.notebook, run.ref.id, () =>
          backend.executedNotebook(run.ref),
        );
    }),
    ...registerCommands({
      extensionUri: context.extensionUri,
      config,
      analysis,
      backends,
      runOutputs,
      inlineOutputs,
      ...shared,
    }),
  );
  return { ...shared, cellStatus, activationMs: performance.now() - started };
}

export function deactivate(): void {}
