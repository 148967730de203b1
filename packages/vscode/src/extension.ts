/** Entry point: creates the parts and wires them to VS Code. Every registration is disposed. */
import * as vscode from 'vscode';
import { CellDiagnostics } from './cells/cell-diagnostics.js';
import { CellStatusProvider } from './cells/cell-status-provider.js';
import { ViewIds } from './command-ids.js';
import { registerCommands } from './commands/command-table.js';
import { Config } from './config.js';
import { NotebookAnalysis } from './notebook/notebook-analysis.js';
import { BackendLoader } from './runs/backend-loader.js';
import { LocalRunner } from './runs/local-runner.js';
import { RunTracker } from './runs/run-tracker.js';
import { GraphPanels } from './views/graph-panel.js';
import { PipelineView } from './views/pipeline-view.js';
import { RunsView } from './views/runs-view.js';

/** What the extension hands to other extensions and to its integration tests. */
export interface CellflowApi {
  readonly tracker: RunTracker;
  readonly runner: LocalRunner;
  readonly runsView: RunsView;
  readonly cellStatus: CellStatusProvider;
  readonly diagnostics: CellDiagnostics;
  readonly graphs: GraphPanels;
  /** Milliseconds `activate` took. */
  readonly activationMs: number;
}

export function activate(context: vscode.ExtensionContext): CellflowApi {
  const started = performance.now();
  const config = new Config();
  const analysis = new NotebookAnalysis(config);
  const backends = new BackendLoader(config);
  const tracker = new RunTracker();
  const runner = new LocalRunner(backends, analysis, tracker);
  const diagnostics = new CellDiagnostics(analysis, config);
  const cellStatus = new CellStatusProvider(tracker);
  const runsView = new RunsView(tracker, backends);
  const pipelineView = new PipelineView(analysis);
  const graphs = new GraphPanels(context.extensionUri, analysis, tracker);
  const notebookCells = { notebookType: 'jupyter-notebook' };

  context.subscriptions.push(
    runner,
    diagnostics,
    cellStatus,
    runsView,
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
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (Config.affectsLocalBackend(e)) backends.reset();
    }),
    ...registerCommands({
      config,
      analysis,
      diagnostics,
      backends,
      tracker,
      runner,
      runsView,
      graphs,
    }),
  );
  return {
    tracker,
    runner,
    runsView,
    cellStatus,
    diagnostics,
    graphs,
    activationMs: performance.now() - started,
  };
}

export function deactivate(): void {}
