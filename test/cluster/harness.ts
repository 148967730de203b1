/**
 * A real Kubernetes API for tests: etcd + kube-apiserver (1.20, built from Debian's source by
 * scripts/setup-cluster-harness.sh) on free loopback ports in a temp dir, with token auth, RBAC,
 * service-account keys, the Kubeflow CRDs from ../shared/schemas, GPU nodes and a stand-in kubelet
 * for pod logs. No controllers run: tests drive status with ./controller-driver.ts.
 *
 *   const cluster = await startCluster();
 *   ... cluster.kubeconfigPath (contexts `admin` and `restricted`), cluster.admin (REST client)
 *   await cluster.stop();
 */
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ensureCrdTemplate } from './cluster-template.js';
import {
  ADMIN_USER,
  type ControlPlane,
  RESTRICTED_USER,
  startControlPlane,
} from './control-plane.js';
import { type CrdSource, HARNESS_CRDS, waitCrdsServed } from './crds.js';
import {
  KubeApiError,
  type KubeClient,
  type KubeObject,
  RESOURCES,
  resourcePath,
} from './kube-client.js';
import { createNodes, DEFAULT_NODES, type TestNode } from './nodes.js';
import { findClusterBinaries } from './paths.js';
import { StandInKubelet } from './stand-in-kubelet.js';
import { acquireStartupLock } from './startup-lock.js';

export { ADMIN_USER, RESTRICTED_USER } from './control-plane.js';
/** Namespace where the restricted user may only get/list/watch Argo Workflows and pods. */
export const RESTRICTED_NAMESPACE = 'kubeflow';

export interface StartClusterOptions {
  nodes?: readonly TestNode[];
  crds?: readonly CrdSource[];
  /** Created at start (with a `default` service account); `kubeflow` is always created. */
  namespaces?: readonly string[];
  /** Milliseconds to wait for the API server to become ready (default 60 s). */
  readyTimeoutMs?: number;
  /** More kube-apiserver flags (later flags win). */
  apiServerArgs?: readonly string[];
}

export interface TestCluster {
  /** `https://127.0.0.1:PORT`. */
  server: string;
  /** Kubeconfig with contexts `admin` (current) and `restricted`; cluster CA embedded. */
  kubeconfigPath: string;
  caCert: string;
  adminToken: string;
  restrictedToken: string;
  /** REST clients as the admin (system:masters) and as the restricted user. */
  admin: KubeClient;
  restricted: KubeClient;
  kubelet: StandInKubelet;
  /** Temp dir holding certs, tokens, logs and etcd's data; removed by stop(). */
  dir: string;
  pids: { etcd: number; kubeApiserver: number };
  /** Milliseconds from startCluster() until everything was ready (without the lock wait). */
  startupMs: number;
  /** Milliseconds startCluster() waited for another cluster's start-up (./startup-lock.ts). */
  startupLockWaitMs: number;
  /** A non-loopback IPv4 of this machine that Endpoints may name (service proxy), if any. */
  hostAddress: string | undefined;
  /** Creates a namespace (and its `default` service account); ignores "already exists". */
  ensureNamespace(name: string): Promise<void>;
  /** Stops kube-apiserver, etcd and the kubelet by process group; removes the temp dir. */
  stop(): Promise<void>;
}

/** Why the cluster cannot start here (binaries missing), or undefined when it can. */
export function clusterUnavailableReason(): string | undefined {
  const found = findClusterBinaries();
  return typeof found === 'string' ? found : undefined;
}

function scratchBase(): string {
  // etcd fsyncs every write: tmpfs keeps that cheap on a busy 2-core machine.
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function ignoreConflict(promise: Promise<unknown>): Promise<void> {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof KubeApiError && error.status === 409)) throw error;
  }
}

