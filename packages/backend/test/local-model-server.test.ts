/**
 * The local model server on a model a real pipeline run trained: predictions equal the model's own
 * in-process predictions (V1 and V2), bad requests get a 400 and the server keeps serving;
 * concurrent requests, stacked into shared predict() calls, each get their own rows; keep-alive
 * connections answer pipelined requests in order, each answer in one write.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
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
  const runtimeFile = join(workspace, 'runtime.py');
  writeFileSync(runtimeFile, RUNTIME_SOURCE);
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
    // The runtime from its file: it is longer than one command-line argument may be.
    const script = `import json, sys, types\nm = types.ModuleType("r"); exec(open(sys.argv[1]).read(), m.__dict__)\nmodel = m.load_value(sys.argv[2])\nprint(json.dumps(model.predict(json.loads(sys.argv[3])).tolist()))`;
    return JSON.parse(
      execFileSync(
        '/usr/bin/python3',
        ['-c', script, runtimeFile, modelDir, JSON.stringify(rows)],
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

  it('concurrent requests, V1 and V2, each get exactly their own rows back', async () => {
    const expected = inProcess(ROWS);
    const requests = Array.from({ length: 96 }, (_, i) => {
      const picks = Array.from({ length: 1 + (i % 3) }, (_, k) => (i + k * 3) % ROWS.length);
      return { picks, v2: i % 4 === 3, bad: i % 17 === 5 };
    });
    const answers = await Promise.all(
      requests.map(({ picks, v2, bad }) => {
        const rows = picks.map((p) => (bad ? ROWS[p]!.slice(1) : ROWS[p]!));
        return v2
          ? post(
              '/v2/models/iris/infer',
              JSON.stringify({
                inputs: [
                  { name: 'x', shape: [rows.length, 4], datatype: 'FP64', data: rows.flat() },
                ],
              }),
            )
          : post('/v1/models/iris:predict', JSON.stringify({ instances: rows }));
      }),
    );
    requests.forEach(({ picks, v2, bad }, i) => {
      const answer = answers[i]!;
      if (bad) {
        assert.equal(answer.status, 400);
        return;
      }
      assert.equal(answer.status, 200);
      const got = v2 ? answer.json.outputs[0].data : answer.json.predictions;
      assert.deepEqual(
        got,
        picks.map((p) => expected[p]),
        `request ${i}`,
      );
    });
  });

  /** Writes `raw` at once on a fresh keep-alive connection; resolves with `count` answers. */
  async function exchange(
    raw: string,
    count: number,
  ): Promise<{ chunks: Buffer[]; answers: { status: number; body: string }[] }> {
    const { hostname, port } = new URL(server.url);
    const socket: Socket = connect({ host: hostname, port: Number(port) });
    await once(socket, 'connect');
    const chunks: Buffer[] = [];
    const answers: { status: number; body: string }[] = [];
    let pending: Buffer = Buffer.alloc(0);
    socket.write(raw);
    await new Promise<void>((resolve, reject) => {
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        pending = Buffer.concat([pending, chunk]);
        for (;;) {
          const headEnd = pending.indexOf('\r\n\r\n');
          if (headEnd < 0) return;
          const head = pending.subarray(0, headEnd).toString('latin1');
          const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
          if (pending.length < headEnd + 4 + length) return;
          const body = pending.subarray(headEnd + 4, headEnd + 4 + length).toString('utf8');
          pending = pending.subarray(headEnd + 4 + length);
          if (!head.startsWith('HTTP/1.1 100'))
            answers.push({ status: Number(head.slice(9, 12)), body });
          if (answers.length === count) return resolve();
        }
      });
    });
    socket.destroy();
    return { chunks, answers };
  }

  const request = (method: string, path: string, body = ''): string =>
    `${method} ${path} HTTP/1.1\r\nhost: x\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

  it('answers pipelined requests on one keep-alive connection in order', async () => {
    const { answers } = await exchange(
      request('POST', '/v1/models/iris:predict', JSON.stringify({ instances: ROWS })) +
        request('POST', '/v1/models/iris:predict', JSON.stringify({ instances: [[1, 2]] })) +
        request('GET', '/v2/health/live') +
        request('POST', '/v1/models/iris:predict', JSON.stringify({ instances: [ROWS[1]] })),
      4,
    );
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 400, 200, 200],
    );
    assert.deepEqual(JSON.parse(answers[0]!.body).predictions, inProcess(ROWS));
    assert.match(JSON.parse(answers[1]!.body).error, /needs 4 features; got 2/);
    assert.deepEqual(JSON.parse(answers[3]!.body).predictions, inProcess([ROWS[1]!]));
  });

  it('sends each answer, head and body, in one write', async () => {
    const { chunks, answers } = await exchange(
      request('POST', '/v1/models/iris:predict', JSON.stringify({ instances: [ROWS[0]] })),
      1,
    );
    assert.equal(answers[0]!.status, 200);
    assert.equal(chunks.length, 1, 'the answer arrived in more than one piece');
  });

  it('reads chunked bodies and answers Expect: 100-continue', async () => {
    const body = JSON.stringify({ instances: [ROWS[2]] });
    const { answers } = await exchange(
      'POST /v1/models/iris:predict HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\n' +
        `transfer-encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
      1,
    );
    assert.equal(answers[0]!.status, 200);
    assert.deepEqual(JSON.parse(answers[0]!.body).predictions, inProcess([ROWS[2]!]));
  });

  it('falls back to one predict() per request for a model that cannot take stacked rows', () => {
    const modelServerSource = readFileSync(
      new URL('../src/local/model-server.py', import.meta.url),
      'utf8',
    );
    const script = `import asyncio, json, sys, types
import numpy as np
m = types.ModuleType("server"); exec(sys.argv[1], m.__dict__)
class OneRowAtATime:
    n_features_in_ = 2
    def predict(self, X):
        if len(X) > 1: raise ValueError("one row at a time")
        return np.asarray([X.sum()])
loop = asyncio.new_event_loop()
batcher = m.Batcher(m.ModelService("m", OneRowAtATime()), loop)
answers = {}
for i in range(8):
    batcher.submit(np.asarray([[i, 1.0]]), lambda r, i=i: answers.__setitem__(i, float(r[0])))
loop.run_until_complete(asyncio.sleep(0.05))
print(json.dumps([answers[i] for i in range(8)]))`;
    const answers = JSON.parse(
      execFileSync('/usr/bin/python3', ['-c', script, modelServerSource], { encoding: 'utf8' }),
    ) as number[];
    assert.deepEqual(answers, [1, 2, 3, 4, 5, 6, 7, 8]);
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
