/**
 * The cluster harness for the VS Code tests: a real kube-apiserver with the KFP double, the
 * settings and environment that point code-server at them, and a loop playing Argo's controller
 * for every run the extension submits. Undefined when the harness is not built here (then the
 * cluster tests are skipped, unless CELLFLOW_REQUIRE_CLUSTER=1).
 */
import { reportedLogs } from '../support/digits-cluster-logs.js';
import { ControllerDriver } from '../cluster/controller-driver.js';
import { clusterUnavailableReason, startCluster, type TestCluster } from '../cluster/harness.js';
import { startKfpDouble, type KfpDouble } from '../cluster/kfp-double/index.js';

export interface ClusterForVscode {
  readonly settings: Record<string, unknown>;
  readonly env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

export async function startClusterForVscode(): Promise<ClusterForVscode | undefined> {
  const missing = clusterUnavailableReason();
  if (missing !== undefined) {
    if (process.env.CELLFLOW_REQUIRE_CLUSTER === '1') throw new Error(missing);
    return undefined;
  }
  const cluster = await startCluster();
  let kfp: KfpDouble;
  try {
    kfp = await startKfpDouble(cluster);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  let driving = true;
  const loop = driveSubmittedRuns(cluster, kfp, () => driving);
  return {
    settings: kfp.proxyUrl === undefined ? { 'cellflow.kfp.endpoint': kfp.url } : {},
    env: { KUBECONFIG: cluster.kubeconfigPath, CELLFLOW_TEST_CLUSTER: '1' },
    async stop() {
      driving = false;
      await loop;
      await kfp.stop();
      await cluster.stop();
    },
  };
}

/** Runs each workflow the KFP double created to completion, writing a log line for load_data. */
async function driveSubmittedRuns(
  cluster: TestCluster,
  kfp: KfpDouble,
  active: () => boolean,
): Promise<void> {
  const driver = new ControllerDriver(cluster);
  const driven = new Set<string>();
  while (active()) {
    for (const runId of kfp.store.runs.keys()) {
      if (driven.has(runId)) continue;
      try {
        const wf = await driver.findWorkflowForRun('kubeflow', runId);
        if (wf?.metadata.name === undefined) continue;
        driven.add(runId);
        // Long enough for the editor to show the run queued and running before it ends.
        await new Promise((r) => setTimeout(r, 1500));
        await driver.runWorkflowToCompletion('kubeflow', wf.metadata.name, {
          logs: reportedLogs(runId),
        });
      } catch (error) {
        if (active()) console.error(`driving run ${runId}: ${String(error)}`);
      }
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}
