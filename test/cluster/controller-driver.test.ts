import assert from 'node:assert/strict';
import { it } from 'node:test';
import { validateInferenceServiceObject } from '../validate/kserve.js';
import { validateKatibObject } from '../validate/katib.js';
import { describeWithCluster } from './cluster-suite.js';
import { ControllerDriver } from './controller-driver.js';
import { type KubeObject, RESOURCES, resourcePath, type WatchEvent } from './kube-client.js';

const NS = 'kubeflow';
type Json = Record<string, any>;

describeWithCluster('controller driver: Katib, KServe and Argo status on a script', (ctx) => {
  it('runs a Katib experiment: trials with metrics, optimal trial, Succeeded', async () => {
    const cluster = ctx.cluster();
    const driver = new ControllerDriver(cluster);
    const experiment = {
      apiVersion: 'kubeflow.org/v1beta1',
      kind: 'Experiment',
      metadata: { name: 'tune-digits', namespace: NS },
      spec: {
        objective: { type: 'maximize', goal: 0.99, objectiveMetricName: 'accuracy' },
        algorithm: { algorithmName: 'random' },
        maxTrialCount: 2,
        parallelTrialCount: 2,
        parameters: [
          { name: 'C', parameterType: 'double', feasibleSpace: { min: '0.1', max: '10' } },
        ],
        trialTemplate: {
          primaryContainerName: 'main',
          trialParameters: [{ name: 'c', reference: 'C' }],
          trialSpec: {
            apiVersion: 'batch/v1',
            kind: 'Job',
            spec: {
              template: {
                spec: {
                  containers: [
                    { name: 'main', image: 'python:3.11', args: ['--C=${trialParameters.c}'] },
                  ],
                },
              },
            },
          },
        },
      },
    };
    assert.deepEqual(validateKatibObject(experiment), []);
    await cluster.admin.create(resourcePath(RESOURCES.experiments, { namespace: NS }), experiment);
    await driver.syncExperimentStatus(NS, 'tune-digits');
    const t1 = await driver.createTrial(NS, 'tune-digits', { C: 0.5 }, 'tune-digits-t1');
    const t2 = await driver.createTrial(NS, 'tune-digits', { C: 5 }, 'tune-digits-t2');
    assert.deepEqual((t1.spec as Json).runSpec.spec.template.spec.containers[0].args, ['--C=0.5']);
    await driver.setTrialCondition(NS, 'tune-digits-t1', 'Running');
    await driver.setTrialCondition(NS, 'tune-digits-t2', 'Running');
    let status = (await driver.syncExperimentStatus(NS, 'tune-digits')).status as Json;
    assert.equal(status.trialsRunning, 2);
    await driver.setTrialCondition(NS, 'tune-digits-t1', 'Succeeded', {
      metrics: { accuracy: 0.91 },
    });
    await driver.setTrialCondition(NS, 'tune-digits-t2', 'Succeeded', {
      metrics: { accuracy: 0.97 },
    });
    status = (await driver.syncExperimentStatus(NS, 'tune-digits', 'Succeeded')).status as Json;
    assert.equal(status.trialsSucceeded, 2);
    assert.equal(status.currentOptimalTrial.bestTrialName, 'tune-digits-t2');
    assert.deepEqual(status.currentOptimalTrial.parameterAssignments, [{ name: 'C', value: '5' }]);
    const conditions = status.conditions.map((c: Json) => `${c.type}=${c.status}`);
    assert.deepEqual(conditions, ['Created=True', 'Running=False', 'Succeeded=True']);
    // What the driver wrote is what Katib's own types allow.
    const read = await cluster.admin.get(
      resourcePath(RESOURCES.experiments, { namespace: NS, name: 'tune-digits' }),
    );
    assert.deepEqual(validateKatibObject(read), []);
    assert.deepEqual(validateKatibObject(t2), []);
    const trial = await cluster.admin.get(
      resourcePath(RESOURCES.trials, { namespace: NS, name: 'tune-digits-t2' }),
    );
    assert.deepEqual(validateKatibObject(trial), []);
  });

  it('moves an InferenceService to Ready and to Failed through the status subresource', async () => {
    const cluster = ctx.cluster();
    const driver = new ControllerDriver(cluster);
    const isvcs = resourcePath(RESOURCES.inferenceServices, { namespace: NS });
    const list = await cluster.admin.list(isvcs);
    const watch = cluster.admin.watch(isvcs, { resourceVersion: list.metadata.resourceVersion });
    await cluster.admin.create(isvcs, {
      apiVersion: 'serving.kserve.io/v1beta1',
      kind: 'InferenceService',
      metadata: { name: 'digits', namespace: NS },
      spec: { predictor: { model: { modelFormat: { name: 'sklearn' }, storageUri: 'pvc://m/d' } } },
    });
    await driver.play([
      () => driver.setInferenceServicePending(NS, 'digits'),
      () => driver.setInferenceServiceReady(NS, 'digits'),
    ]);
    const seen: WatchEvent[] = [];
    for await (const event of watch) {
      seen.push(event);
      const ready = (event.object.status as Json | undefined)?.conditions?.find(
        (c: Json) => c.type === 'Ready',
      );
      if (ready?.status === 'True') break;
    }
    const last = seen.at(-1)!.object as KubeObject & { status: Json };
    assert.equal(last.status.url, 'http://digits.kubeflow.example.com');
    assert.deepEqual(validateInferenceServiceObject(last), []);
    const failed = await driver.setInferenceServiceFailed(NS, 'digits', 'model file not found');
    assert.equal((failed.status as Json).modelStatus.transitionStatus, 'BlockedByFailedLoad');
    assert.deepEqual(validateInferenceServiceObject(failed), []);
  });

  it('drives a plain Argo DAG workflow: phases, progress, pods and logs', async () => {
    const cluster = ctx.cluster();
    const driver = new ControllerDriver(cluster);
    await cluster.admin.create(resourcePath(RESOURCES.workflows, { namespace: NS }), {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Workflow',
      metadata: { name: 'dag', namespace: NS },
      spec: {
        entrypoint: 'main',
        templates: [
          {
            name: 'main',
            dag: {
              tasks: [
                { name: 'load', template: 'step' },
                { name: 'train', template: 'step', depends: 'load' },
              ],
            },
          },
          { name: 'step', container: { image: 'python:3.11' } },
        ],
      },
    });
    assert.deepEqual(await driver.userTasks(NS, 'dag'), ['load', 'train']);
    let wf = await driver.setTaskPhase(NS, 'dag', 'train', 'Running', {
      log: 'fitting\n',
      nodeName: 'gpu-a100-node-0',
    });
    // Starting `train` means `load` has finished.
    const phases = Object.values(wf.status?.nodes ?? {}).map((n) => [
      n.displayName,
      n.type,
      n.phase,
    ]);
    assert.deepEqual(phases.sort(), [
      ['dag', 'DAG', 'Running'],
      ['load', 'Pod', 'Succeeded'],
      ['train', 'Pod', 'Running'],
    ]);
    assert.equal(wf.status?.phase, 'Running');
    assert.equal(wf.status?.progress, '1/2');
    const pod = await driver.podNameForTask(NS, 'dag', 'train');
    const podObject = await cluster.admin.get<KubeObject & { spec: Json; status: Json }>(
      resourcePath(RESOURCES.pods, { namespace: NS, name: pod }),
    );
    assert.equal(podObject.spec.nodeName, 'gpu-a100-node-0');
    assert.equal(podObject.status.phase, 'Running');
    const log = await cluster.admin.request(
      'GET',
      resourcePath(RESOURCES.pods, { namespace: NS, name: pod, subresource: 'log' }),
      { query: { container: 'main' } },
    );
    assert.equal(log, 'fitting\n');
    // As with Argo, the pod finishes before its node is recorded finished: a client that sees
    // `train` Succeeded finds the pod's whole log.
    let seenAtWrite: unknown;
    wf = await driver.setTaskPhase(NS, 'dag', 'train', 'Succeeded', {
      log: 'fitted\n',
      beforeWrite: () => {
        seenAtWrite = cluster.kubelet.written(NS, pod, 'main');
      },
    });
    assert.deepEqual(seenAtWrite, { text: 'fitting\nfitted\n', ended: true });
    wf = await driver.runWorkflowToCompletion(NS, 'dag');
    assert.equal(wf.status?.phase, 'Succeeded');
    assert.equal(wf.status?.progress, '2/2');
    assert.equal(wf.metadata.labels?.['workflows.argoproj.io/completed'], 'true');
  });
});
