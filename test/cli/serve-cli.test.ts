/** `cellflow serve` / `endpoints` / `predict` on a model a real local run trained. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { repoRoot } from '../golden/golden-cases.js';
import { runCliAsync, type CliRun } from './run-cli.js';

const bin = join(repoRoot, 'packages/cli/bin/cellflow.js');
const dir = mkdtempSync(join(tmpdir(), 'cellflow-serve-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const cellflow = (...args: string[]): Promise<CliRun> => runCliAsync(args, { cwd: dir });

describe('cellflow serve / endpoints / predict', () => {
  it('serves the trained model until Ctrl-C, predicts, and reports bad requests', async () => {
    writeFileSync(
      join(dir, 'iris.ipynb'),
      JSON.stringify({
        nbformat: 4,
        nbformat_minor: 5,
        metadata: {},
        cells: [
          {
            cell_type: 'code',
            metadata: { tags: ['imports'] },
            source:
              'from sklearn.datasets import load_iris\nfrom sklearn.tree import DecisionTreeClassifier',
            outputs: [],
            execution_count: null,
          },
          {
            cell_type: 'code',
            metadata: { tags: ['step:train', 'serve:model'] },
            source:
              'X, y = load_iris(return_X_y=True)\nmodel = DecisionTreeClassifier(random_state=0).fit(X, y)',
            outputs: [],
            execution_count: null,
          },
        ],
      }),
    );
    assert.equal((await cellflow('run', 'iris.ipynb')).code, 0);
    const server = spawn(process.execPath, [bin, 'serve', 'iris.ipynb'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    server.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((r) => server.on('exit', (code) => r(code)));
    for (let i = 0; i < 600 && !out.includes('Try it'); i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.match(out, /Serving model from run \S+ \(step train\) as iris-model/);

    const endpoints = await cellflow('endpoints');
    assert.match(endpoints.stdout, /^iris-model {2}http:\/\/127\.0\.0\.1:\d+ {2}model from run/m);
    const example = await cellflow('predict', 'iris-model');
    assert.equal(example.code, 0, example.stderr);
    assert.deepEqual(JSON.parse(example.stdout), { predictions: [0] });
    assert.match(example.stderr, /example of 1 row × 4 zeros[\s\S]*HTTP 200 in [\d.]+ ms/);
    writeFileSync(
      join(dir, 'setosa.json'),
      JSON.stringify({
        inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP64', data: [5.1, 3.5, 1.4, 0.2] }],
      }),
    );
    const v2 = await cellflow('predict', 'iris-model', '--v2', '--data', 'setosa.json');
    assert.deepEqual(JSON.parse(v2.stdout).outputs[0].data, [0]);
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ instances: [[1, 2]] }));
    const bad = await cellflow('predict', 'iris-model', '--data', 'bad.json');
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /needs 4 features; got 2/);
    assert.match(bad.stderr, /HTTP 400/);

    server.kill('SIGINT');
    assert.equal(await exited, 0);
    assert.match(out, /Stopped iris-model\./);
    assert.match((await cellflow('endpoints')).stdout, /Nothing is being served/);
  });
});