export async function startCluster(options: StartClusterOptions = {}): Promise<TestCluster> {
  const binaries = findClusterBinaries();
  if (typeof binaries === 'string') throw new Error(binaries);
  const lock = await acquireStartupLock();
  const started = Date.now();
  const crds = options.crds ?? HARNESS_CRDS;
  const scratch = scratchBase();
  // CRDs come from an etcd template (built once per machine; see ./cluster-template.ts).
  const template = crds.length > 0 ? await ensureCrdTemplate(binaries, crds, scratch) : undefined;
  const dir = mkdtempSync(join(scratch, 'cellflow-cluster-'));
  let plane: ControlPlane | undefined;
  let kubelet: StandInKubelet | undefined;
  let restricted: KubeClient | undefined;
  const watchAbort = new AbortController();
  const stop = async (): Promise<void> => {
    lock.release();
    watchAbort.abort();
    restricted?.close();
    await plane?.stop();
    await kubelet?.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    plane = await startControlPlane(binaries, dir, {
      ...(options.apiServerArgs !== undefined ? { apiServerArgs: options.apiServerArgs } : {}),
      ...(options.readyTimeoutMs !== undefined ? { readyTimeoutMs: options.readyTimeoutMs } : {}),
      ...(template !== undefined ? { etcdTemplate: template } : {}),
    });
    const { admin, certs } = plane;
    restricted = admin.withToken(plane.restrictedToken);
    kubelet = new StandInKubelet({ cert: certs.serverCert, key: certs.serverKey });
    await kubelet.listen();

    const ensureNamespace = async (name: string): Promise<void> => {
      await ignoreConflict(
        admin.create(resourcePath(RESOURCES.namespaces), {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name },
        }),
      );
      await ensureDefaultServiceAccount(admin, name);
    };
    const namespaces = ['default', 'kubeflow', ...(options.namespaces ?? [])];
    await Promise.all([
      ...namespaces.map(ensureNamespace),
      grantRestrictedUser(admin),
      waitCrdsServed(admin, crds),
      createNodes(admin, options.nodes ?? DEFAULT_NODES, kubelet.port),
    ]);
    runServiceAccountController(admin, watchAbort.signal);
    lock.releaseWhenQuiet(plane.apiServer.pid);

    const kubeconfigPath = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfigPath,
      buildKubeconfig(plane.server, certs.caCert, plane.adminToken, plane.restrictedToken),
      { mode: 0o600 },
    );
    return {
      server: plane.server,
      kubeconfigPath,
      caCert: certs.caCert,
      adminToken: plane.adminToken,
      restrictedToken: plane.restrictedToken,
      admin,
      restricted,
      kubelet,
      dir,
      pids: { etcd: plane.etcd.pid, kubeApiserver: plane.apiServer.pid },
      startupMs: Date.now() - started,
      startupLockWaitMs: lock.waitedMs,
      hostAddress: plane.hostAddress,
      ensureNamespace,
      stop,
    };
  } catch (error) {
    const logs = plane?.logTails() ?? '';
    await stop();
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`startCluster failed: ${message}\n${logs}`, { cause: error });
  }
}

async function ensureDefaultServiceAccount(client: KubeClient, namespace: string): Promise<void> {
  await ignoreConflict(
    client.create(resourcePath(RESOURCES.serviceAccounts, { namespace }), {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'default', namespace },
    }),
  );
}

/**
 * What kube-controller-manager's service-account controller does: a `default` service account in
 * every namespace (pods need it to pass admission).
 */
function runServiceAccountController(client: KubeClient, signal: AbortSignal): void {
  const loop = async (): Promise<void> => {
    while (!signal.aborted) {
      try {
        for await (const event of client.watch(resourcePath(RESOURCES.namespaces), { signal })) {
          const name = event.object.metadata.name;
          if (event.type === 'ADDED' && name !== undefined) {
            await ensureDefaultServiceAccount(client, name);
          }
        }
      } catch {
        if (!signal.aborted) await sleep(200);
      }
    }
  };
  loop().catch(() => undefined);
}

async function grantRestrictedUser(client: KubeClient): Promise<void> {
  const namespace = RESTRICTED_NAMESPACE;
  await ignoreConflict(
    client.create(resourcePath(RESOURCES.namespaces), {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: namespace },
    }),
  );
  const role: KubeObject = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'cellflow-restricted-read', namespace },
    rules: [
      { apiGroups: ['argoproj.io'], resources: ['workflows'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
    ],
  };
  const binding: KubeObject = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'cellflow-restricted-read', namespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: RESTRICTED_USER }],
  };
  await ignoreConflict(client.create(resourcePath(RESOURCES.roles, { namespace }), role));
  await ignoreConflict(client.create(resourcePath(RESOURCES.roleBindings, { namespace }), binding));
}

function buildKubeconfig(
  server: string,
  ca: string,
  adminToken: string,
  restrictedToken: string,
): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'cellflow-test',
        cluster: { server, 'certificate-authority-data': Buffer.from(ca).toString('base64') },
      },
    ],
    users: [
      { name: ADMIN_USER, user: { token: adminToken } },
      { name: RESTRICTED_USER, user: { token: restrictedToken } },
    ],
    contexts: [
      {
        name: 'admin',
        context: { cluster: 'cellflow-test', user: ADMIN_USER, namespace: 'kubeflow' },
      },
      {
        name: 'restricted',
        context: {
          cluster: 'cellflow-test',
          user: RESTRICTED_USER,
          namespace: RESTRICTED_NAMESPACE,
        },
      },
    ],
    'current-context': 'admin',
  });
}
