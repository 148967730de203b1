/** Kale's own notebooks run unchanged, and give what they give top to bottom in Jupyter. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BackendError, LocalBackend } from '@cellflow/backend';
import {
  compileNotebook,
  kaleFixtures,
  PYTHON,
  readNotebook,
  runToEnd,
  stepStates,
  tempDir,
} from './support/notebooks.js';
import { processesOfRun } from './support/processes.js';
import {
  runNotebookTopToBottom,
  seededAtEveryStep,
  withoutSkippedCells,
} from './support/reference-run.js';

const IRIS = join(kaleFixtures, 'iris.ipynb');
const PARAMS = join(kaleFixtures, 'pipeline_parameters_and_metrics.ipynb');

describe('Kale fixtures run locally', () => {
  const work = tempDir('kale');
  after(work.remove);
  const backend = new LocalBackend({
    workspace: work.dir,
    python: PYTHON,
    nvidiaSmi: join(work.dir, 'no-nvidia-smi'),
  });

  it('iris, unchanged: every step succeeds and reports the four metrics', async () => {
    const { pipeline } = compileNotebook(readNotebook(IRIS), work.dir, 'iris.ipynb');
    const run = await runToEnd(backend, pipeline);
    assert.equal(run.final.state, 'succeeded', JSON.stringify(run.summary, null, 2));
    assert.deepEqual(stepStates(run), {
      load_transform_data: 'succeeded',
      train_model: 'succeeded',
      evaluate_model: 'succeeded',
    });
    assert.deepEqual(Object.keys(run.final.metrics), ['precision', 'recall', 'f1', 'accuracy']);
    for (const v of Object.values(run.final.metrics))
      assert.ok(typeof v === 'number' && v > 0.5 && v <= 1);
  });

  it('iris, with its random draws seeded per step: metrics equal the top-to-bottom run', async () => {
    const nb = seededAtEveryStep(withoutSkippedCells(readNotebook(IRIS)));
    const { pipeline } = compileNotebook(nb, work.dir, 'iris-seeded.ipynb');
    const reference = runNotebookTopToBottom(nb, work.dir, pipeline.graph, 'iris-seeded');
    const run = await runToEnd(backend, pipeline, { parameters: { N_ESTIMATORS: 50 } });
    assert.equal(run.final.state, 'succeeded');
    // the reference runs with the default N_ESTIMATORS = 500; the same parameter makes the same model
    const same = await runToEnd(backend, pipeline);
    assert.deepEqual(same.final.metrics, reference.metrics);
    assert.equal(run.summary.parameters.N_ESTIMATORS, 50);
    assert.equal(same.summary.parameters.N_ESTIMATORS, 500);
  });

  it('pipeline_parameters_and_metrics asks for 2 GPUs: refused before anything starts', async () => {
    const { pipeline } = compileNotebook(readNotebook(PARAMS), work.dir, 'params.ipynb');
    await assert.rejects(backend.submit(pipeline), (error: unknown) => {
      assert.ok(error instanceof BackendError);
      assert.equal(error.code, 'gpu-unavailable');
      assert.match(error.message, /Step `create_matrix` asks for 2 × nvidia\.com\/gpu/);
      assert.match(error.message, /none \(nvidia-smi not found\)/);
      assert.match(error.message, /--cpu-only/);
      return true;
    });
    assert.deepEqual(
      await backend.listRuns({ pipeline: pipeline.graph.pipeline.name }),
      [],
      'no run was recorded',
    );
  });

  it('pipeline_parameters_and_metrics with --cpu-only: runs, parameters typed, metrics equal the top-to-bottom run', async () => {
    const nb = seededAtEveryStep(readNotebook(PARAMS));
    const { pipeline } = compileNotebook(nb, work.dir, 'params-seeded.ipynb');
    const reference = runNotebookTopToBottom(nb, work.dir, pipeline.graph, 'params-seeded');
    const run = await runToEnd(backend, pipeline, { cpuOnly: true });
    assert.equal(run.final.state, 'succeeded');
    assert.deepEqual(run.final.metrics, reference.metrics);
    assert.deepEqual(run.summary.parameters, { d1: 5, d2: 6, booltest: true, strtest: 'test' });

    const smaller = await runToEnd(backend, pipeline, { cpuOnly: true, parameters: { d1: 2 } });
    assert.equal(smaller.final.metrics.d1, 2);
    assert.notEqual(smaller.final.metrics['sum-result'], run.final.metrics['sum-result']);
    assert.deepEqual(processesOfRun(smaller.ref.id), []);
  });
});
