/**
 * `describeWithCluster` wraps node:test's `describe`: one cluster per suite, started in `before`
 * and stopped in `after` (also when a test fails). When the kube-apiserver binary is missing the
 * suite is skipped with a message naming the setup script, or fails when
 * CELLFLOW_REQUIRE_CLUSTER=1 (as in CI), so a CI machine can never skip silently. After the
 * suite, no process of the cluster may be left (checked in /proc).
 */
import { after, before, describe, it } from 'node:test';
import {
  clusterUnavailableReason,
  startCluster,
  type StartClusterOptions,
  type TestCluster,
} from './harness.js';
import { processesMentioning } from './processes.js';
import { isRunning } from '../support/processes.js';

export interface ClusterSuiteContext {
  /** The running cluster (valid inside tests and hooks). */
  cluster(): TestCluster;
}

export function describeWithCluster(
  name: string,
  body: (ctx: ClusterSuiteContext) => void,
  options: StartClusterOptions = {},
): void {
  const reason = clusterUnavailableReason();
  if (reason !== undefined) {
    if (process.env.CELLFLOW_REQUIRE_CLUSTER === '1') {
      describe(name, () => {
        it('needs the cluster harness (CELLFLOW_REQUIRE_CLUSTER=1)', () => {
          throw new Error(reason);
        });
      });
    } else {
      describe(name, () => {
        it('needs the cluster harness', { skip: reason }, () => undefined);
      });
    }
    return;
  }
  describe(name, () => {
    let cluster: TestCluster | undefined;
    before(async () => {
      cluster = await startCluster(options);
    });
    after(async () => {
      if (cluster === undefined) return;
      const { dir, pids } = cluster;
      await cluster.stop();
      // Nothing of this cluster may outlive the suite.
      const left = [
        ...processesMentioning(dir),
        ...[pids.etcd, pids.kubeApiserver].filter(isRunning).map((pid) => ({ pid, cmdline: '' })),
      ];
      if (left.length > 0) throw new Error(`left running after stop: ${JSON.stringify(left)}`);
    });
    body({
      cluster: () => {
        if (cluster === undefined) throw new Error('cluster not started (see the before hook)');
        return cluster;
      },
    });
  });
}
