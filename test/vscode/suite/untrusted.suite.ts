/**
 * The extension in a workspace that is not trusted (restricted mode): commands that run code
 * refuse, read-only features work.
 */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';

interface Api {
  tracker: { runs(): unknown[] };
  studies: { studies(): unknown[] };
}

suite('Cellflow in an untrusted workspace', () => {
  let api: Api;
  let doc: vscode.NotebookDocument;

  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension<Api>('cellflow.cellflow');
    assert.ok(ext, 'the extension is installed');
    api = await ext.activate();
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder);
    doc = await vscode.workspace.openNotebookDocument(
      vscode.Uri.joinPath(folder.uri, 'digits.ipynb'),
    );
    await vscode.window.showNotebookDocument(doc);
  });

  test('the workspace is in restricted mode', () => {
    assert.equal(vscode.workspace.isTrusted, false);
  });

  test('run, deploy, tune and serve refuse without starting anything', async () => {
    for (const command of [
      'cellflow.runLocally',
      'cellflow.deployToCluster',
      'cellflow.tuneHyperparameters',
      'cellflow.serveModel',
    ])
      assert.equal(await vscode.commands.executeCommand(command, doc.uri), undefined, command);
    assert.deepEqual(api.tracker.runs(), []);
    assert.deepEqual(api.studies.studies(), []);
  });

  test('tags, Compile to YAML and the graph still work', async () => {
    const ref = { notebook: doc.uri.toString(), cell: 7 };
    assert.equal(await vscode.commands.executeCommand('cellflow.setStep', ref, 'hold_out'), true);
    assert.deepEqual(doc.cellAt(7).metadata.metadata?.tags, ['step:hold_out']);
    const yaml = await vscode.commands.executeCommand<string | undefined>(
      'cellflow.compileToYaml',
      doc.uri,
    );
    assert.match(yaml ?? '', /hold-out/);
    await vscode.commands.executeCommand('cellflow.showGraph', doc.uri);
  });
});
