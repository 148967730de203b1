/**
 * Cell status bar items: each code cell's role from its tags (clickable), and during and after a
 * run the state and duration of the step the cell belongs to. A cell without a role tag says what
 * it continues (a step, or the `parameters` cell above: its variables set to literals become parameters).
 */
import * as vscode from 'vscode';
import { parseCellTags, type CellRole } from '@cellflow/core';
import {
  continuedStep,
  describeContinuation,
  joinedRole,
  type ContinuationLabel,
} from '@cellflow/ui';
import { CommandIds } from '../command-ids.js';
import type { NotebookAnalysis } from '../notebook/notebook-analysis.js';
import type { CellRef } from '../notebook/notebook-cells.js';
import { readCellTags } from '../notebook/notebook-cells.js';
import { formatState } from '../runs/format-run-state.js';
import type { RunTracker } from '../runs/run-tracker.js';
import { describeCellTags, type TagItemAction } from '../tags/describe-cell-tags.js';

const ACTION_COMMANDS: Readonly<Record<TagItemAction, string>> = {
  role: CommandIds.editCellTags,
  dependency: CommandIds.addDependency,
  serve: CommandIds.setServe,
  gpu: CommandIds.setGpu,
  image: CommandIds.setImage,
  resources: CommandIds.setCpu,
  problems: 'workbench.actions.view.problems',
};

export class CellStatusProvider
  implements vscode.NotebookCellStatusBarItemProvider, vscode.Disposable
{
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCellStatusBarItems = this.changed.event;
  private ticker: NodeJS.Timeout | undefined;
  private edited: NodeJS.Timeout | undefined;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly tracker: RunTracker,
    private readonly analysis: NotebookAnalysis,
  ) {
    this.subscriptions.push(
      tracker.onDidChange(() => this.refresh()),
      vscode.workspace.onDidChangeNotebookDocument((e) => {
        if (e.cellChanges.some((c) => c.metadata !== undefined)) this.changed.fire();
        // Code edits change which steps a step loads from (`after:`): once typing pauses.
        else if (e.cellChanges.some((c) => c.document !== undefined)) {
          clearTimeout(this.edited);
          this.edited = setTimeout(() => this.changed.fire(), 500);
        }
      }),
    );
  }

  /** The graph's `after` of the step `cell` starts (undefined when it starts none). */
  private stepAfter(
    cell: vscode.NotebookCell,
  ): { steps: readonly string[]; inputSources: Readonly<Record<string, string>> } | undefined {
    const step = this.analysis
      .analyze(cell.notebook)
      .graph?.steps.find((s) => s.cells.includes(cell.index));
    if (step === undefined) return undefined;
    const role = parseCellTags(readCellTags(cell)).tags.role;
    if (role.kind !== 'step' || role.name !== step.name) return undefined;
    return { steps: step.after, inputSources: step.inputSources };
  }

  /** For a cell without a role tag: the step it runs in, or the tagged cell above it joins. */
  private continuation(cell: vscode.NotebookCell): ContinuationLabel | undefined {
    if (parseCellTags(readCellTags(cell)).tags.role.kind !== 'continue') return undefined;
    const step = continuedStep(this.analysis.analyze(cell.notebook).graph, cell.index);
    const roleAt = (i: number): CellRole['kind'] | undefined => {
      const above = cell.notebook.cellAt(i);
      return above.kind === vscode.NotebookCellKind.Code
        ? parseCellTags(readCellTags(above)).tags.role.kind
        : undefined;
    };
    return describeContinuation(
      step,
      step === undefined ? joinedRole(cell.index, roleAt) : undefined,
    );
  }

  refresh(): void {
    this.changed.fire();
    const running = this.tracker.active().length > 0;
    if (running && this.ticker === undefined)
      this.ticker = setInterval(() => this.changed.fire(), 1000);
    if (!running && this.ticker !== undefined) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }

  provideCellStatusBarItems(cell: vscode.NotebookCell): vscode.NotebookCellStatusBarItem[] {
    if (cell.kind !== vscode.NotebookCellKind.Code) return [];
    const ref: CellRef = { notebook: cell.notebook.uri.toString(), cell: cell.index };
    const items = describeCellTags(readCellTags(cell), this.stepAfter(cell)).map((d) => {
      const item = new vscode.NotebookCellStatusBarItem(
        d.text,
        vscode.NotebookCellStatusBarAlignment.Left,
      );
      item.tooltip = d.tooltip;
      item.command = {
        title: d.text,
        command: ACTION_COMMANDS[d.action],
        arguments: d.action === 'problems' ? [] : [ref],
      };
      return item;
    });
    const continuation = this.continuation(cell);
    if (continuation !== undefined) {
      const item = new vscode.NotebookCellStatusBarItem(
        continuation.text,
        vscode.NotebookCellStatusBarAlignment.Left,
      );
      item.tooltip = continuation.tooltip;
      item.command = { title: 'Set role', command: CommandIds.editCellTags, arguments: [ref] };
      items.push(item);
    }
    if (items.length === 0) {
      const item = new vscode.NotebookCellStatusBarItem(
        '$(tag)',
        vscode.NotebookCellStatusBarAlignment.Left,
      );
      item.tooltip = "Cellflow: set this cell's role";
      item.command = { title: 'Set role', command: CommandIds.editCellTags, arguments: [ref] };
      items.push(item);
    }
    const step = this.tracker.stepAt(ref.notebook, cell.index);
    if (step !== undefined) {
      const text = formatState(step, Date.now());
      const item = new vscode.NotebookCellStatusBarItem(
        text,
        vscode.NotebookCellStatusBarAlignment.Right,
      );
      item.tooltip = step.failure?.message ?? `Step ${step.name}: ${step.state}`;
      item.command = {
        title: 'Show Step Logs',
        command: CommandIds.showStepLogs,
        arguments: [ref],
      };
      items.push(item);
    }
    return items;
  }

  dispose(): void {
    if (this.ticker !== undefined) clearInterval(this.ticker);
    clearTimeout(this.edited);
    this.changed.dispose();
    for (const s of this.subscriptions) s.dispose();
  }
}
