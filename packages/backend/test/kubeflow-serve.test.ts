/**
 * Serving on a cluster: the InferenceService for a model a cluster run saved, against the real API
 * server with KServe's CRD; readiness and failures as KServe's controller would report them.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { KubeflowBackend } from '@cellflow/backend';
import { compile } from '@cellflow/core';
import { describeWithCluster } from '../../../test/cluster/cluster-suite.js';
import { ControllerDriver } from '../../../test/cluster/controller-driver.js';
import { RESOURCES, resourcePath } from '../../../test/cluster/kube-client.js';
import { startKfpDouble, type KfpDouble } from '../../../test/cluster/kfp-double/index.js';
import { validateInferenceServiceObject } from '../../../test/validate/kserve.js';
import { notebookJson } from '../../../test/support/notebook-json.js';

describeWithCluster('KubeflowBackend serving (KServe)', (ctx) => {
  let kfp: KfpDouble;
  before(async () => {
    kfp = await startKfpDouble(ctx.cluster());
  });
  after(async () => {
    await kfp.stop();
  });

  it('creates an InferenceService from the run artifact, reports readiness and failure, deletes it', async () => {
    const pipeline = compile(
      notebookJson(
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
      ),
    ).pipeline!;
    const backend = await KubeflowBackend.connect({
      kubeconfig: ctx.cluster().kubeconfigPath,
      context: 'admin',
      namespace: 'kubeflow',
      kfp: { endpoint: kfp.url },
    });
    const run = await backend.submit(pipeline);
    // What the step's container prints: its real entry script, given the executor input KFP would.
    const dir = ctx.cluster().dir;
    const uri = `s3://mlpipeline/v2/artifacts/iris-serve/${run.id}/train/model`;
    const executorInput = {
      outputs: {
        artifacts: { model: { artifacts: [{ name: 'model', uri }] } },
        outputFile: join(dir, 'executor-output.json'),
      },
    };
    writeFileSync(join(dir, 'train.py'), pipeline.scriptFor('train'));
    const log = execFileSync(
      '/usr/bin/python3',
      [
        join(dir, 'train.py'),
        '--output',
        `model=${join(dir, 'model')}`,
        '--executor-input',
        JSON.stringify(executorInput),
      ],
      { encoding: 'utf8' },
    );
    assert.match(
      log,
      /^cellflow-artifact: model=s3:\/\/\S+ type=sklearn\.linear_model\._logistic\.LogisticRegression$/m,
    );
    const driver = new ControllerDriver(ctx.cluster());
    const wf = (await driver.findWorkflowForRun('kubeflow', run.id))!;
    await driver.setTaskPhase('kubeflow', wf.metadata.name!, 'train', 'Succeeded', { log });

    const ref = await backend.serve({ runId: run.id, step: 'train', variable: 'model' });
    assert.equal(ref.name, 'iris-serve-model');
    const isvc = await ctx
      .cluster()
      .admin.get(
        resourcePath(RESOURCES.inferenceServices, { namespace: 'kubeflow', name: ref.name }),
      );
    assert.deepEqual(validateInferenceServiceObject(isvc), []);
    assert.deepEqual((isvc as any).spec.predictor.model, {
      modelFormat: { name: 'sklearn' },
      protocolVersion: 'v2',
      storageUri: uri,
    });
    assert.equal((await backend.listEndpoints())[0]?.state, 'pending');

    await driver.setInferenceServiceReady('kubeflow', ref.name, {
      url: 'http://iris-serve-model.kubeflow.example.com',
    });
    const [ready] = await backend.listEndpoints();
    assert.deepEqual(
      [ready?.state, ready?.url, ready?.target, ready?.model.variable],
      ['ready', 'http://iris-serve-model.kubeflow.example.com', 'cluster', 'model'],
    );

    await driver.setInferenceServiceFailed(
      'kubeflow',
      ref.name,
      'Failed to load model: model file not found',
    );
    const [failed] = await backend.listEndpoints();
    assert.equal(failed?.state, 'failed');
    assert.match(failed?.message ?? '', /model file not found/);

    // Serving again replaces the model behind the same name.
    assert.equal(
      (await backend.serve({ runId: run.id, step: 'train', variable: 'model' })).name,
      ref.name,
    );
    await backend.deleteEndpoint(ref);
    assert.deepEqual(await backend.listEndpoints(), []);
  });

  it('a variable the step did not report is a clear error', async () => {
    const backend = await KubeflowBackend.connect({
      kubeconfig: ctx.cluster().kubeconfigPath,
      context: 'admin',
      namespace: 'kubeflow',
      kfp: { endpoint: kfp.url },
    });
    const run = (await backend.listRuns())[0]!;
    await assert.rejects(
      backend.serve({ runId: run.id, step: 'train', variable: 'X' }),
      /did not report where `X` is stored.*serve:X/,
    );
  });
});
