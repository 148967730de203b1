/** The KServe InferenceService Cellflow writes for a step's model, checked against KServe's CRD schema. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  analyzeNotebook,
  buildInferenceServiceForModel,
  buildInferenceServiceYamlForModel,
  detectModelFormat,
  toServiceName,
} from '@cellflow/core';
import { inferenceServiceGolden, repoRoot } from '../golden/golden-cases.js';
import {
  validateInferenceServiceObject,
  validateInferenceServiceYaml,
} from '../validate/kserve.js';

function graphOf(path: string) {
  const graph = analyzeNotebook(readFileSync(join(repoRoot, path)), {
    fileName: path.split('/').pop()!,
  }).graph;
  assert.ok(graph);
  return graph;
}

describe('KServe InferenceService for a model', () => {
  it('tells the model format from the saved Python type', () => {
    assert.equal(detectModelFormat('sklearn.model_selection._search.GridSearchCV'), 'sklearn');
    assert.equal(detectModelFormat('xgboost.sklearn.XGBClassifier'), 'xgboost');
    assert.equal(detectModelFormat('torch.nn.modules.container.Sequential'), 'pytorch');
    assert.equal(detectModelFormat('keras.src.models.sequential.Sequential'), 'tensorflow');
    assert.equal(detectModelFormat('builtins.dict'), undefined);
  });

  it('the digits model: V2 protocol, storage from the run, valid against the CRD', () => {
    const service = buildInferenceServiceForModel({
      graph: graphOf('examples/digits.ipynb'),
      step: 'pick_best',
      variable: 'best_model',
      storageUri: 's3://mlpipeline/v2/artifacts/digits/run-1/pick-best/best_model',
      format: 'sklearn',
      namespace: 'team-a',
      runId: 'run-1',
    });
    assert.deepEqual(validateInferenceServiceObject(service), []);
    const spec = service.spec as { predictor: { model: Record<string, unknown> } };
    assert.deepEqual(spec.predictor.model, {
      modelFormat: { name: 'sklearn' },
      protocolVersion: 'v2',
      storageUri: 's3://mlpipeline/v2/artifacts/digits/run-1/pick-best/best_model',
    });
    assert.equal((service.metadata as { name: string }).name, 'digits-best-model');
  });

  it('GPU steps ask for the same GPUs, product and tolerations; the YAML validates too', () => {
    const input = {
      graph: graphOf('test/fixtures/notebooks/resources.ipynb'),
      step: 'train',
      variable: 'model',
      storageUri: 'pvc://models/train',
      format: 'pytorch' as const,
      protocol: 'v1' as const,
    };
    const service = buildInferenceServiceForModel(input);
    const predictor = (service.spec as { predictor: Record<string, any> }).predictor;
    assert.deepEqual(predictor.model.resources, {
      requests: { memory: '16Gi' },
      limits: { memory: '16Gi', 'nvidia.com/gpu': '2' },
    });
    assert.deepEqual(predictor.nodeSelector, { 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB' });
    assert.deepEqual(validateInferenceServiceYaml(buildInferenceServiceYamlForModel(input)), []);
  });

  it('a typo the API server would silently drop is caught by the validator', () => {
    const service = buildInferenceServiceForModel({
      graph: graphOf('examples/digits.ipynb'),
      step: 'pick_best',
      variable: 'best_model',
      storageUri: 's3://b/k',
      format: 'sklearn',
    }) as { spec: { predictor: { model: Record<string, unknown> } } };
    service.spec.predictor.model.storageURI = 's3://b/k';
    assert.notDeepEqual(validateInferenceServiceObject(service), []);
  });

  it('matches its golden file (regenerate with `npm run golden`)', () => {
    const golden = inferenceServiceGolden();
    assert.equal(golden.yaml, readFileSync(golden.path, 'utf8'));
    assert.deepEqual(validateInferenceServiceYaml(golden.yaml), []);
  });

  it('service names are DNS labels KServe accepts', () => {
    assert.equal(toServiceName('Digits_Best Model!'), 'digits-best-model');
    assert.equal(toServiceName('9lives'), 'm-9lives');
    assert.ok(toServiceName('x'.repeat(80)).length <= 45);
  });
});
