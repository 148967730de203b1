import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { validateInferenceServiceObject } from '../validate/kserve.js';
import { describeWithCluster } from './cluster-suite.js';
import { ControllerDriver } from './controller-driver.js';
import {
  KubeApiError,
  type KubeObject,
  RESOURCES,
  type ResourceType,
  resourcePath,
  type WatchEvent,
} from './kube-client.js';

const NS = 'kubeflow';

async function expectStatus(promise: Promise<unknown>, status: number): Promise<KubeApiError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof KubeApiError, String(error));
    assert.equal(error.status, status, error.message);
    return error;
  }
  assert.fail(`expected HTTP ${status}`);
}

/** Collects watch events until `until` returns true (or 10 s pass). */
async function watchUntil(
  watch: AsyncGenerator<WatchEvent>,
  until: (events: WatchEvent[]) => boolean,
): Promise<WatchEvent[]> {
  const events: WatchEvent[] = [];
  const timer = setTimeout(() => void watch.return(undefined), 10_000);
  for await (const event of watch) {
    events.push(event);
    if (until(events)) break;
  }
  clearTimeout(timer);
  return events;
}

const samples: { name: string; type: ResourceType; object: KubeObject; status?: unknown }[] = [
  {
    name: 'Argo Workflow',
    type: RESOURCES.workflows,
    object: {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Workflow',
      metadata: { name: 'crud-wf' },
      spec: {
        entrypoint: 'main',
        templates: [{ name: 'main', container: { image: 'python:3.11', command: ['python'] } }],
      },
    },
  },
  {
    name: 'Katib Experiment',
    type: RESOURCES.experiments,
    object: {
      apiVersion: 'kubeflow.org/v1beta1',
      kind: 'Experiment',
      metadata: { name: 'crud-exp' },
      spec: { objective: { type: 'maximize', objectiveMetricName: 'accuracy' } },
    },
    status: { conditions: [{ type: 'Created', status: 'True', reason: 'ExperimentCreated' }] },
  },
  {
    name: 'Katib Trial',
    type: RESOURCES.trials,
    object: {
      apiVersion: 'kubeflow.org/v1beta1',
      kind: 'Trial',
      metadata: { name: 'crud-trial' },
      spec: { parameterAssignments: [{ name: 'lr', value: '0.1' }] },
    },
    status: { conditions: [{ type: 'Running', status: 'True', reason: 'TrialRunning' }] },
  },
  {
    name: 'Katib Suggestion',
    type: RESOURCES.suggestions,
    object: {
      apiVersion: 'kubeflow.org/v1beta1',
      kind: 'Suggestion',
      metadata: { name: 'crud-suggestion' },
      spec: { algorithm: { algorithmName: 'random' }, requests: 2 },
    },
    status: { suggestionCount: 2 },
  },
  {
    name: 'KServe InferenceService',
    type: RESOURCES.inferenceServices,
    object: {
      apiVersion: 'serving.kserve.io/v1beta1',
      kind: 'InferenceService',
      metadata: { name: 'crud-isvc' },
      spec: {
        predictor: { model: { modelFormat: { name: 'sklearn' }, storageUri: 'pvc://models/iris' } },
      },
    },
    status: { url: 'http://crud-isvc.kubeflow.example.com' },
  },
];

