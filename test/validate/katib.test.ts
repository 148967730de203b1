import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { validateKatibExperimentObject, validateKatibObject, validateKatibYaml } from './katib.js';

/** Katib's upstream examples/v1beta1/hp-tuning/random.yaml (trimmed image args). */
function randomSearchExperiment(): any {
  return {
    apiVersion: 'kubeflow.org/v1beta1',
    kind: 'Experiment',
    metadata: { namespace: 'kubeflow', name: 'random' },
    spec: {
      objective: {
        type: 'maximize',
        goal: 0.99,
        objectiveMetricName: 'Validation-accuracy',
        additionalMetricNames: ['Train-accuracy'],
      },
      algorithm: { algorithmName: 'random' },
      parallelTrialCount: 3,
      maxTrialCount: 12,
      maxFailedTrialCount: 3,
      parameters: [
        { name: 'lr', parameterType: 'double', feasibleSpace: { min: '0.01', max: '0.03' } },
        { name: 'num-layers', parameterType: 'int', feasibleSpace: { min: '2', max: '5' } },
        {
          name: 'optimizer',
          parameterType: 'categorical',
          feasibleSpace: { list: ['sgd', 'adam', 'ftrl'] },
        },
      ],
      trialTemplate: {
        primaryContainerName: 'training-container',
        trialParameters: [
          {
            name: 'learningRate',
            description: 'Learning rate for the training model',
            reference: 'lr',
          },
          {
            name: 'numberLayers',
            description: 'Number of training model layers',
            reference: 'num-layers',
          },
          {
            name: 'optimizer',
            description: 'Training model optimizer (sdg, adam or ftrl)',
            reference: 'optimizer',
          },
        ],
        trialSpec: {
          apiVersion: 'batch/v1',
          kind: 'Job',
          spec: {
            template: {
              spec: {
                containers: [
                  {
                    name: 'training-container',
                    image: 'docker.io/kubeflowkatib/mxnet-mnist:latest',
                    command: [
                      'python3',
                      '/opt/mxnet-mnist/mnist.py',
                      '--lr=${trialParameters.learningRate}',
                    ],
                    resources: { limits: { memory: '1Gi', cpu: '0.5' } },
                  },
                ],
                restartPolicy: 'Never',
              },
            },
          },
        },
      },
    },
  };
}

describe('Katib validator', () => {
  it('accepts the upstream random-search example', () => {
    assert.deepEqual(validateKatibExperimentObject(randomSearchExperiment()), []);
    assert.deepEqual(validateKatibYaml(stringify(randomSearchExperiment())), []);
  });

  it('reports typo’d fields and values the webhook rejects', () => {
    const e = randomSearchExperiment();
    e.spec.objective.objectiveMetricNme = e.spec.objective.objectiveMetricName;
    e.spec.objective.type = 'maximise';
    e.spec.parameters[0].parameterType = 'float';
    e.spec.maxTrialCount = '12';
    assert.deepEqual(validateKatibExperimentObject(e).sort(), [
      '/spec/maxTrialCount: must be integer',
      '/spec/objective/objectiveMetricNme: unknown field "objectiveMetricNme"',
      '/spec/objective/type: must be one of "minimize", "maximize"',
      '/spec/parameters/0/parameterType: must be one of "int", "double", "categorical", "discrete"',
    ]);
  });

  it('checks metadata as a Kubernetes ObjectMeta', () => {
    const e = randomSearchExperiment();
    e.metadata.lables = { a: 'b' };
    assert.deepEqual(validateKatibExperimentObject(e), [
      '/metadata/lables: unknown field "lables"',
    ]);
  });

  it('checks an Argo Workflow trial template against Argo’s schema', () => {
    const e = randomSearchExperiment();
    e.spec.trialTemplate.trialSpec = {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Workflow',
      metadata: { generateName: 'trial-' },
      spec: {
        entrypoint: 'main',
        templates: [{ name: 'main', container: { image: 'x', comand: [] } }],
      },
    };
    assert.deepEqual(validateKatibExperimentObject(e), [
      '/spec/trialTemplate/trialSpec/spec/templates/0/container/comand: unknown field "comand"',
    ]);
  });

  it('validates Trials and rejects unknown kinds', () => {
    const trial = {
      apiVersion: 'kubeflow.org/v1beta1',
      kind: 'Trial',
      metadata: { name: 'random-abc', namespace: 'kubeflow' },
      spec: {
        parameterAssignments: [{ name: 'lr', value: '0.02' }],
        objective: { type: 'maximize', objectiveMetricName: 'accuracy' },
        runSpec: { apiVersion: 'batch/v1', kind: 'Job' },
      },
      status: {
        observation: { metrics: [{ name: 'accuracy', latest: '0.9', min: '0.5', max: '0.9' }] },
      },
    };
    assert.deepEqual(validateKatibObject(trial), []);
    assert.match(validateKatibObject({ ...trial, kind: 'Trail' })[0] ?? '', /kind/);
  });
});
