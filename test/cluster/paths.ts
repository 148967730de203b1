/**
 * Where the cluster harness finds its inputs: the repository, the shared upstream schemas beside
 * it (`../shared/schemas`, as CI clones it) and the binaries scripts/setup-cluster-harness.sh
 * provides (kube-apiserver cached outside the repository, etcd from Debian).
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { REPO_ROOT } from '../support/paths.js';
export { REPO_ROOT };
export const SHARED_SCHEMAS = resolve(REPO_ROOT, '../shared/schemas');
export const SETUP_SCRIPT = 'scripts/setup-cluster-harness.sh';

/** Debian version of the `kubernetes` source package the server is built from. */
export const KUBE_DEB_VERSION = readFileSync(
  join(REPO_ROOT, 'test/cluster/kube-apiserver.version'),
  'utf8',
).trim();

export interface ClusterBinaries {
  kubeApiserver: string;
  etcd: string;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The binaries, or a sentence saying what is missing and how to get it.
 * `CELLFLOW_KUBE_APISERVER` / `CELLFLOW_ETCD` override the locations; `CELLFLOW_CACHE_DIR` moves
 * the cache (default /var/cache/cellflow, as in the setup script).
 */
export function findClusterBinaries(): ClusterBinaries | string {
  const cache = process.env.CELLFLOW_CACHE_DIR ?? '/var/cache/cellflow';
  const kubeApiserver =
    process.env.CELLFLOW_KUBE_APISERVER ??
    join(cache, `kube-apiserver-${KUBE_DEB_VERSION}`, 'kube-apiserver');
  const etcd = process.env.CELLFLOW_ETCD ?? '/usr/bin/etcd';
  const missing = [kubeApiserver, etcd].filter((p) => !isExecutable(p));
  if (missing.length > 0) {
    return (
      `cluster harness not set up: ${missing.join(', ')} not found. ` +
      `Run \`bash ${SETUP_SCRIPT}\` once (builds kube-apiserver from Debian's source package, ` +
      `~6 min on 2 cores, cached in ${cache}).`
    );
  }
  return { kubeApiserver, etcd };
}
