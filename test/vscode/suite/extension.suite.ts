/** The extension in a real VS Code: tags through commands, diagnostics, a local run of digits. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { results } from './index';

/** The parts of the extension's API these tests read (see packages/vscode/src/extension.ts). */
interface Api {
  activationMs: number;
  runner: {
    whenFinished(
      runId: string,
    ): Promise<{ state: string; target: string; metrics: Record<string, unknown> }> | undefined;
    lastLogTerminal?: { lines: string[]; done: Promise<void> };
  };
  runsView: {
    model(): Promise<
      {
        ref: { id: string; pipeline: string };
        target: string;
        state: string;
        steps: {
          name: string;
          state: string;
          outputs?: Record<string, { uri: string; type: string }>;
        }[];
      }[]
    >;
  };
  cellStatus: {
    provideCellStatusBarItems(cell: vscode.NotebookCell): vscode.NotebookCellStatusBarItem[];
  };
  graphs: { layout?: { nodes: { name: string }[]; edges: unknown[] } };
  clusterView: {
    model(): Promise<{ label: string; value: string; children?: { label: string }[] }[]>;
  };
  endpointsView: {
    model(): Promise<{ endpoint: { name: string; state: string; url: string; target: string } }[]>;
  };
  testers: {
    viewReady: boolean;
    send(body: string): Promise<{ answer?: { status: number; body: string; latencyMs: number } }>;
  };
  runDetails: { viewReady: boolean };
  tuning: {
    whenFinished(id: string):
      | Promise<
          | {
              state: string;
              trials: { state: string }[];
              best: { parameters: Record<string, number>; objective: number } | null;
            }
          | undefined
        >
      | undefined;
  };
  tuningView: {
    model(): Promise<
      { summary: { id: string; pipeline: string }; backend: { target: { kind: string } } }[]
    >;
  };
  tuningPanels: { viewReady: boolean };
  diagnostics: {
    provideCodeActions(
      doc: vscode.TextDocument,
      range: vscode.Range,
      context: vscode.CodeActionContext,
    ): vscode.CodeAction[];
  };
}

const folder = (): vscode.Uri => {
  const f = vscode.workspace.workspaceFolders?.[0];
  assert.ok(f, 'a workspace folder is open');
  return f.uri;
};

async function openNotebook(name: string): Promise<vscode.NotebookDocument> {
  const doc = await vscode.workspace.openNotebookDocument(vscode.Uri.joinPath(folder(), name));
  await vscode.window.showNotebookDocument(doc);
  return doc;
}

/** An nbformat v4 code cell with `tags`. */
const code = (source: string, tags: string[]): object => ({
  cell_type: 'code',
  execution_count: null,
  metadata: { tags },
  outputs: [],
  source,
});

/** Writes an nbformat v4 notebook of `cells` into the workspace folder and opens it. */
async function openNewNotebook(
  name: string,
  metadata: object,
  cells: object[],
): Promise<vscode.NotebookDocument> {
  const nb = { nbformat: 4, nbformat_minor: 5, metadata, cells };
  writeFileSync(vscode.Uri.joinPath(folder(), name).fsPath, JSON.stringify(nb));
  return openNotebook(name);
}

function tagsOnDisk(doc: vscode.NotebookDocument, cell: number): unknown {
  const json = JSON.parse(readFileSync(doc.uri.fsPath, 'utf8')) as {
    cells: { metadata?: { tags?: unknown } }[];
  };
  return json.cells[cell]?.metadata?.tags;
}

