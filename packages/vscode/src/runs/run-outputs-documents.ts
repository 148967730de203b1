/**
 * Runs' executed notebooks as read-only documents: `cellflow-run-outputs:/<run>/<name>.ipynb`
 * opens in VS Code's own notebook editor, each cell's outputs (tables, plots, errors) shown by VS
 * Code's renderers. Nothing is written: the file system is served from the run's history.
 */
import * as vscode from 'vscode';

export const RUN_OUTPUTS_SCHEME = 'cellflow-run-outputs';

export class RunOutputsDocuments implements vscode.FileSystemProvider {
  private readonly sources = new Map<string, () => Promise<unknown>>();
  private readonly changed = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.changed.event;

  /** Registers the file system; dispose to remove it. */
  register(): vscode.Disposable {
    return vscode.Disposable.from(
      vscode.workspace.registerFileSystemProvider(RUN_OUTPUTS_SCHEME, this, {
        isReadonly: true,
        isCaseSensitive: true,
      }),
      this.changed,
    );
  }

  /** The document of a run's executed notebook, read by `read` each time it is opened. */
  uriFor(runId: string, pipeline: string, read: () => Promise<unknown>): vscode.Uri {
    const uri = vscode.Uri.from({
      scheme: RUN_OUTPUTS_SCHEME,
      path: `/${runId}/${pipeline || 'run'} outputs.ipynb`,
    });
    this.sources.set(uri.path, read);
    return uri;
  }

  async readFile(uri: vscode.Uri): Promise<Uint8Array> {
    const read = this.sources.get(uri.path);
    if (read === undefined) throw vscode.FileSystemError.FileNotFound(uri);
    return new TextEncoder().encode(`${JSON.stringify(await read(), null, 1)}\n`);
  }

  stat(uri: vscode.Uri): vscode.FileStat {
    if (!this.sources.has(uri.path)) throw vscode.FileSystemError.FileNotFound(uri);
    return {
      type: vscode.FileType.File,
      ctime: 0,
      mtime: 0,
      size: 0,
      permissions: vscode.FilePermission.Readonly,
    };
  }

  watch(): vscode.Disposable {
    return new vscode.Disposable(() => undefined);
  }

  readDirectory(): [string, vscode.FileType][] {
    return [];
  }

  createDirectory(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  writeFile(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  delete(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  rename(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }
}
