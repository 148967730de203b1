import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { validateArgoWorkflowObject } from '../validate/argo.js';
import { describeWithCluster } from './cluster-suite.js';
import { ControllerDriver } from './controller-driver.js';
import { type KfpDouble, startKfpDouble, validateKfpBody } from './kfp-double/index.js';
import { RESOURCES, resourcePath } from './kube-client.js';
import { REPO_ROOT, SHARED_SCHEMAS } from './paths.js';

type Json = Record<string, any>;

function pipelineFile(path: string): Json {
  const [spec, platform] = parseAllDocuments(readFileSync(path, 'utf8')).map((d) => d.toJS());
  return platform === undefined ? spec : { pipeline_spec: spec, platform_spec: platform };
}
const reference = (name: string): Json =>
  pipelineFile(join(SHARED_SCHEMAS, 'kfp/reference-pipelines', name));

describeWithCluster('KFP v2beta1 double backed by the real API server', (ctx) => {
  let kfp: KfpDouble;
  let driver: ControllerDriver;

  /** A request to the double, directly or through the API server's service proxy. */
  async function call(
    method: string,
    path: string,
    body?: unknown,
    via: 'direct' | 'proxy' = 'direct',
  ): Promise<{ status: number; body: Json }> {
    if (via === 'proxy' && kfp.proxyPath !== undefined) {
      const { admin } = ctx.cluster();
      try {
        const answer = await admin.request<Json>(method, `${kfp.proxyPath}/apis/v2beta1${path}`, {
          body,
        });
        return { status: 200, body: answer };
      } catch (error) {
        const e = error as { status: number; body: Json };
        return { status: e.status, body: e.body };
      }
    }
    const res = await fetch(`${kfp.url}/apis/v2beta1${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as Json };
  }

  before(async () => {
    kfp = await startKfpDouble(ctx.cluster());
    driver = new ControllerDriver(ctx.cluster());
  });
  after(async () => {
    await kfp?.stop();
  });

  it('answers healthz directly and through the API server service proxy', async () => {
    const direct = await call('GET', '/healthz');
    assert.deepEqual(direct, {
      status: 200,
      body: { multi_user: false, pipeline_store: 'database' },
    });
    assert.ok(
      kfp.proxyPath !== undefined,
      'this machine has no non-loopback address for the proxy',
    );
    const proxied = await call('GET', '/healthz', undefined, 'proxy');
    assert.deepEqual(proxied, direct);
  });

  it('creates, gets, lists experiments; rejects duplicates and typos', async () => {
    const created = await call('POST', '/experiments', {
      display_name: 'digits',
      description: 'd',
    });
    assert.equal(created.status, 200);
    assert.deepEqual(validateKfpBody('v2beta1Experiment', created.body), []);
    const id = created.body.experiment_id as string;
    assert.equal((await call('GET', `/experiments/${id}`)).body.display_name, 'digits');
    const dup = await call('POST', '/experiments', { display_name: 'digits' });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.code, 6);
    const typo = await call('POST', '/experiments', { display_name: 'x', descripton: 'typo' });
    assert.equal(typo.status, 400);
    assert.match(typo.body.message, /unknown field "descripton"/);
    const filter = JSON.stringify({
      predicates: [{ key: 'display_name', operation: 'EQUALS', string_value: 'digits' }],
    });
    const listed = await call('GET', `/experiments?filter=${encodeURIComponent(filter)}`);
    assert.deepEqual(validateKfpBody('v2beta1ListExperimentsResponse', listed.body), []);
    assert.deepEqual(
      listed.body.experiments.map((e: Json) => e.experiment_id),
      [id],
    );
    assert.equal((await call('GET', '/experiments/nope')).status, 404);
  });

  it('creates a run, its Argo Workflow, and reports state and tasks as the driver advances', async () => {
    const exp = await call('POST', '/experiments', { display_name: 'iris' });
    const created = await call('POST', '/runs', {
      display_name: 'iris run 1',
      description: 'cellflow-key:abc123',
      experiment_id: exp.body.experiment_id,
      pipeline_spec: reference('essential_iris_pipeline_compiled.yaml'),
      runtime_config: { parameters: { neighbors: 5 } },
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.deepEqual(validateKfpBody('v2beta1Run', created.body), []);
    const runId = created.body.run_id as string;
    assert.equal(created.body.state, 'PENDING');
    assert.equal(created.body.finished_at, '1970-01-01T00:00:00Z');

    const workflow = await driver.findWorkflowForRun('kubeflow', runId);
    assert.ok(workflow, 'workflow labelled pipeline/runid');
    assert.deepEqual(validateArgoWorkflowObject(workflow), []);
    const name = workflow.metadata.name!;
    assert.deepEqual(await driver.userTasks('kubeflow', name), [
      'create-dataset',
      'normalize-dataset',
      'train-model',
    ]);

    await driver.setTaskPhase('kubeflow', name, 'create-dataset', 'Running', {
      log: 'downloading iris\n',
    });
    let run = (await call('GET', `/runs/${runId}`)).body;
    assert.equal(run.state, 'RUNNING');
    const task = run.run_details.task_details.find(
      (t: Json) => t.display_name === 'create-dataset',
    );
    assert.equal(task.state, 'RUNNING');
    // The task's pod exists and its log reads through the API server.
    const pod = await driver.podNameForTask('kubeflow', name, 'create-dataset');
    assert.equal(task.pod_name, pod);
    const log = await ctx
      .cluster()
      .admin.request(
        'GET',
        resourcePath(RESOURCES.pods, { namespace: 'kubeflow', name: pod, subresource: 'log' }),
        { query: { container: 'main' } },
      );
    assert.equal(log, 'downloading iris\n');

    await driver.runWorkflowToCompletion('kubeflow', name);
    run = (await call('GET', `/runs/${runId}`, undefined, 'proxy')).body;
    assert.deepEqual(validateKfpBody('v2beta1Run', run), []);
    assert.equal(run.state, 'SUCCEEDED');
    assert.notEqual(run.finished_at, '1970-01-01T00:00:00Z');
    assert.deepEqual(
      run.run_details.task_details.map((t: Json) => [t.display_name, t.state]),
      [
        ['create-dataset', 'SUCCEEDED'],
        ['normalize-dataset', 'SUCCEEDED'],
        ['train-model', 'SUCCEEDED'],
      ],
    );
    assert.deepEqual(
      run.state_history.map((s: Json) => s.state),
      ['PENDING', 'RUNNING', 'SUCCEEDED'],
    );

    // A caller finds its earlier run again by display name (KFP has no idempotency key).
    const filter = JSON.stringify({
      predicates: [{ key: 'display_name', operation: 'EQUALS', string_value: 'iris run 1' }],
    });
    const found = await call('GET', `/runs?filter=${encodeURIComponent(filter)}`);
    assert.deepEqual(validateKfpBody('v2beta1ListRunsResponse', found.body), []);
    assert.deepEqual(
      found.body.runs.map((r: Json) => [r.run_id, r.description]),
      [[runId, 'cellflow-key:abc123']],
    );
  });

  it('terminates a run (CANCELING, then CANCELED once Argo stops it) and deletes it', async () => {
    const created = await call('POST', '/runs', {
      display_name: 'to cancel',
      pipeline_spec: reference('critical_add_numbers.yaml'),
      runtime_config: { parameters: { a: 1, b: 2 } },
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const runId = created.body.run_id as string;
    const wf = (await driver.findWorkflowForRun('kubeflow', runId))!;
    await driver.setTaskPhase('kubeflow', wf.metadata.name!, 'add-numbers', 'Running');
    assert.equal((await call('POST', `/runs/${runId}:terminate`)).status, 200);
    const after1 = await driver.getWorkflow('kubeflow', wf.metadata.name!);
    assert.equal((after1.spec as Json).activeDeadlineSeconds, 0);
    assert.equal((await call('GET', `/runs/${runId}`)).body.state, 'CANCELING');
    await driver.finishWorkflow('kubeflow', wf.metadata.name!, 'Failed', 'Stopped with strategy');
    assert.equal((await call('GET', `/runs/${runId}`)).body.state, 'CANCELED');
    assert.equal((await call('POST', `/runs/${runId}:terminate`)).status, 400);

    assert.equal((await call('DELETE', `/runs/${runId}`)).status, 200);
    assert.equal((await call('GET', `/runs/${runId}`)).status, 404);
    assert.equal(await driver.findWorkflowForRun('kubeflow', runId), undefined);
  });

  it('reports a failed task as a failed run', async () => {
    const created = await call('POST', '/runs', {
      display_name: 'will fail',
      pipeline_spec: reference('essential_iris_pipeline_compiled.yaml'),
      runtime_config: {},
    });
    const wf = (await driver.findWorkflowForRun('kubeflow', created.body.run_id))!;
    await driver.runWorkflowToCompletion('kubeflow', wf.metadata.name!, {
      failTask: 'normalize-dataset',
    });
    const run = (await call('GET', `/runs/${created.body.run_id}`)).body;
    assert.equal(run.state, 'FAILED');
    assert.deepEqual(
      run.run_details.task_details.map((t: Json) => [t.display_name, t.state]),
      [
        ['create-dataset', 'SUCCEEDED'],
        ['normalize-dataset', 'FAILED'],
      ],
    );
  });

  it('accepts a pipeline with a Kubernetes platform spec (GPU) and passes it to the driver', async () => {
    const created = await call('POST', '/runs', {
      display_name: 'gpu',
      pipeline_spec: reference('gpu-scheduling_nvidia_gpu_scheduling_check.yaml'),
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const wf = (await driver.findWorkflowForRun('kubeflow', created.body.run_id))!;
    const params = ((wf.spec as Json).arguments.parameters as Json[]).map((p) => p.name as string);
    assert.ok(
      params.some((p) => p.startsWith('kubernetes-comp-')),
      params.join(', '),
    );
  });

  it('accepts the pipeline Cellflow compiles for the digits example', async (t) => {
    const golden = join(REPO_ROOT, 'test/golden/example-digits/pipeline.yaml');
    if (!existsSync(golden)) return t.skip('no golden digits pipeline in this checkout');
    const created = await call('POST', '/runs', {
      display_name: 'digits',
      pipeline_spec: pipelineFile(golden),
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
  });

  it('rejects bad run requests with KFP error bodies', async () => {
    const spec = reference('critical_add_numbers.yaml');
    const cases: [Json, RegExp][] = [
      [{ pipeline_spec: spec }, /display name is required/],
      [{ display_name: 'x', pipeline_spec: spec, runtime_config: { parameterz: {} } }, /unknown field "parameterz"/],
      [{ display_name: 'x', pipeline_spec: spec, runtime_config: { parameters: { a: 1, c: 2 } } }, /parameter\(s\) c not defined/],
      [{ display_name: 'x', pipeline_spec: spec, runtime_config: { parameters: { a: 1 } } }, /required parameter\(s\) b missing/],
      [{ display_name: 'x', pipeline_spec: { ...spec, schemaVersion: 3 } }, /Invalid pipeline spec/],
      [{ display_name: 'x', run_id: 'mine', pipeline_spec: spec }, /output-only/],
      [{ display_name: 'x' }, /needs pipeline_spec/],
    ]; // prettier-ignore
    for (const [body, message] of cases) {
      const answer = await call('POST', '/runs', body);
      assert.equal(answer.status, 400, JSON.stringify(answer.body));
      assert.equal(answer.body.code, 3);
      assert.match(answer.body.message, message);
      assert.deepEqual(validateKfpBody('googleRpcStatus', answer.body), []);
    }
    const unknownExperiment = await call('POST', '/runs?experiment_id=nope', {
      display_name: 'x',
      pipeline_spec: spec,
      runtime_config: { parameters: { a: 1, b: 2 } },
    });
    assert.equal(unknownExperiment.status, 404);
  });

  it('in multi-user mode, keeps experiments and runs in the namespace given', async () => {
    const cluster = ctx.cluster();
    await cluster.ensureNamespace('team-a');
    const multi = await startKfpDouble(cluster, { multiUser: true, serviceProxy: false });
    try {
      const post = async (path: string, body: unknown): Promise<{ status: number; body: Json }> => {
        const res = await fetch(`${multi.url}/apis/v2beta1${path}`, {
          method: 'POST',
          body: JSON.stringify(body),
        });
        return { status: res.status, body: (await res.json()) as Json };
      };
      assert.equal((await post('/experiments', { display_name: 'e' })).status, 400);
      const exp = await post('/experiments', { display_name: 'e', namespace: 'team-a' });
      assert.equal(exp.body.namespace, 'team-a');
      const run = await post('/runs', {
        display_name: 'r',
        experiment_id: exp.body.experiment_id,
        pipeline_spec: reference('critical_add_numbers.yaml'),
        runtime_config: { parameters: { a: 1, b: 2 } },
      });
      assert.equal(run.status, 200, JSON.stringify(run.body));
      assert.ok(await driver.findWorkflowForRun('team-a', run.body.run_id));
      const listed = await fetch(`${multi.url}/apis/v2beta1/runs?namespace=team-a`);
      assert.equal(((await listed.json()) as Json).runs.length, 1);
      assert.equal((await fetch(`${multi.url}/apis/v2beta1/runs`)).status, 400);
    } finally {
      await multi.stop();
    }
  });

  it('pages and sorts run lists', async () => {
    const all = await call('GET', '/runs?sort_by=created_at%20desc&page_size=2');
    assert.equal(all.body.runs.length, 2);
    assert.ok(all.body.total_size >= 3);
    const next = await call(
      'GET',
      `/runs?page_size=2&sort_by=created_at%20desc&page_token=${all.body.next_page_token}`,
    );
    assert.ok(next.body.runs.length >= 1);
    const ids = new Set([...all.body.runs, ...next.body.runs].map((r: Json) => r.run_id));
    assert.equal(ids.size, all.body.runs.length + next.body.runs.length);
    assert.equal((await call('GET', '/runs?sort_by=nope')).status, 400);
  });
});
