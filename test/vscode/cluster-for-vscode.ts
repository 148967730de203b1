/**
 * The cluster harness for the VS Code tests: a real kube-apiserver with the KFP double, the
 * settings and environment that point code-server at them, and a loop playing Argo's controller
 * for every run the extension submits. Undefined when the harness is not built here (then the
 * cluster tests are skipped, unless CELLFLOW_REQUIRE_CLUSTER=1).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { compile, formatArtifactLine, formatMetricLine } from '@cellflow/core';
import { REPO_ROOT } from '../support/paths.js';
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

/** What pick_best's cell shows in the test cluster's runs of digits (its executed notebook). */
export const PICK_BEST_SHOWS = 'best-accuracy=0.9667\n';

/**
 * The runtime's line that carries a step's cells' outputs in its log (`cellflow-cell-outputs:
 * inline:`, zlib JSON in base64), here pick_best's cell showing PICK_BEST_SHOWS.
 */
function pickBestOutputsLine(): string {
  const { graph } = compile(readFileSync(join(REPO_ROOT, 'examples/digits.ipynb')));
  const cell = graph?.steps.find((s) => s.name === 'pick_best')?.cells[0];
  if (cell === undefined) throw new Error('digits has no pick_best step');
  const outputs = [{ output_type: 'stream', name: 'stdout', text: PICK_BEST_SHOWS }];
  const json = JSON.stringify({ cells: [{ cell, outputs }] });
  return `cellflow-cell-outputs: inline:${deflateSync(json).toString('base64')}`;
}

/**
 * What train_svm and pick_best print at their end on a cluster (the runtime's report lines), so
 * the editors can show the run's metrics, saved variables and cells' outputs.
 */
export function reportedLogs(runId: string): Record<string, string> {
  return {
    'train-svm': `${formatArtifactLine('svm', {
      uri: `minio://mlpipeline/v2/artifacts/digits/${runId}/train-svm/svm`,
      type: 'sklearn.svm._classes.SVC',
    })}\n`,
    'pick-best': `${PICK_BEST_SHOWS}${formatMetricLine('best-accuracy', 0.9667)}\n${pickBestOutputsLine()}\n`,
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
          logs: { 'load-data': 'loaded 1797 images\n', ...reportedLogs(runId) },
        });
      } catch (error) {
        if (active()) console.error(`driving run ${runId}: ${String(error)}`);
      }
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}
