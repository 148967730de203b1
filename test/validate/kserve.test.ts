import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { validateInferenceServiceObject, validateInferenceServiceYaml } from './kserve.js';

/** KServe's upstream docs/samples/v1beta1/sklearn/v1/sklearn.yaml (with resources). */
function sklearnIris(): any {
  return {
    apiVersion: 'serving.kserve.io/v1beta1',
    kind: 'InferenceService',
    metadata: { name: 'sklearn-iris', namespace: 'kubeflow' },
    spec: {
      predictor: {
        minReplicas: 1,
        model: {
          modelFormat: { name: 'sklearn' },
          storageUri: 'gs://kfserving-examples/models/sklearn/1.0/model',
          resources: {
            requests: { cpu: '100m', memory: '256Mi' },
            limits: { 'nvidia.com/gpu': 1 },
          },
        },
      },
    },
  };
}

describe('KServe InferenceService validator', () => {
  it('accepts the upstream sklearn sample', () => {
    assert.deepEqual(validateInferenceServiceObject(sklearnIris()), []);
    assert.deepEqual(validateInferenceServiceYaml(stringify(sklearnIris())), []);
  });

  it('reports a typo’d field that the API server would prune silently', () => {
    const isvc = sklearnIris();
    isvc.spec.predictor.model.storageUrl = isvc.spec.predictor.model.storageUri;
    delete isvc.spec.predictor.model.storageUri;
    assert.deepEqual(validateInferenceServiceObject(isvc), [
      '/spec/predictor/model/storageUrl: unknown field "storageUrl"',
    ]);
  });

  it('rejects a fractional number where Kubernetes wants an int-or-string quantity', () => {
    const isvc = sklearnIris();
    isvc.spec.predictor.model.resources.requests.cpu = 0.5;
    const errors = validateInferenceServiceObject(isvc);
    assert.ok(
      errors.some((e) => e.startsWith('/spec/predictor/model/resources/requests/cpu')),
      errors.join('\n'),
    );
  });

  it('checks apiVersion, kind and metadata', () => {
    const isvc = sklearnIris();
    isvc.apiVersion = 'serving.kubeflow.org/v1beta1';
    isvc.metadata.anotations = {};
    assert.deepEqual(validateInferenceServiceObject(isvc), [
      '/apiVersion: must be "serving.kserve.io/v1beta1"',
      '/metadata/anotations: unknown field "anotations"',
    ]);
  });
});
