/** Features that run code refuse in an untrusted workspace, saying why. */
import * as vscode from 'vscode';

/** True (after telling the user) when the workspace is not trusted. */
export function needsTrust(what: string): boolean {
  if (vscode.workspace.isTrusted) return false;
  void vscode.window.showWarningMessage(
    `Cellflow: ${what} runs code, so it needs a trusted workspace.`,
  );
  return true;
}
