/**
 * One agent, many targets (issue 15): an agent started for this machine (no --cluster) answers
 * requests that name a kubeconfig context and namespace from the test cluster and KFP double, and
 * requests that name none from this machine; it lists the kubeconfig's contexts; a bad target in
 * the query is a 400 naming the fix; a context the kubeconfig lacks is refused with what it has.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { compile } from '@cellflow/core';
import { BackendError } from '@cellflow/protocol';
import { AgentClient } from '@cellflow/ui';
import { REPO_ROOT } from '../support/paths.js';
import { clusterFlags } from '../cluster/cli-flags.js';
import { describeWithCluster } from '../cluster/cluster-suite.js';
import { startKfpDouble, type KfpDouble } from '../cluster/kfp-double/index.js';
import { startAgentProcess, tokenOf, type AgentProcess } from './agent-process.js';

describeWithCluster('one agent, many targets', (ctx) => {
  const workspace = mkdtempSync(join(tmpdir(), 'cellflow-agent-targets-'));
  let kfp: KfpDouble;
  let agent: AgentProcess;
  let local: AgentClient;
  let token: string;
  before(async () => {
    kfp = await startKfpDouble(ctx.cluster());
    // The cluster flags without --cluster: they are what a cluster target leaves out.
    agent = await startAgentProcess([
      '--workspace',
      workspace,
      ...clusterFlags(ctx.cluster(), kfp),
    ]);
    token = tokenOf(agent);
    local = new AgentClient({
      baseUrl: agent.baseUrl,
      headers: () => ({ Authorization: `Bearer ${token}` }),
    });
  });
  after(async () => {
    await agent?.stop();
    await kfp?.stop();
    rmSync(workspace, { recursive: true, force: true });
  });

  it('answers this machine and a named context from one process', async () => {
    try {
      const info = await local.info();
      assert.equal(info.protocol, 3);
      assert.deepEqual(
        [info.target, info.description, info.workspace, info.defaultTarget],
        ['local', 'this machine', workspace, { kind: 'local' }],
      );
      const contexts = await local.contexts();
      assert.ok(
        contexts.some((c) => c.name === 'admin'),
        JSON.stringify(contexts),
      );

      const cluster = local.withTarget({
        kind: 'kubeflow',
        context: 'admin',
        namespace: 'kubeflow',
      });
      assert.equal(cluster.target.description, 'cluster context `admin` (namespace kubeflow)');
      const clusterInfo = await cluster.info();
      assert.deepEqual(
        [clusterInfo.target, clusterInfo.context, clusterInfo.namespace, clusterInfo.workspace],
        ['cluster', 'admin', 'kubeflow', null],
      );
      assert.equal(cluster.target.kind, 'kubeflow');
      const capacity = await cluster.capacity();
      assert.ok(capacity.pools.some((p) => p.product === 'NVIDIA-A100-SXM4-80GB'));
      assert.equal((await local.capacity()).target, 'this machine');

      const { pipeline } = compile(readFileSync(join(REPO_ROOT, 'examples/digits.ipynb')), {
        fileName: 'digits.ipynb',
      });
      assert.ok(pipeline !== undefined);
      const upload = await cluster.upload(pipeline, { notebookPath: 'digits.ipynb' });
      assert.equal(upload.pipelineName, 'digits');
      await assert.rejects(
        local.upload(pipeline),
        (e: unknown) =>
          e instanceof BackendError &&
          e.code === 'not-supported' &&
          /this request's target is this machine.*target=kubeflow/.test(e.message),
      );
      const run = await cluster.submit(pipeline, { notebookPath: 'digits.ipynb' });
      assert.match(run.uiUrl ?? '', new RegExp(`/#/runs/details/${run.id}$`));
      assert.equal((await cluster.getRun(run)).pipeline, 'digits');
      await cluster.cancel(run);
      assert.deepEqual(await local.listRuns(), [], 'the cluster run is not on this machine');

      const bad = await fetch(`${agent.baseUrl}info?target=mainframe`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      assert.equal(bad.status, 400);
      assert.match(((await bad.json()) as { message: string }).message, /`local` or `kubeflow`/);
      await assert.rejects(
        local.withTarget({ kind: 'kubeflow', context: 'nowhere' }).info(),
        (e: unknown) => e instanceof BackendError && /nowhere/.test(e.message),
      );
      assert.ok(!agent.stderr().includes(ctx.cluster().adminToken), 'no cluster token in the log');
    } finally {
      // Stopped here: the suite checks right after that nothing of the cluster is left running.
      await agent.stop();
    }
  });
});
