/**
 * The bridge between VS Code's notebook model and core's `Notebook`: where the ipynb serializer
 * keeps a cell's nbformat metadata, reading and writing `metadata.tags`, finding cells.
 */
import * as vscode from 'vscode';
import type { Notebook, NotebookCell as CoreCell } from '@cellflow/core';

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The nbformat metadata: `metadata.metadata` (current ipynb serializer) or `custom.metadata` (older). */
function nbformatMetadata(metadata: Json): Json {
  if (isObject(metadata.custom) && isObject(metadata.custom.metadata))
    return metadata.custom.metadata;
  return isObject(metadata.metadata) ? metadata.metadata : {};
}

export function readCellTags(cell: vscode.NotebookCell): string[] {
  const tags = nbformatMetadata(cell.metadata).tags;
  return Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [];
}

/** The cell's whole metadata with `tags` replaced (removed when empty), for `updateCellMetadata`. */
export function cellMetadataWithTags(cell: vscode.NotebookCell, tags: readonly string[]): Json {
  const metadata: Json = { ...cell.metadata };
  const inner: Json = { ...nbformatMetadata(metadata) };
  if (tags.length > 0) inner.tags = [...tags];
  else delete inner.tags;
  if (isObject(metadata.custom)) metadata.custom = { ...metadata.custom, metadata: inner };
  else metadata.metadata = inner;
  return metadata;
}

/** Writes a cell's tags as one undoable notebook edit. */
export async function writeCellTags(
  cell: vscode.NotebookCell,
  tags: readonly string[],
): Promise<boolean> {
  const edit = new vscode.WorkspaceEdit();
  edit.set(cell.notebook.uri, [
    vscode.NotebookEdit.updateCellMetadata(cell.index, cellMetadataWithTags(cell, tags)),
  ]);
  return vscode.workspace.applyEdit(edit);
}

/**
 * The notebook's whole metadata with its nbformat metadata changed by `change`, for
 * `NotebookEdit.updateNotebookMetadata` (one undoable edit).
 */
export function notebookMetadataWith(
  doc: vscode.NotebookDocument,
  change: (nbformat: Json) => Json,
): Json {
  const metadata: Json = { ...doc.metadata };
  if (isObject(metadata.custom) && isObject(metadata.custom.metadata))
    metadata.custom = { ...metadata.custom, metadata: change({ ...metadata.custom.metadata }) };
  else metadata.metadata = change({ ...nbformatMetadata(metadata) });
  return metadata;
}

export function isJupyterNotebook(doc: vscode.NotebookDocument): boolean {
  return doc.notebookType === 'jupyter-notebook';
}

function kindOf(cell: vscode.NotebookCell): CoreCell['kind'] {
  if (cell.kind === vscode.NotebookCellKind.Markup) return 'markdown';
  return cell.document.languageId === 'raw' ? 'raw' : 'code';
}

/** Core's view of the notebook as it is in the editor (unsaved edits included). */
export function toCoreNotebook(doc: vscode.NotebookDocument): Notebook {
  const metadata: Json = doc.metadata;
  return {
    nbformat: typeof metadata.nbformat === 'number' ? metadata.nbformat : 4,
    nbformatMinor: typeof metadata.nbformat_minor === 'number' ? metadata.nbformat_minor : 5,
    metadata: nbformatMetadata(metadata),
    cells: doc.getCells().map((cell) => ({
      index: cell.index,
      kind: kindOf(cell),
      source: cell.document.getText(),
      tags: readCellTags(cell),
      metadata: nbformatMetadata(cell.metadata),
    })),
  };
}

/** A cell named by plain data: what status items, tree items and tests pass to commands. */
export interface CellRef {
  readonly notebook: string;
  readonly cell: number;
}

function isCell(v: unknown): v is vscode.NotebookCell {
  return isObject(v) && typeof v.index === 'number' && isObject(v.notebook) && isObject(v.document);
}

function isCellRef(v: unknown): v is CellRef {
  return isObject(v) && typeof v.notebook === 'string' && typeof v.cell === 'number';
}

export function findNotebook(uri: string): vscode.NotebookDocument | undefined {
  return vscode.workspace.notebookDocuments.find((d) => d.uri.toString() === uri);
}

/** The cell a command is about: its argument (a cell or a `CellRef`), else the active cell. */
export function resolveCell(arg: unknown): vscode.NotebookCell | undefined {
  if (isCell(arg)) return arg;
  if (isCellRef(arg)) return findNotebook(arg.notebook)?.cellAt(arg.cell);
  const editor = vscode.window.activeNotebookEditor;
  if (editor === undefined) return undefined;
  const index = editor.selection.start;
  return index < editor.notebook.cellCount ? editor.notebook.cellAt(index) : undefined;
}

/** The notebook a command is about: its argument (a URI, a cell, a `CellRef`), else the active one. */
export function resolveNotebook(arg: unknown): vscode.NotebookDocument | undefined {
  if (arg instanceof vscode.Uri) return findNotebook(arg.toString());
  if (typeof arg === 'string') return findNotebook(arg);
  if (isCell(arg)) return arg.notebook;
  if (isCellRef(arg)) return findNotebook(arg.notebook);
  return vscode.window.activeNotebookEditor?.notebook;
}

export async function revealCell(ref: CellRef): Promise<void> {
  const doc =
    findNotebook(ref.notebook) ??
    (await vscode.workspace.openNotebookDocument(vscode.Uri.parse(ref.notebook)));
  const range = new vscode.NotebookRange(ref.cell, ref.cell + 1);
  // In the editor group already showing the notebook (a click in the graph beside it must not
  // open a second copy of the notebook in the graph's group).
  const viewColumn = editorColumnOf(doc);
  await vscode.window.showNotebookDocument(doc, {
    selections: [range],
    ...(viewColumn !== undefined ? { viewColumn } : {}),
  });
  vscode.window.activeNotebookEditor?.revealRange(
    range,
    vscode.NotebookEditorRevealType.InCenterIfOutsideViewport,
  );
}

/** The column of an editor (visible, else a tab) that shows `doc`, if any. */
function editorColumnOf(doc: vscode.NotebookDocument): vscode.ViewColumn | undefined {
  const visible = vscode.window.visibleNotebookEditors.find((e) => e.notebook === doc);
  if (visible?.viewColumn !== undefined) return visible.viewColumn;
  const uri = doc.uri.toString();
  for (const group of vscode.window.tabGroups.all)
    for (const tab of group.tabs)
      if (tab.input instanceof vscode.TabInputNotebook && tab.input.uri.toString() === uri)
        return group.viewColumn;
  return undefined;
}