async function until<T>(what: string, get: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = get();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const statusTexts = (api: Api, cell: vscode.NotebookCell): string[] =>
  api.cellStatus.provideCellStatusBarItems(cell).map((i) => i.text);

const parseTags = (cell: vscode.NotebookCell): unknown =>
  (cell.metadata.metadata as { tags?: unknown } | undefined)?.tags;

suite('Cellflow in VS Code', () => {
  let api: Api;

  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension<Api>('cellflow.cellflow');
    assert.ok(ext, 'the extension is installed');
    assert.equal(ext.isActive, false, 'nothing activated it before a notebook opened');
    // Activation as the host does it on opening a notebook: load the bundle, run activate().
    const t0 = performance.now();
    api = await ext.activate();
    results.measurements.activationWallMs = performance.now() - t0;
    results.measurements.activationMs = api.activationMs;
    await openNotebook('tagging.ipynb');
  });

  test('Set Step writes metadata.tags through the formatter; status shows the role', async () => {
    const doc = await openNotebook('tagging.ipynb');
    const ref = { notebook: doc.uri.toString(), cell: 7 };
    assert.equal(await vscode.commands.executeCommand('cellflow.setStep', ref, 'hold_out'), true);
    await vscode.commands.executeCommand('cellflow.addDependency', ref, 'load_data');
    await vscode.commands.executeCommand('cellflow.setGpu', ref, {
      count: 1,
      product: 'NVIDIA-A100-SXM4-80GB',
    });
    assert.ok(await doc.save());
    assert.deepEqual(tagsOnDisk(doc, 7), [
      'step:hold_out',
      'prev:load_data',
      'gpu:1:NVIDIA-A100-SXM4-80GB',
    ]);
    assert.deepEqual(statusTexts(api, doc.cellAt(7)), [
      'step: hold_out',
      'after: load_data',
      'GPU 1 × A100',
    ]);
    await vscode.commands.executeCommand('cellflow.markSkip', ref);
    await vscode.commands.executeCommand('cellflow.setGpu', ref, null);
    await vscode.commands.executeCommand('cellflow.removeDependency', ref, 'load_data');
    assert.ok(await doc.save());
    assert.deepEqual(tagsOnDisk(doc, 7), ['skip']);
  });

  test('a tag change is one undoable notebook edit', async () => {
    const doc = await openNotebook('tagging.ipynb');
    const ref = { notebook: doc.uri.toString(), cell: 5 };
    assert.deepEqual(doc.cellAt(5).metadata.metadata?.tags, ['step:load_data']);
    await vscode.commands.executeCommand('cellflow.setStep', ref, 'fetch');
    assert.deepEqual(doc.cellAt(5).metadata.metadata?.tags, ['step:fetch']);
    // `undo` goes to whatever has focus: wait until it is this notebook's cell list.
    await vscode.commands.executeCommand('notebook.focusTop');
    await until('the notebook to have focus', () =>
      vscode.window.activeNotebookEditor?.notebook === doc && !vscode.window.activeTextEditor
        ? true
        : undefined,
    );
    await vscode.commands.executeCommand('undo');
    await until('the edit to be undone', () =>
      JSON.stringify(doc.cellAt(5).metadata.metadata?.tags) === '["step:load_data"]'
        ? true
        : undefined,
    );
  });

  test('diagnostics appear on the cell, and the quick fix applies core\u2019s tags', async () => {
    const doc = await openNotebook('tagging.ipynb');
    const cell = doc.cellAt(13);
    await vscode.commands.executeCommand(
      'cellflow.applyTags',
      { notebook: doc.uri.toString(), cell: 13 },
      ['step:Load Data 2'],
    );
    const shown = await until('a bad-step-name diagnostic', () =>
      vscode.languages
        .getDiagnostics(cell.document.uri)
        .find((d) => d.source === 'cellflow' && d.code === 'bad-step-name'),
    );
    assert.equal(shown.severity, vscode.DiagnosticSeverity.Error);
    // The provider VS Code calls for the light bulb, given what the Problems view shows.
    const actions = api.diagnostics.provideCodeActions(cell.document, shown.range, {
      diagnostics: [shown],
      triggerKind: vscode.CodeActionTriggerKind.Invoke,
      only: undefined,
    });
    const fix = actions.find((a) => a.title.includes('load_data_2'));
    assert.ok(fix?.command, `a quick fix among ${actions.map((a) => a.title).join(', ')}`);
    await vscode.commands.executeCommand(fix.command.command, ...(fix.command.arguments ?? []));
    assert.ok(await doc.save());
    assert.deepEqual(tagsOnDisk(doc, 13), ['step:load_data_2']);
    await until('the diagnostic to go', () =>
      vscode.languages.getDiagnostics(cell.document.uri).some((d) => d.code === 'bad-step-name')
        ? undefined
        : true,
    );
  });

  test('Run Pipeline Locally runs digits: Runs view and cell status follow it', async () => {
    const doc = await openNotebook('digits.ipynb');
    const runId = await vscode.commands.executeCommand<string | undefined>(
      'cellflow.runLocally',
      doc.uri,
    );
    assert.ok(runId, 'the run started');
    const started = Date.now();
    const run = await api.runner.whenFinished(runId);
    assert.equal(run?.state, 'succeeded');
    results.measurements.digitsRunMs = Date.now() - started;
    const model = await api.runsView.model();
    assert.equal(model[0]?.ref.id, runId);
    assert.equal(model[0]?.state, 'succeeded');
    assert.deepEqual(
      model[0]?.steps.map((s) => `${s.name}:${s.state}`),
      ['load_data', 'split', 'train_logistic', 'train_svm', 'train_forest', 'pick_best'].map(
        (s) => `${s}:succeeded`,
      ),
    );
    const texts = statusTexts(api, doc.cellAt(5));
    assert.ok(texts.includes('step: load_data'), texts.join(' | '));
    assert.ok(
      texts.some((t) => /^\$\(pass\) succeeded \d/.test(t)),
      texts.join(' | '),
    );
  });

  test('a failing step puts an error on the failing line of its cell', async () => {
    const doc = await openNewNotebook('failing.ipynb', {}, [
      code('x = 1', ['step:make']),
      code('y = x + 1\nz = y / 0\nprint(z)', ['step:divide']),
    ]);
    const runId = await vscode.commands.executeCommand<string | undefined>(
      'cellflow.runLocally',
      doc.uri,
    );
    assert.ok(runId, 'the run started');
    const run = await api.runner.whenFinished(runId);
    assert.equal(run?.state, 'failed');
    const cell = doc.cellAt(1);
    const error = await until('the failure on the cell', () =>
      vscode.languages.getDiagnostics(cell.document.uri).find((d) => d.source === 'cellflow run'),
    );
    assert.equal(error.range.start.line, 1, error.message);
    assert.match(error.message, /ZeroDivisionError/);
    const texts = statusTexts(api, cell);
    assert.ok(
      texts.some((t) => t.startsWith('$(error) failed')),
      texts.join(' | '),
    );
  });

  test('issue 20: a cell without a role tag says what it continues', async () => {
    const doc = await openNewNotebook('continues.ipynb', {}, [
      code('N = 3', ['pipeline-parameters']),
      code('scratch = N * 2', []),
      code('x = N', ['step:make']),
      code('y = x + 1', []),
    ]);
    const scratch = statusTexts(api, doc.cellAt(1));
    assert.ok(scratch.includes('↳ continues parameters'), scratch.join(' | '));
    assert.match(
      api.cellStatus.provideCellStatusBarItems(doc.cellAt(1))[0]!.tooltip as string,
      /its variables become pipeline parameters/,
    );
    const joined = statusTexts(api, doc.cellAt(3));
    assert.ok(joined.includes('↳ continues make'), joined.join(' | '));
    assert.ok(!statusTexts(api, doc.cellAt(2)).some((t) => t.startsWith('↳')));
  });

  test('issue 20: a failure mark goes once the failing cell changes', async () => {
    const doc = await openNewNotebook('failing-then-fixed.ipynb', {}, [
      code('x = 1', ['step:make']),
      code('y = x + 1\nz = y / 0\nprint(z)', ['step:divide']),
    ]);
    const runId = await vscode.commands.executeCommand<string | undefined>(
      'cellflow.runLocally',
      doc.uri,
    );
    assert.ok(runId, 'the run started');
    assert.equal((await api.runner.whenFinished(runId))?.state, 'failed');
    const cell = doc.cellAt(1);
    const failure = await until('the failure on the cell', () =>
      vscode.languages.getDiagnostics(cell.document.uri).find((d) => d.source === 'cellflow run'),
    );
    // The message names the cell as the editor numbers it ("Cell 2 of 2"), not by its index.
    assert.match(failure.message, /failed at cell 2, line 2: ZeroDivisionError/);
    assert.ok(statusTexts(api, cell).some((t) => t.startsWith('$(error) failed')));
    const edit = new vscode.WorkspaceEdit();
    edit.replace(cell.document.uri, cell.document.lineAt(1).range, 'z = y / 2');
    assert.ok(await vscode.workspace.applyEdit(edit));
    await until('the failure mark to go', () =>
      vscode.languages.getDiagnostics(cell.document.uri).some((d) => d.source === 'cellflow run')
        ? undefined
        : true,
    );
    const texts = statusTexts(api, cell);
    assert.ok(!texts.some((t) => t.includes('failed')), texts.join(' | '));
    assert.deepEqual(texts, ['step: divide', 'after: make']);
  });

  test('issue 20: with cellflow.run.withoutGpus a gpu: notebook runs here without GPUs', async () => {
    const settings = vscode.workspace.getConfiguration('cellflow');
    await settings.update('run.withoutGpus', true, vscode.ConfigurationTarget.Global);
    try {
      const doc = await openNewNotebook('gpu.ipynb', {}, [
        code('x = 21', ['step:make', 'gpu:1']),
        code('y = x * 2\nprint(y)', ['step:double']),
      ]);
      const runId = await vscode.commands.executeCommand<string | undefined>(
        'cellflow.runLocally',
        doc.uri,
      );
      assert.ok(runId, 'the run started instead of being refused');
      assert.equal((await api.runner.whenFinished(runId))?.state, 'succeeded');
      assert.ok(statusTexts(api, doc.cellAt(0)).includes('GPU 1'));
    } finally {
      await settings.update('run.withoutGpus', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  test('issue 20: the cells show after: from the graph and serve: tags; Mark Model to Serve writes one', async () => {
    const doc = await openNotebook('digits.ipynb');
    // train_svm loads split's arrays: no prev: tag, the graph says so.
    const svm = doc.cellAt(10);
    const ref = { notebook: doc.uri.toString(), cell: 10 };
    await vscode.commands.executeCommand('cellflow.applyTags', ref, ['step:train_svm']);
    assert.ok(statusTexts(api, svm).includes('after: split'), statusTexts(api, svm).join(' | '));
    assert.equal(await vscode.commands.executeCommand('cellflow.setServe', ref, 'svm'), true);
    assert.deepEqual(parseTags(svm), ['step:train_svm', 'serve:svm']);
    await until('the serve item', () =>
      statusTexts(api, svm).includes('serve: svm') ? true : undefined,
    );
  });

  test('Show Pipeline Graph opens the webview, which loads under its CSP and asks for the graph', async () => {
    const doc = await openNotebook('digits.ipynb');
    await vscode.commands.executeCommand('cellflow.showGraph', doc.uri);
    // The layout is sent when the webview's script has loaded and posted `ready`.
    const layout = await until(
      'the graph webview to ask for the graph',
      () => api.graphs.layout,
      30_000,
    );
    assert.deepEqual(
      layout.nodes.map((n) => n.name),
      ['load_data', 'split', 'train_logistic', 'train_svm', 'train_forest', 'pick_best'],
    );
    assert.ok(layout.edges.length >= 7, `${layout.edges.length} edges`);
  });

  test('Deploy Pipeline to Cluster runs digits on the cluster: cells, Runs and Cluster views follow', async function () {
    if (process.env.CELLFLOW_TEST_CLUSTER !== '1') this.skip();
    const doc = await openNotebook('digits.ipynb');
    const t0 = Date.now();
    const runId = await vscode.commands.executeCommand<string | undefined>(
      'cellflow.deployToCluster',
      doc.uri,
      { context: 'admin', namespace: 'kubeflow', parameters: { TEST_SIZE: 0.3 } },
    );
    assert.ok(runId, 'the run was submitted');
    const run = await api.runner.whenFinished(runId);
    assert.equal(run?.state, 'succeeded');
    assert.equal(run?.target, 'cluster');
    results.measurements.clusterRunMs = Date.now() - t0;
    const texts = statusTexts(api, doc.cellAt(5));
    assert.ok(
      texts.some((t) => /^\$\(pass\) succeeded/.test(t)),
      texts.join(' | '),
    );
    const model = await api.runsView.model();
    const listed = model.filter((r) => r.ref.id === runId);
    assert.equal(listed.length, 1, 'the live run is listed once, not again from the cluster');
    assert.equal(listed[0]?.target, 'cluster');
    // What the steps reported in their logs: the run's metrics, train_svm's saved model.
    assert.deepEqual(run?.metrics, { 'best-accuracy': 0.9667 });
    assert.deepEqual(listed[0]?.steps.find((s) => s.name === 'train_svm')?.outputs, {
      svm: {
        uri: `minio://mlpipeline/v2/artifacts/digits/${runId}/train-svm/svm`,
        type: 'sklearn.svm._classes.SVC',
      },
    });

    const rows = await api.clusterView.model();
    const row = (label: string): string | undefined => rows.find((r) => r.label === label)?.value;
    assert.equal(row('Context'), 'admin');
    assert.equal(row('Namespace'), 'kubeflow');
    assert.equal(row('Kubeflow Pipelines'), 'reachable');
    const gpus = rows.find((r) => r.label === 'GPUs');
    assert.ok(
      gpus?.children?.some((c) => c.label === 'NVIDIA-A100-SXM4-80GB'),
      JSON.stringify(gpus),
    );

    // Logs stream into a pseudo-terminal from the pod, through the API server.
    await vscode.commands.executeCommand('cellflow.showStepLogs', {
      runId,
      pipeline: 'digits',
      step: 'load_data',
      target: 'cluster',
    });
    const terminal = api.runner.lastLogTerminal;
    assert.ok(terminal, 'a log terminal opened');
    await terminal.done;
    assert.deepEqual(terminal.lines, ['loaded 1797 images']);

    // Its cells' outputs, read back from the cluster (the steps' logs here): Show Run Outputs
    // opens the run's notebook beside, and the toggle puts them on the notebook's own cells.
    const shown = await vscode.commands.executeCommand<string | undefined>(
      'cellflow.showRunOutputs',
      runId,
    );
    assert.ok(shown, "Show Run Outputs opened the cluster run's notebook");
    const executed = vscode.workspace.notebookDocuments.find((d) => d.uri.toString() === shown);
    const pickBest = executed?.cellAt(13);
    assert.equal(pickBest?.document.getText().startsWith('candidates = {'), true);
    const text = (pickBest?.outputs ?? [])
      .flatMap((o) => o.items)
      .map((i) => new TextDecoder().decode(i.data))
      .join('');
    assert.equal(text, 'best-accuracy=0.9667\n');
    await vscode.window.showNotebookDocument(doc);
    assert.equal(
      await vscode.commands.executeCommand('cellflow.toggleRunOutputsInline', doc.uri),
      runId,
      "the toggle shows the cluster run's outputs on the cells",
    );
    assert.equal(
      await vscode.commands.executeCommand('cellflow.toggleRunOutputsInline', doc.uri),
      undefined,
    );

    // Re-run: the same notebook and parameters, on the cluster again.
    const again = await vscode.commands.executeCommand<string | undefined>('cellflow.rerun', runId);
    assert.ok(again !== undefined && again !== runId, 'a new run');
    const rerun = await api.runner.whenFinished(again);
    assert.deepEqual([rerun?.state, rerun?.target], ['succeeded', 'cluster']);
    assert.equal(
      await vscode.commands.executeCommand('cellflow.switchClusterContext', 'admin', 'kubeflow'),
      'admin',
    );
  });

  test('Deploy offers upload as a new version and schedule (issue 14)', async function () {
    if (process.env.CELLFLOW_TEST_CLUSTER !== '1') this.skip();
    const doc = await openNotebook('digits.ipynb');
    const cluster = { context: 'admin', namespace: 'kubeflow' };
    const first = await vscode.commands.executeCommand<string | undefined>(
      'cellflow.deployToCluster',
      doc.uri,
      { ...cluster, mode: 'upload' },
    );
    const second = await vscode.commands.executeCommand<string | undefined>(
      'cellflow.deployToCluster',
      doc.uri,
      { ...cluster, mode: 'upload' },
    );
    assert.ok(first !== undefined && second !== undefined, 'both uploads made a version');
    assert.notEqual(first, second, 'every upload is a new version');
    const schedule = await vscode.commands.executeCommand<string | undefined>(
      'cellflow.deployToCluster',
      doc.uri,
      { ...cluster, mode: 'schedule', trigger: '1h', parameters: { TEST_SIZE: 0.3 } },
    );
    assert.ok(schedule, 'the schedule was created');
    assert.notEqual(schedule, second);
  });

  test('Serve Model serves a trained model locally; the tester sends its example; delete stops it', async () => {
    const doc = await openNewNotebook('iris.ipynb', { cellflow: { name: 'iris-serve' } }, [
      code(
        'from sklearn.datasets import load_iris\nfrom sklearn.linear_model import LogisticRegression',
        ['imports'],
      ),
      code(
        'X, y = load_iris(return_X_y=True)\nmodel = LogisticRegression(max_iter=500).fit(X, y)',
        ['step:train', 'serve:model'],
      ),
    ]);
    const runId = await vscode.commands.executeCommand<string | undefined>(
      'cellflow.runLocally',
      doc.uri,
    );
    assert.ok(runId);
    assert.equal((await api.runner.whenFinished(runId))?.state, 'succeeded');

    const details = await vscode.commands.executeCommand<{
      steps: { name: string; state: string }[];
    }>('cellflow.showRunDetails', runId);
    assert.deepEqual(
      details?.steps.map((s) => `${s.name}:${s.state}`),
      ['train:succeeded'],
    );
    await until(
      'the run details webview to load',
      () => (api.runDetails.viewReady ? true : undefined),
      30_000,
    );

    const name = await vscode.commands.executeCommand<string | undefined>(
      'cellflow.serveModel',
      doc.uri,
      {
        runId,
        target: 'local',
      },
    );
    assert.equal(name, 'iris-serve-model');
    const listed = (await api.endpointsView.model()).map((i) => i.endpoint);
    assert.deepEqual(
      listed.map((e) => [e.name, e.state, e.target]),
      [['iris-serve-model', 'ready', 'local']],
    );
    assert.match(listed[0]!.url, /^http:\/\/127\.0\.0\.1:\d+$/);

    const exchange = await vscode.commands.executeCommand<{ example: string }>(
      'cellflow.testEndpoint',
      {
        name,
      },
    );
    assert.deepEqual(JSON.parse(exchange.example), { instances: [[0, 0, 0, 0]] });
    await until(
      'the tester webview to load',
      () => (api.testers.viewReady ? true : undefined),
      30_000,
    );
    const sent = await api.testers.send(exchange.example);
    assert.equal(sent.answer?.status, 200, sent.answer?.body);
    const answer = JSON.parse(sent.answer.body) as { predictions: number[] };
    assert.equal(answer.predictions.length, 1);
    assert.ok(sent.answer.latencyMs > 0);
    results.measurements.endpointLatencyMs = sent.answer.latencyMs;

    assert.equal(
      await vscode.commands.executeCommand('cellflow.deleteEndpoint', { name, confirmed: true }),
      true,
    );
    assert.deepEqual(await api.endpointsView.model(), []);

    // Issue 20: one left serving when the editor goes; the Node test checks that it goes too.
    const left = await vscode.commands.executeCommand<string | undefined>(
      'cellflow.serveModel',
      doc.uri,
      { runId, target: 'local', name: 'iris-left-serving' },
    );
    assert.equal(left, 'iris-left-serving');
    const url = (await api.endpointsView.model()).find((e) => e.endpoint.name === left)?.endpoint
      .url;
    assert.ok(url);
    const port = Number(new URL(url).port);
    // Its temp folder (the one whose ready file names the port), as this host sees /tmp.
    const servers = readdirSync(tmpdir()).filter((n) => n.startsWith('cellflow-serve-'));
    const own = servers.find((n) => {
      try {
        const ready = JSON.parse(readFileSync(join(tmpdir(), n, 'ready.json'), 'utf8')) as {
          port?: number;
        };
        return ready.port === port;
      } catch {
        return false;
      }
    });
    assert.ok(
      own !== undefined,
      `a cellflow-serve-* folder has port ${port}: ${servers.join(', ')}`,
    );
    const live = await fetch(`${url}/v2/health/live`);
    assert.equal(live.status, 200);
    writeFileSync(
      vscode.Uri.joinPath(folder(), 'left-serving.json').fsPath,
      JSON.stringify({ port, folder: join(tmpdir(), own) }),
    );
  });

  test('Tune Hyperparameters stores the study, runs trials, and Apply Best rewrites the parameters cell (undoable)', async () => {
    const doc = await openNewNotebook('tune.ipynb', { cellflow: { name: 'iris-tune' } }, [
      code(
        'from sklearn.datasets import load_iris\nfrom sklearn.linear_model import LogisticRegression\nfrom sklearn.model_selection import cross_val_score',
        ['imports'],
      ),
      code('C = 1.0  # inverse regularization\nMAX_ITER = 300', ['pipeline-parameters']),
      code(
        'X, y = load_iris(return_X_y=True)\naccuracy = cross_val_score(LogisticRegression(C=C, max_iter=MAX_ITER), X, y, cv=3).mean()',
        ['step:train'],
      ),
      code('print(accuracy)', ['pipeline-metrics']),
    ]);
    const study = {
      objective: 'accuracy',
      goal: 'maximize',
      algorithm: 'random',
      maxTrials: 3,
      parallelTrials: 3,
      maxFailedTrials: 1,
      seed: 3,
      parameters: { C: { min: 0.0001, max: 10, scale: 'log' } },
    };
    const t0 = Date.now();
    const id = await vscode.commands.executeCommand<string | undefined>(
      'cellflow.tuneHyperparameters',
      doc.uri,
      { study, target: 'local' },
    );
    assert.ok(id, 'the study started');
    const stored = (doc.metadata.metadata as { cellflow?: { tuning?: { objective?: string } } })
      .cellflow?.tuning;
    assert.equal(stored?.objective, 'accuracy', 'the study is in metadata.cellflow.tuning');
    const done = await api.tuning.whenFinished(id);
    results.measurements.tuningMs = Date.now() - t0;
    assert.equal(done?.state, 'succeeded');
    assert.equal(done?.trials.length, 3);
    assert.ok(done?.best, 'a best trial');
    const listed = (await api.tuningView.model()).find((s) => s.summary.id === id);
    assert.equal(listed?.summary.pipeline, 'iris-tune');
    // The study carries the backend it went to, as a run does (issue 15): no side table.
    assert.equal(listed.backend.target.kind, 'local');
    // Cancel reaches that backend; the study is over, so nothing changes and nothing fails.
    await vscode.commands.executeCommand('cellflow.cancelStudy', id);

    const shown = await vscode.commands.executeCommand<{ trials: unknown[]; bestTrialId: string }>(
      'cellflow.showTuningResults',
      id,
    );
    assert.equal(shown.trials.length, 3);
    await until(
      'the tuning results webview to load',
      () => (api.tuningPanels.viewReady ? true : undefined),
      30_000,
    );

    const changes = await vscode.commands.executeCommand<
      { name: string; before: string; after: string }[]
    >('cellflow.applyBestParameters', id);
    assert.deepEqual(
      changes.map((c) => [c.name, c.before]),
      [['C', '1.0']],
    );
    const params = doc.cellAt(1).document;
    assert.equal(params.lineAt(0).text, `C = ${changes[0]!.after}  # inverse regularization`);
    assert.equal(Number(changes[0]!.after), done.best.parameters.C);
    assert.equal(params.lineAt(1).text, 'MAX_ITER = 300');
    // Undo in the parameters cell's editor restores the old value.
    await vscode.window.showNotebookDocument(doc, {
      selections: [new vscode.NotebookRange(1, 2)],
    });
    await vscode.commands.executeCommand('notebook.cell.edit');
    await until('the parameters cell editor to have focus', () =>
      vscode.window.activeTextEditor?.document === params ? true : undefined,
    );
    await vscode.commands.executeCommand('undo');
    await until('the parameter edit to be undone', () =>
      params.lineAt(0).text === 'C = 1.0  # inverse regularization' ? true : undefined,
    );
  });
});
