/** `cellflow agent --cluster` against the test cluster and KFP double: info, capacity, runs. */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { AgentClient } from '@cellflow/ui';
import { clusterFlags } from '../cluster/cli-flags.js';
import { describeWithCluster } from '../cluster/cluster-suite.js';
import { startKfpDouble, type KfpDouble } from '../cluster/kfp-double/index.js';
import { startAgentProcess, tokenOf, type AgentProcess } from './agent-process.js';

describeWithCluster('cellflow agent --cluster', (ctx) => {
  let kfp: KfpDouble;
  let agent: AgentProcess;
  let client: AgentClient;
  before(async () => {
    kfp = await startKfpDouble(ctx.cluster());
    agent = await startAgentProcess(['--cluster', ...clusterFlags(ctx.cluster(), kfp)]);
    const token = tokenOf(agent);
    client = new AgentClient({
      baseUrl: agent.baseUrl,
      headers: () => ({ Authorization: `Bearer ${token}` }),
    });
  });
  // The agent stops inside the test: the suite checks right after it that nothing of the cluster
  // (the agent names its kubeconfig) is left running.
  after(async () => {
    await agent?.stop();
    await kfp?.stop();
  });

  it('says it drives the cluster, and answers capacity and runs from it', async () => {
    try {
      await checkAgent();
    } finally {
      await agent.stop();
    }
  });

  async function checkAgent(): Promise<void> {
    const info = await client.info();
    assert.equal(info.target, 'cluster');
    assert.equal(info.context, 'admin');
    assert.equal(info.namespace, 'kubeflow');
    assert.equal(info.workspace, null);
    const capacity = await client.capacity();
    assert.ok(
      capacity.pools.some((p) => p.product === 'NVIDIA-A100-SXM4-80GB' && p.allocatable === 8),
      JSON.stringify(capacity.pools),
    );
    assert.deepEqual(await client.listRuns(), []);
    assert.ok(!agent.stderr().includes(ctx.cluster().adminToken), 'no cluster token in the log');
  }
});
