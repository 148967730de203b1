/**
 * A cluster run's executed notebook through the agent (issue 15, after issue 18): the cell-outputs
 * fixture submitted to the test cluster through an agent started for this machine, its steps run
 * through the upstream KFP SDK (test/support/kfp-step-logs.ts) with their `cell-outputs` artifacts
 * put in the KFP double's store and their pods' logs printed as the steps printed them; then
 * `GET runs/:run/notebook` naming the cluster gives the notebook it was submitted from with each
 * cell's outputs, the failed step's from its log. The same notebook edited since is refused, since
 * outputs would sit on other code.
 */
import assert from 'node:assert/strict';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { compile } from '@cellflow/core';
import { BackendError } from '@cellflow/protocol';
import { AgentClient } from '@cellflow/ui';
import { clusterFlags } from '../cluster/cli-flags.js';
import { describeWithCluster } from '../cluster/cluster-suite.js';
import { ControllerDriver } from '../cluster/controller-driver.js';
import { startKfpDouble, type KfpDouble } from '../cluster/kfp-double/index.js';
import { shape, type Cell } from '../support/executed-notebooks.js';
import { KFP_SDK_PYTHONPATH, kfpStepRun } from '../support/kfp-step-logs.js';
import { REPO_ROOT } from '../support/paths.js';
import { startAgentProcess, tokenOf, type AgentProcess } from './agent-process.js';

const FIXTURE = join(REPO_ROOT, 'test/fixtures/notebooks/cell-outputs.ipynb');

describeWithCluster("a cluster run's executed notebook through the agent", (ctx) => {
  const dir = mkdtempSync(join(tmpdir(), 'cellflow-agent-cluster-outputs-'));
  const notebookPath = join(dir, 'cell-outputs.ipynb');
  let kfp: KfpDouble;
  let agent: AgentProcess;
  let cluster: AgentClient;
  before(async () => {
    kfp = await startKfpDouble(ctx.cluster());
    agent = await startAgentProcess(['--workspace', dir, ...clusterFlags(ctx.cluster(), kfp)]);
    const token = tokenOf(agent);
    cluster = new AgentClient({
      baseUrl: agent.baseUrl,
      headers: () => ({ Authorization: `Bearer ${token}` }),
    }).withTarget({ kind: 'kubeflow', context: 'admin', namespace: 'kubeflow' });
  });
  after(async () => {
    await agent?.stop();
    await kfp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives the run’s outputs on the notebook it was submitted from; refuses it edited since', async (t) => {
    if (!existsSync(join(KFP_SDK_PYTHONPATH, 'kfp/__init__.py'))) {
      t.skip(`no KFP SDK at ${KFP_SDK_PYTHONPATH}`);
      return;
    }
    // The agent names the cluster's kubeconfig: it must be gone before the cluster's own check.
    t.after(() => agent.stop());
    copyFileSync(FIXTURE, notebookPath);
    const result = compile(readFileSync(notebookPath), { fileName: 'cell-outputs' });
    assert.ok(result.pipeline !== undefined && result.yaml !== undefined);
    const ir = join(dir, 'cell-outputs.yaml');
    writeFileSync(ir, result.yaml);
    const { id } = await cluster.submit(result.pipeline, { notebookPath });

    const run = await kfpStepRun(ir, dir, 'cell-outputs', id, { allowFailure: true });
    assert.equal(run.failedTask, 'fail');
    for (const task of ['load', 'plot', 'image', 'big']) {
      const json = run.artifacts[task]!['cell-outputs']!;
      kfp.artifacts.put(json.clusterUri, readFileSync(json.file));
    }
    const driver = new ControllerDriver(ctx.cluster());
    const wf = (await driver.findWorkflowForRun('kubeflow', id))!;
    await driver.runWorkflowToCompletion('kubeflow', wf.metadata.name!, {
      logs: run.logs,
      failTask: 'fail',
    });

    const executed = await cluster.executedNotebook({ id });
    const cells = executed.cells as unknown as Cell[];
    assert.deepEqual(
      cells.map((c) => c.execution_count ?? null),
      [null, null, 1, 2, 3, 4, 5],
    );
    assert.deepEqual(shape(cells[2]!), ['stream:stdout', 'execute_result']);
    assert.equal(cells[2]!.outputs![0]!.text, 'loading\n');
    assert.deepEqual(shape(cells[3]!), ['display_data', 'display_data', 'stream:stdout']);
    // The failed step: what its cell showed before the error (from its log), then the error.
    assert.deepEqual(shape(cells[6]!), ['stream:stderr', 'display_data', 'error']);
    assert.equal(cells[6]!.outputs![2]!.ename, 'ValueError');

    // Edited since the run: the outputs would sit on other code, so none are given.
    const edited = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { cells: { source: string[] }[] };
    edited.cells[3]!.source.push('\nprint("added since")');
    writeFileSync(notebookPath, JSON.stringify(edited));
    await assert.rejects(
      cluster.executedNotebook({ id }),
      (error: unknown) =>
        error instanceof BackendError &&
        error.code === 'request-refused' &&
        /cell-outputs\.ipynb is not the notebook run \S+ ran: its cell 4 holds other code than the run ran\. Fix: run the notebook again/.test(
          error.message,
        ),
    );
  });
});
