/**
 * The study and its result in the notebook, as undoable edits: the study into
 * `metadata.cellflow.tuning` (a notebook metadata edit), the best trial's values into the
 * parameters cell (text edits of just the values, computed by core's `applyParameterValues`).
 */
import * as vscode from 'vscode';
import {
  applyParameterValues,
  compile,
  describeCell,
  studyToMetadata,
  type ParameterChange,
  type ParameterValue,
  type StudySpec,
} from '@cellflow/core';
import { notebookMetadataWith, toCoreNotebook } from '../notebook/notebook-cells.js';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export async function saveStudyInNotebook(
  doc: vscode.NotebookDocument,
  study: StudySpec,
): Promise<boolean> {
  const metadata = notebookMetadataWith(doc, (nb) => ({
    ...nb,
    cellflow: { ...(isObject(nb.cellflow) ? nb.cellflow : {}), tuning: studyToMetadata(study) },
  }));
  const edit = new vscode.WorkspaceEdit();
  edit.set(doc.uri, [vscode.NotebookEdit.updateNotebookMetadata(metadata)]);
  return vscode.workspace.applyEdit(edit);
}

/** The notebook as nbformat JSON text (what core's byte-level functions read). */
function notebookText(doc: vscode.NotebookDocument): string {
  const nb = toCoreNotebook(doc);
  return JSON.stringify({
    nbformat: nb.nbformat,
    nbformat_minor: nb.nbformatMinor,
    metadata: nb.metadata,
    cells: nb.cells.map((c) => ({
      cell_type: c.kind,
      metadata: c.metadata,
      source: c.source,
      ...(c.kind === 'code' ? { execution_count: null, outputs: [] } : {}),
    })),
  });
}

/** The range of `before` on the line assigning `name` in a cell. */
function valueRange(cell: vscode.TextDocument, change: ParameterChange): vscode.Range | undefined {
  const assigns = new RegExp(`^\\s*${change.name}\\s*(?::[^=]*)?=`);
  const hinted = [change.line - 1, change.line].filter((l) => l >= 0 && l < cell.lineCount);
  const lines = [...hinted, ...Array.from({ length: cell.lineCount }, (_, i) => i)];
  for (const line of lines) {
    const text = cell.lineAt(line).text;
    const eq = assigns.exec(text);
    if (eq === null) continue;
    const at = text.indexOf(change.before, eq[0].length);
    if (at >= 0) return new vscode.Range(line, at, line, at + change.before.length);
  }
  return undefined;
}

/**
 * Writes `values` as the parameters' defaults in the parameters cell: one undoable edit that
 * changes only the values' text. Resolves with the changes, or a message saying why none was made.
 */
export async function applyParametersInNotebook(
  doc: vscode.NotebookDocument,
  values: Readonly<Record<string, ParameterValue>>,
): Promise<ParameterChange[] | string> {
  const text = notebookText(doc);
  const { graph } = compile(text);
  if (graph === undefined) return 'The notebook does not compile; fix its problems first.';
  const result = applyParameterValues(text, graph, values);
  const problem = result.diagnostics[0];
  if (problem !== undefined) return problem.message;
  const edit = new vscode.WorkspaceEdit();
  for (const change of result.changes) {
    const cell = doc.cellAt(change.cell).document;
    const range = valueRange(cell, change);
    if (range === undefined)
      return `Cannot find \`${change.name} = ${change.before}\` in ${describeCell(change.cell)}.`;
    edit.replace(cell.uri, range, change.after);
  }
  if (result.changes.length > 0 && !(await vscode.workspace.applyEdit(edit)))
    return 'VS Code refused the edit.';
  return result.changes;
}
