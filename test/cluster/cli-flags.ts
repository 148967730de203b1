/**
 * The `cellflow` flags (CLI and agent) that aim a command at the test cluster: its kubeconfig,
 * context `admin`, namespace kubeflow, and the KFP double (by URL only when the API server does
 * not proxy to it).
 */
import type { TestCluster } from './harness.js';
import type { KfpDouble } from './kfp-double/index.js';

export function clusterFlags(cluster: TestCluster, kfp: KfpDouble): string[] {
  return [
    '--kubeconfig',
    cluster.kubeconfigPath,
    '--context',
    'admin',
    '-n',
    'kubeflow',
    ...(kfp.proxyUrl === undefined ? ['--kfp-endpoint', kfp.url] : []),
  ];
}
