/**
 * `describeWithCluster` wraps node:test's `describe`: one cluster per suite, started in `before`
 * and stopped in `after` (also when a test fails). When the kube-apiserver binary is missing the
 * suite is skipped with a message naming the setup script, or fails when
 * CELLFLOW_REQUIRE_CLUSTER=1 (as in CI), so a CI machine can never skip silently.
 */
import { after, before, describe, it } from 'node:test';
import {
  clusterUnavailableReason,
  startCluster,
  type StartClusterOptions,
  type TestCluster,
} from './harness.js';

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
      await cluster?.stop();
    });
    body({
      cluster: () => {
        if (cluster === undefined) throw new Error('cluster not started (see the before hook)');
        return cluster;
      },
    });
  });
}
