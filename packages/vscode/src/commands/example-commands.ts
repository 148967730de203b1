/** Open Example Notebook: the walkthrough's first step. */
import * as vscode from 'vscode';
import type { CommandKey } from '../command-ids.js';
import type { CommandFactory } from './command-context.js';

/**
 * Copies the digits example shipped with the extension into the first workspace folder (unless a
 * `digits.ipynb` is there already) and opens it; without a folder, opens the shipped copy.
 */
const openExample: CommandFactory = (ctx) => async () => {
  const shipped = vscode.Uri.joinPath(ctx.extensionUri, 'examples', 'digits.ipynb');
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  let target = shipped;
  if (folder !== undefined) {
    target = vscode.Uri.joinPath(folder, 'digits.ipynb');
    try {
      await vscode.workspace.fs.stat(target);
    } catch {
      await vscode.workspace.fs.copy(shipped, target);
    }
  }
  const doc = await vscode.workspace.openNotebookDocument(target);
  await vscode.window.showNotebookDocument(doc);
  return target.toString();
};

export const exampleCommands = { openExample } satisfies Partial<
  Record<CommandKey, CommandFactory>
>;
