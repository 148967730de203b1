/**
 * `cellflow agent --cluster` against the test cluster and KFP double: info, capacity, runs, and
 * the editors' Deploy choices (upload as a new version, schedule: issue 14), a run's KFP UI page
 * (issue 20).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { compile } from '@cellflow/core';
import { AgentClient } from '@cellflow/ui';
import { repoRoot } from '../golden/golden-cases.js';
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
    await checkDeploys();
    assert.ok(!agent.stderr().includes(ctx.cluster().adminToken), 'no cluster token in the log');
  }

  /** Upload as a new version, then Schedule… (which uploads again), pause, list, delete. */
  async function checkDeploys(): Promise<void> {
    const { pipeline } = compile(readFileSync(join(repoRoot, 'examples/digits.ipynb')), {
      fileName: 'digits.ipynb',
    });
    assert.ok(pipeline !== undefined);
    const upload = await client.upload(pipeline, { notebookPath: 'examples/digits.ipynb' });
    assert.equal(upload.pipelineName, 'digits');
    assert.equal(upload.pipelineCreated, true);
    const made = await client.schedule(pipeline, {
      trigger: '0 6 * * *',
      upload: true,
      parameters: { TEST_SIZE: 0.3 },
    });
    const versions = kfp.pipelines.versionsOf(upload.pipelineId);
    assert.equal(versions.length, 2, 'Schedule… uploads a new version first');
    assert.equal(made.versionId, versions[1]!.pipeline_version_id);
    assert.equal(made.trigger, 'cron 0 0 6 * * *');
    assert.deepEqual(made.parameters, {
      TEST_SIZE: 0.3,
      CV_FOLDS: 3,
      SEED: 42,
      SVM_C: 1,
      SVM_GAMMA: 0.01,
    });
    const [runId] = await kfp.recurringRuns.tick(Date.now() + 24 * 3600_000);
    assert.ok(runId !== undefined && kfp.store.getRunRecord(runId).recurring_run_id === made.id);
    assert.equal((await client.setScheduleEnabled(made.id, false)).state, 'paused');
    assert.deepEqual(
      (await client.listSchedules('digits')).map((s) => [s.id, s.state]),
      [[made.id, 'paused']],
    );
    await client.deleteSchedule(made.id);
    assert.deepEqual(await client.listSchedules(), []);
    // A run started through the agent names its page in the KFP UI (the editors link it).
    const run = await client.submit(pipeline, { notebookPath: 'examples/digits.ipynb' });
    assert.match(run.uiUrl ?? '', new RegExp(`/#/runs/details/${run.id}$`));
    await client.cancel(run);
  }
});
