/**
 * The local model server on a model a real pipeline run trained: predictions equal the model's own
 * in-process predictions (V1 and V2), bad requests get a 400 and the server keeps serving.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalBackend, startLocalModelServer, type LocalModelServer } from '@cellflow/backend';
import { compile, RUNTIME_SOURCE } from '@cellflow/core';
import { notebookJson } from '../../../test/support/notebook-json.js';

const ROWS = [
  [5.1, 3.5, 1.4, 0.2],
  [6.7, 3.0, 5.2, 2.3],
  [5.9, 3.0, 4.2, 1.5],
  [6.3, 2.5, 5.0, 1.9],
];

describe('local model server', () => {
  const workspace = mkdtempSync(join(tmpdir(), 'cellflow-serve-test-'));
  let server: LocalModelServer;
  let modelDir: string;
  before(async () => {
    const text = notebookJson(
      [
        [
          ['imports'],
          'from sklearn.datasets import load_iris\nfrom sklearn.linear_model import LogisticRegression',
        ],
        [
          ['step:train', 'serve:model'],
          'X, y = load_iris(return_X_y=True)\nmodel = LogisticRegression(max_iter=500).fit(X, y)',
        ],
      ],
      { cellflow: { name: 'iris-serve' } },
    );
    const backend = new LocalBackend({ workspace });
    const run = await backend.submit(compile(text).pipeline!);
    let state = '';
    for await (const e of backend.watch(run)) if (e.type === 'run') state = e.state;
    assert.equal(state, 'succeeded');
    modelDir = join(workspace, '.cellflow', 'runs', run.id, 'steps', 'train', 'outputs', 'model');
    server = await startLocalModelServer({ modelDir, name: 'iris' });
    served = { backend, runId: run.id };
  });
  after(async () => {
    await server?.stop();
    await served?.backend.dispose();
    rmSync(workspace, { recursive: true, force: true });
  });
  let served: { backend: LocalBackend; runId: string } | undefined;

  /** The same model, loaded and asked in-process by Python. */
  function inProcess(rows: number[][]): number[] {
    const script = `import json, sys, types\nm = types.ModuleType("r"); exec(sys.argv[1], m.__dict__)\nmodel = m.load_value(sys.argv[2])\nprint(json.dumps(model.predict(json.loads(sys.argv[3])).tolist()))`;
    return JSON.parse(
      execFileSync(
        '/usr/bin/python3',
        ['-c', script, RUNTIME_SOURCE, modelDir, JSON.stringify(rows)],
        { encoding: 'utf8' },
      ),
    ) as number[];
  }

  async function post(path: string, body: string): Promise<{ status: number; json: any }> {
    const res = await fetch(`${server.url}${path}`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
    });
    return { status: res.status, json: await res.json() };
  }

  it('is ready, and answers V1 predictions equal to the model in-process', async () => {
    assert.equal((await fetch(`${server.url}/v2/health/ready`)).status, 200);
    assert.deepEqual(await (await fetch(`${server.url}/v1/models/iris`)).json(), {
      name: 'iris',
      ready: true,
    });
    const answer = await post('/v1/models/iris:predict', JSON.stringify({ instances: ROWS }));
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.json.predictions, inProcess(ROWS));
  });

  it('answers the Open Inference Protocol V2', async () => {
    const metadata = await (await fetch(`${server.url}/v2/models/iris`)).json();
    assert.deepEqual(metadata.inputs[0].shape, [-1, 4]);
    const answer = await post(
      '/v2/models/iris/infer',
      JSON.stringify({
        id: 'r1',
        inputs: [{ name: 'input-0', shape: [4, 4], datatype: 'FP64', data: ROWS.flat() }],
      }),
    );
    assert.equal(answer.status, 200);
    assert.equal(answer.json.id, 'r1');
    assert.deepEqual(answer.json.outputs[0].shape, [4]);
    assert.deepEqual(answer.json.outputs[0].data, inProcess(ROWS));
  });

  it('bad requests get a 400 that says why, and the server keeps serving', async () => {
    const notJson = await post('/v1/models/iris:predict', '{"instances": [[1, 2');
    assert.equal(notJson.status, 400);
    assert.match(notJson.json.error, /not JSON/);
    const wrongWidth = await post(
      '/v1/models/iris:predict',
      JSON.stringify({ instances: [[1, 2, 3]] }),
    );
    assert.equal(wrongWidth.status, 400);
    assert.match(wrongWidth.json.error, /needs 4 features; got 3/);
    const badShape = await post(
      '/v2/models/iris/infer',
      JSON.stringify({ inputs: [{ name: 'x', shape: [2, 4], datatype: 'FP64', data: [1, 2, 3] }] }),
    );
    assert.equal(badShape.status, 400);
    assert.equal(
      (await fetch(`${server.url}/v1/models/nope:predict`, { method: 'POST', body: '{}' })).status,
      404,
    );
    const again = await post('/v1/models/iris:predict', JSON.stringify({ instances: [ROWS[0]] }));
    assert.deepEqual(again.json.predictions, inProcess([ROWS[0]!]));
  });

  it('LocalBackend.serve lists the endpoint, serves it, and deleteEndpoint stops it', async () => {
    const { backend, runId } = served!;
    await assert.rejects(
      backend.serve({ runId, step: 'train', variable: 'X_missing' }),
      /saved no `X_missing` in step `train`.*serve:X_missing/,
    );
    const ref = await backend.serve({ runId, step: 'train', variable: 'model' });
    assert.equal(ref.name, 'iris-serve-model');
    const [endpoint] = await backend.listEndpoints();
    assert.deepEqual(
      [endpoint?.name, endpoint?.state, endpoint?.target],
      ['iris-serve-model', 'ready', 'local'],
    );
    const res = await fetch(`${endpoint!.url}/v1/models/iris-serve-model:predict`, {
      method: 'POST',
      body: JSON.stringify({ instances: ROWS }),
    });
    assert.deepEqual(
      ((await res.json()) as { predictions: number[] }).predictions,
      inProcess(ROWS),
    );
    await backend.deleteEndpoint(ref);
    assert.deepEqual(await backend.listEndpoints(), []);
    await assert.rejects(fetch(`${endpoint!.url}/v2/health/ready`));
  });

  it('stops with its process group', async () => {
    const pid = server.pid;
    await server.stop();
    assert.throws(() => process.kill(pid, 0), /ESRCH/);
  });
});
