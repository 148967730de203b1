/**
 * KubeflowBackend against a real kube-apiserver (test/cluster harness) with the KFP API double
 * behind the API server's service proxy; Argo's controller is played by the test's driver.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { KubeflowBackend, type RunEvent } from '@cellflow/backend';
import { compile, type CompiledPipeline } from '@cellflow/core';
import { describeWithCluster } from '../../../test/cluster/cluster-suite.js';
import { RESOURCES, resourcePath } from '../../../test/cluster/kube-client.js';
import { ControllerDriver } from '../../../test/cluster/controller-driver.js';
import { startKfpDouble, type KfpDouble } from '../../../test/cluster/kfp-double/index.js';
import { notebookJson } from '../../../test/support/notebook-json.js';
import { syntheticNotebook } from '../../../bench/compile/synthetic-notebook.js';
import {
  validatePipelineSpecObject,
  validatePlatformSpecObject,
} from '../../../test/validate/kfp-ir.js';
import { REPO_ROOT as repo } from '../../../test/support/paths.js';

function compiled(path: string): CompiledPipeline {
  const result = compile(readFileSync(join(repo, path)), { fileName: path.split('/').pop()! });
  assert.ok(result.pipeline, JSON.stringify(result.diagnostics));
  return result.pipeline;
}

function notebook(cells: [string[], string][]): CompiledPipeline {
  const result = compile(notebookJson(cells, { cellflow: { name: 'gpu-demo' } }));
  assert.ok(result.pipeline, JSON.stringify(result.diagnostics));
  return result.pipeline;
}

/** Collects watch() events in the background until the run ends. */
function collect(events: AsyncIterable<RunEvent>): { seen: RunEvent[]; done: Promise<void> } {
  const seen: RunEvent[] = [];
  const done = (async () => {
    for await (const e of events) seen.push(e);
  })();
  return { seen, done };
}

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describeWithCluster('KubeflowBackend', (ctx) => {
  let kfp: KfpDouble;
  let driver: ControllerDriver;
  let backend: KubeflowBackend;
  before(async () => {
    kfp = await startKfpDouble(ctx.cluster());
    driver = new ControllerDriver(ctx.cluster());
    backend = await KubeflowBackend.connect({
      kubeconfig: ctx.cluster().kubeconfigPath,
      context: 'admin',
      namespace: 'kubeflow',
      ...(kfp.proxyUrl === undefined ? { kfp: { endpoint: kfp.url } } : {}),
    });
  });
  after(async () => {
    await kfp.stop();
  });

  it("reads the API server's version (a reachability check), as the server itself reports it", async () => {
    const version = await backend.kube.serverVersion();
    const expected = await ctx.cluster().admin.request<{ gitVersion: string }>('GET', '/version');
    assert.equal(version, expected.gitVersion);
    assert.match(version, /^v1\./);
  });

  it('reports the GPU pools of the nodes, counting what pods hold', async () => {
    const pools = async (): Promise<unknown[]> =>
      (await backend.capacity()).pools.map((p) => [
        p.node,
        p.resource,
        p.product,
        p.allocatable,
        p.free,
      ]);
    const byNode = (rows: unknown[]): unknown[] =>
      [...rows].sort((a, b) =>
        String((a as unknown[])[0]).localeCompare(String((b as unknown[])[0])),
      );
    assert.deepEqual(
      byNode(await pools()),
      byNode([
        ['gpu-a100-node-0', 'nvidia.com/gpu', 'NVIDIA-A100-SXM4-80GB', 8, 8],
        ['gpu-t4-node-0', 'nvidia.com/gpu', 'Tesla-T4', 1, 1],
        ['gpu-mi250-node-0', 'amd.com/gpu', 'AMD_Instinct_MI250X', 4, 4],
      ]),
    );
    await ctx.cluster().admin.create(resourcePath(RESOURCES.pods, { namespace: 'kubeflow' }), {
      metadata: { name: 'holds-two-gpus' },
      spec: {
        nodeName: 'gpu-a100-node-0',
        containers: [
          { name: 'main', image: 'busybox', resources: { limits: { 'nvidia.com/gpu': '2' } } },
        ],
      },
    });
    const a100 = (await backend.capacity()).pools.find((p) => p.node === 'gpu-a100-node-0');
    assert.deepEqual([a100?.allocatable, a100?.free], [8, 6]);
    assert.match((await backend.capacity()).target, /context `admin`/);
  });

  it('submits the digits example: a valid spec, live states through a watch, logs, no duplicate run', async () => {
    const pipeline = compiled('examples/digits.ipynb');
    const experiments = (): string[] =>
      [...kfp.store.experiments.values()].map((e) => e.display_name);
    assert.ok(!experiments().includes('digits'), 'no experiment yet (KFP would answer 404)');
    const run = await backend.submit(pipeline, { parameters: {} });
    assert.ok(experiments().includes('digits'), 'the missing experiment was created');
    const request = kfp.requests.find((r) => r.method === 'POST' && r.path.endsWith('/runs'));
    assert.ok(request, 'the KFP API received the run');
    const body = request.body as {
      pipeline_spec: Record<string, unknown>;
      runtime_config: unknown;
    };
    const spec = body.pipeline_spec.pipeline_spec ?? body.pipeline_spec;
    assert.deepEqual(validatePipelineSpecObject(spec), []);
    if (body.pipeline_spec.platform_spec !== undefined)
      assert.deepEqual(validatePlatformSpecObject(body.pipeline_spec.platform_spec), []);

    const again = await backend.submit(pipeline, { parameters: {} });
    assert.equal(again.id, run.id, 'submitting the same thing twice returns the first run');
    assert.equal(
      kfp.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/runs')).length,
      1,
    );

    const watched = collect(backend.watch(run));
    const wf = (await driver.findWorkflowForRun('kubeflow', run.id))!;
    const name = wf.metadata.name!;
    await until(
      () => watched.seen.some((e) => e.type === 'step' && e.step === 'load_data'),
      'queued steps',
    );
    await driver.setTaskPhase('kubeflow', name, 'load-data', 'Running', {
      log: 'loading digits\nshape (1797, 64)\n',
    });
    await until(
      () =>
        watched.seen.some(
          (e) => e.type === 'step' && e.step === 'load_data' && e.state === 'running',
        ),
      'load_data running',
    );
    const lines: string[] = [];
    const logs = (async () => {
      for await (const line of backend.logs(run, 'load_data')) lines.push(line);
    })();
    await driver.setTaskPhase('kubeflow', name, 'load-data', 'Succeeded');
    await logs;
    assert.deepEqual(lines, ['loading digits', 'shape (1797, 64)']);
    await driver.runWorkflowToCompletion('kubeflow', name);
    await watched.done;
    const steps = watched.seen.filter((e) => e.type === 'step');
    assert.deepEqual(
      [...new Set(steps.map((e) => e.step))].sort(),
      pipeline.graph.steps.map((s) => s.name).sort(),
    );
    for (const s of pipeline.graph.steps) {
      const last = steps.filter((e) => e.step === s.name).pop();
      assert.equal(last?.state, 'succeeded', s.name);
    }
    const final = watched.seen[watched.seen.length - 1];
    assert.equal(final?.type === 'run' && final.state, 'succeeded');
    assert.deepEqual(
      watched.seen.map((e) => e.seq),
      watched.seen.map((_, i) => i),
    );
    const listed = await backend.listRuns();
    assert.equal(listed.find((r) => r.id === run.id)?.state, 'succeeded');
  });

  it("submits a 200-step pipeline: sub-DAGs within Argo's limits, accepted whole, and its steps run", async () => {
    const result = compile(syntheticNotebook(200, 5), { fileName: 'wide.ipynb' });
    assert.ok(result.pipeline && result.yaml, JSON.stringify(result.diagnostics));
    const run = await backend.submit(result.pipeline, { runName: 'wide' });
    const wf = (await driver.findWorkflowForRun('kubeflow', run.id))!;
    const name = wf.metadata.name!;
    // The API server stored it (under its request and etcd limits) with no DAG over Argo's 200.
    assert.ok(Buffer.byteLength(JSON.stringify(wf)) < 1.5 * 2 ** 20);
    for (const t of wf.spec.templates ?? [])
      assert.ok((t.dag?.tasks.length ?? 0) <= 200, `${t.name}: ${t.dag?.tasks.length} tasks`);
    const watched = collect(backend.watch(run));
    for (const task of ['cellflow-runtime', 'step-0', 'step-150', 'step-199'])
      await driver.setTaskPhase('kubeflow', name, task, 'Succeeded', { log: `${task} done\n` });
    await until(
      () =>
        ['step_0', 'step_150', 'step_199'].every((step) =>
          watched.seen.some((e) => e.type === 'step' && e.step === step && e.state === 'succeeded'),
        ),
      'steps in the first, third and last group succeeded',
    );
    const lines: string[] = [];
    for await (const line of backend.logs(run, 'step_150')) lines.push(line);
    assert.deepEqual(lines, ['step-150 done']);
    await driver.finishWorkflow('kubeflow', name, 'Succeeded');
    await watched.done;
    const final = watched.seen[watched.seen.length - 1];
    assert.equal(final?.type === 'run' && final.state, 'succeeded');
  });

  it('a request the API server refuses as too large is reported at once, with the cause', async () => {
    // One cell of 4 MiB: over the API server's 3 MiB request limit however it is split.
    const big = `blob = ${JSON.stringify('x'.repeat(4 * 2 ** 20))}`;
    const pipeline = notebook([[['step:huge'], big]]);
    const posts = kfp.requests.filter((r) => r.method === 'POST').length;
    const t0 = Date.now();
    await assert.rejects(backend.submit(pipeline), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'request-too-large', e.message);
      assert.match(e.message, /HTTP 413/);
      assert.match(e.message, /Retrying cannot help/);
      assert.doesNotMatch(e.message, /try again later/);
      return true;
    });
    assert.ok(Date.now() - t0 < 10_000);
    assert.ok(kfp.requests.filter((r) => r.method === 'POST').length - posts <= 2);
  });

  it('refuses GPUs the cluster does not have before submitting, naming what exists', async () => {
    const before = kfp.requests.length;
    const pipeline = notebook([[['step:train', 'gpu:1:NVIDIA-H100-80GB'], 'x = 1']]);
    await assert.rejects(backend.submit(pipeline), (e: Error) => {
      assert.match(e.message, /NVIDIA-H100-80GB/);
      assert.match(e.message, /8 × NVIDIA-A100-SXM4-80GB on gpu-a100-node-0/);
      return true;
    });
    await assert.rejects(
      backend.submit(notebook([[['step:train', 'gpu:16'], 'x = 1']])),
      /largest matching node/,
    );
    assert.equal(
      kfp.requests.filter((r) => r.method === 'POST').length,
      kfp.requests.slice(0, before).filter((r) => r.method === 'POST').length,
    );
    const ok = await backend.submit(notebook([[['step:train', 'gpu:1:Tesla-T4'], 'x = 1']]));
    assert.ok(ok.id);
  });

  it('cancels a run: KFP terminates it and the watch ends cancelled', async () => {
    const run = await backend.submit(notebook([[['step:slow'], 'import time\ntime.sleep(600)']]), {
      runName: 'to cancel',
    });
    const watched = collect(backend.watch(run));
    const wf = (await driver.findWorkflowForRun('kubeflow', run.id))!;
    await driver.setTaskPhase('kubeflow', wf.metadata.name!, 'slow', 'Running');
    await until(
      () => watched.seen.some((e) => e.type === 'step' && e.state === 'running'),
      'running',
    );
    await backend.cancel(run);
    await driver.finishWorkflow(
      'kubeflow',
      wf.metadata.name!,
      'Failed',
      'Stopped with strategy Terminate',
    );
    await watched.done;
    const last = watched.seen[watched.seen.length - 1];
    assert.equal(last?.type === 'run' && last.state, 'cancelled');
  });

  it('a failed step points at the notebook cell and line, from the real runtime output', async () => {
    const pipeline = notebook([
      [['step:prepare'], 'rows = [1, 2, 0]'],
      [['step:divide'], 'total = 0\nfor r in rows:\n    total += 10 / r'],
    ]);
    // The step's own entry script, run by a real Python, gives the log the pod would have.
    const dir = ctx.cluster().dir;
    const data = join(dir, 'rows');
    writeFileSync(join(dir, 'prepare.py'), pipeline.scriptFor('prepare'));
    writeFileSync(join(dir, 'divide.py'), pipeline.scriptFor('divide'));
    execFileSync('/usr/bin/python3', [join(dir, 'prepare.py'), '--output', `rows=${data}`], {
      stdio: 'pipe',
    });
    const script = join(dir, 'divide.py');
    let log = '';
    try {
      execFileSync('/usr/bin/python3', [script, '--input', `rows=${data}`], { stdio: 'pipe' });
    } catch (error) {
      log = String((error as { stderr: Buffer }).stderr);
    }
    assert.match(log, /failed at cell 2, line 3/);
    const run = await backend.submit(pipeline);
    const watched = collect(backend.watch(run));
    const wf = (await driver.findWorkflowForRun('kubeflow', run.id))!;
    await driver.setTaskPhase('kubeflow', wf.metadata.name!, 'prepare', 'Succeeded');
    await driver.setTaskPhase('kubeflow', wf.metadata.name!, 'divide', 'Failed', {
      log,
      exitCode: 1,
    });
    await driver.finishWorkflow('kubeflow', wf.metadata.name!, 'Failed', 'child failed');
    await watched.done;
    const failed = watched.seen.find((e) => e.type === 'step' && e.state === 'failed');
    assert.ok(failed?.type === 'step');
    assert.deepEqual(
      [failed.failure?.cell, failed.failure?.line, failed.failure?.type],
      [1, 3, 'ZeroDivisionError'],
    );
    assert.match(failed.failure?.traceback ?? '', /File "<cell 2>", line 3/);
  });

  it('says which permission is missing for a restricted user', async () => {
    const restricted = await KubeflowBackend.connect({
      kubeconfig: ctx.cluster().kubeconfigPath,
      context: 'restricted',
      namespace: 'kubeflow',
      ...(kfp.proxyUrl === undefined ? { kfp: { endpoint: kfp.url } } : {}),
    });
    await assert.rejects(restricted.capacity(), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'forbidden');
      assert.match(e.message, /cannot list resource "nodes"/);
      return true;
    });
  });

  it('an unreachable API server is a clear error, not a hang', async () => {
    // The harness's kubeconfig, with the API server at a port nothing listens on.
    const kubeconfig = join(ctx.cluster().dir, 'kubeconfig-down');
    writeFileSync(
      kubeconfig,
      readFileSync(ctx.cluster().kubeconfigPath, 'utf8').replaceAll(
        ctx.cluster().server,
        'https://127.0.0.1:9',
      ),
    );
    const bad = await KubeflowBackend.connect({ kubeconfig, context: 'admin' });
    const t0 = Date.now();
    await assert.rejects(bad.capacity(), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'cluster-unreachable');
      assert.match(e.message, /Cannot reach the Kubernetes API server at https:\/\/127\.0\.0\.1:9/);
      // The cause as Node names it, not wrapped in the HTTP library's words.
      assert.match(e.message, /: connect ECONNREFUSED 127\.0\.0\.1:9\. Fix:/);
      return true;
    });
    assert.ok(Date.now() - t0 < 10_000);
  });
});