describeWithCluster('cluster harness: a real kube-apiserver with the Kubeflow CRDs', (ctx) => {
  it('is ready: CRDs served, GPU nodes registered, kubeconfig written', async (t) => {
    const cluster = ctx.cluster();
    const message = `cluster startup ${cluster.startupMs} ms (waited ${cluster.startupLockWaitMs} ms for another start-up)`;
    t.diagnostic(message);
    console.log(`[cluster harness] ${message}`);
    assert.equal(await cluster.admin.request('GET', '/readyz'), 'ok');
    const crds = await cluster.admin.list(resourcePath(RESOURCES.crds));
    assert.deepEqual(crds.items.map((c) => c.metadata.name).sort(), [
      'experiments.kubeflow.org',
      'inferenceservices.serving.kserve.io',
      'suggestions.kubeflow.org',
      'trials.kubeflow.org',
      'workflows.argoproj.io',
    ]);
    assert.equal((await cluster.admin.list(resourcePath(RESOURCES.nodes))).items.length, 4);
    assert.match(readFileSync(cluster.kubeconfigPath, 'utf8'), /current-context: admin/);
  });

  for (const sample of samples) {
    it(`CRUD, watch and status on ${sample.name}`, async () => {
      const { admin } = ctx.cluster();
      const collection = resourcePath(sample.type, { namespace: NS });
      const name = sample.object.metadata.name ?? '';
      const item = resourcePath(sample.type, { namespace: NS, name });
      const initial = await admin.list(collection);
      const watch = admin.watch(collection, { resourceVersion: initial.metadata.resourceVersion });
      const events = watchUntil(watch, (es) => es.some((e) => e.type === 'DELETED'));

      const created = await admin.create(collection, sample.object);
      assert.equal(created.metadata.name, name);
      await expectStatus(admin.create(collection, sample.object), 409);
      const listed = await admin.list(collection);
      assert.ok(listed.items.some((i) => i.metadata.name === name));
      const patched = await admin.mergePatch(item, { metadata: { labels: { step: 'train' } } });
      assert.equal(patched.metadata.labels?.step, 'train');
      if (sample.status !== undefined) {
        // Status subresource: status changes only through /status.
        const afterMain = await admin.mergePatch(item, { status: sample.status });
        assert.equal(afterMain.status, undefined, 'status written through the main resource');
        const afterStatus = await admin.mergePatch(
          resourcePath(sample.type, { namespace: NS, name, subresource: 'status' }),
          { status: sample.status },
        );
        assert.deepEqual(afterStatus.status, sample.status);
      } else {
        // Argo keeps status in the object itself (no status subresource).
        const withStatus = await admin.mergePatch(item, { status: { phase: 'Running' } });
        assert.deepEqual(withStatus.status, { phase: 'Running' });
      }
      await admin.delete(item);
      await expectStatus(admin.get(item), 404);
      const seen = (await events).map((e) => e.type);
      assert.equal(seen[0], 'ADDED');
      assert.ok(seen.includes('MODIFIED'));
      assert.equal(seen.at(-1), 'DELETED');
    });
  }

  it('answers 422 for an invalid InferenceService (and the client-side validator agrees)', async () => {
    const { admin } = ctx.cluster();
    const isvc = {
      apiVersion: 'serving.kserve.io/v1beta1',
      kind: 'InferenceService',
      metadata: { name: 'bad-isvc', namespace: NS },
      spec: { predictor: { minReplicas: 'two', model: { modelFormat: { name: 'sklearn' } } } },
    };
    const error = await expectStatus(
      admin.create(resourcePath(RESOURCES.inferenceServices, { namespace: NS }), isvc),
      422,
    );
    assert.match(error.message, /minReplicas/);
    assert.ok(validateInferenceServiceObject(isvc).some((e) => e.includes('minReplicas')));
  });

  it('keeps an empty string as a valid string (kubernetes#99804 fixed in the build)', async () => {
    const { admin } = ctx.cluster();
    const created = await admin.create(
      resourcePath(RESOURCES.inferenceServices, { namespace: NS }),
      {
        apiVersion: 'serving.kserve.io/v1beta1',
        kind: 'InferenceService',
        metadata: { name: 'empty-string', namespace: NS },
        spec: {
          predictor: { serviceAccountName: '', model: { modelFormat: { name: 'sklearn' } } },
        },
      },
    );
    assert.equal(created.metadata.name, 'empty-string');
  });

  it('answers 403 to the restricted user outside its role', async () => {
    const { restricted } = ctx.cluster();
    const workflows = resourcePath(RESOURCES.workflows, { namespace: NS });
    await restricted.list(workflows); // allowed: get/list/watch in kubeflow
    await expectStatus(
      restricted.create(workflows, { ...samples[0]!.object, metadata: { name: 'nope' } }),
      403,
    );
    await expectStatus(
      restricted.list(resourcePath(RESOURCES.workflows, { namespace: 'default' })),
      403,
    );
    await expectStatus(restricted.list(resourcePath(RESOURCES.nodes)), 403);
  });

  it('has GPU nodes with capacity and product labels', async () => {
    const { admin } = ctx.cluster();
    const nodes = await admin.list<
      KubeObject & { status: { allocatable: Record<string, string> } }
    >(resourcePath(RESOURCES.nodes));
    const byName = new Map(nodes.items.map((n) => [n.metadata.name, n]));
    const a100 = byName.get('gpu-a100-node-0');
    assert.equal(a100?.status.allocatable['nvidia.com/gpu'], '8');
    assert.equal(a100?.metadata.labels?.['nvidia.com/gpu.product'], 'NVIDIA-A100-SXM4-80GB');
    assert.equal(byName.get('gpu-mi250-node-0')?.status.allocatable['amd.com/gpu'], '4');
    assert.equal(byName.get('cpu-node-0')?.status.allocatable['nvidia.com/gpu'], undefined);
  });

  it('serves pod logs through the API server from the stand-in kubelet (also with follow)', async () => {
    const cluster = ctx.cluster();
    const { admin } = cluster;
    const driver = new ControllerDriver(cluster);
    await admin.create(resourcePath(RESOURCES.pods, { namespace: NS }), {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'logger', namespace: NS },
      spec: { nodeName: 'gpu-t4-node-0', containers: [{ name: 'main', image: 'python:3.11' }] },
    });
    const logPath = resourcePath(RESOURCES.pods, {
      namespace: NS,
      name: 'logger',
      subresource: 'log',
    });
    // Before the container starts the kubelet says so (400 through the API server).
    await expectStatus(admin.request('GET', logPath), 400);
    await driver.setPodPhase(NS, 'logger', 'Running');
    driver.writeLog(NS, 'logger', 'epoch 1 loss 0.9\n');
    assert.equal(await admin.request('GET', logPath), 'epoch 1 loss 0.9\n');

    const followed: string[] = [];
    const stream = (async () => {
      for await (const chunk of admin.stream(logPath, { query: { follow: true } }))
        followed.push(chunk);
    })();
    await new Promise((r) => setTimeout(r, 300));
    driver.writeLog(NS, 'logger', 'epoch 2 loss 0.5\n');
    await new Promise((r) => setTimeout(r, 200));
    await driver.setPodPhase(NS, 'logger', 'Succeeded');
    await stream;
    assert.equal(followed.join(''), 'epoch 1 loss 0.9\nepoch 2 loss 0.5\n');
    assert.ok(cluster.kubelet.requests.some((r) => r.includes('follow=true')));
  });

  it('works with @kubernetes/client-node through the written kubeconfig', async () => {
    const cluster = ctx.cluster();
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    assert.deepEqual(
      kc.getContexts().map((c) => c.name),
      ['admin', 'restricted'],
    );
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    await custom.createNamespacedCustomObject({
      group: 'argoproj.io',
      version: 'v1alpha1',
      namespace: NS,
      plural: 'workflows',
      body: { ...samples[0]!.object, metadata: { name: 'from-client-node' } },
    });
    const list = (await custom.listNamespacedCustomObject({
      group: 'argoproj.io',
      version: 'v1alpha1',
      namespace: NS,
      plural: 'workflows',
    })) as { items: KubeObject[] };
    assert.ok(list.items.some((w) => w.metadata.name === 'from-client-node'));
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const nodes = await core.listNode();
    assert.ok(nodes.items.some((n) => n.status?.capacity?.['nvidia.com/gpu'] === '1'));

    // Pod logs through client-node's Log helper (follow, ended by the pod finishing).
    const driver = new ControllerDriver(cluster);
    await core.createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name: 'cn-logger' },
        spec: { nodeName: 'cpu-node-0', containers: [{ name: 'main', image: 'x' }] },
      },
    });
    await driver.setPodPhase(NS, 'cn-logger', 'Running');
    driver.writeLog(NS, 'cn-logger', 'hello from the stand-in kubelet\n');
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    const done = new Promise<void>((resolve) => out.on('finish', () => resolve()));
    await new k8s.Log(kc).log(NS, 'cn-logger', 'main', out, { follow: true });
    await driver.setPodPhase(NS, 'cn-logger', 'Succeeded');
    await done;
    assert.equal(text, 'hello from the stand-in kubelet\n');

    kc.setCurrentContext('restricted');
    const restricted = kc.makeApiClient(k8s.CustomObjectsApi);
    await assert.rejects(
      restricted.createNamespacedCustomObject({
        group: 'argoproj.io',
        version: 'v1alpha1',
        namespace: NS,
        plural: 'workflows',
        body: { ...samples[0]!.object, metadata: { name: 'denied' } },
      }),
      (error: unknown) => error instanceof k8s.ApiException && error.code === 403,
    );
  });
});
