/**
 * etcd + kube-apiserver as two managed process groups in one directory: certificates, token file,
 * flags, readiness. `startCluster` (./harness.ts) adds nodes, namespaces, CRDs and the kubelet.
 */
import { randomBytes } from 'node:crypto';
import { cpSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { type ClusterCerts, writeClusterCerts } from './certs.js';
import { KubeClient } from './kube-client.js';
import type { ClusterBinaries } from './paths.js';
import { freePort, type ManagedProcess, spawnManaged } from './processes.js';

export const ADMIN_USER = 'cellflow-admin';
export const RESTRICTED_USER = 'cellflow-restricted';

/**
 * Flags on top of the harness's own. Beta API versions are off (as on Kubernetes >= 1.22 for most
 * of them): it cuts the server's start-up CPU by ~40%. Pass `--runtime-config=api/beta=true` and
 * `--enable-priority-and-fairness=true` in `apiServerArgs` to get them back.
 */
export const DEFAULT_API_SERVER_ARGS: readonly string[] = [
  '--runtime-config=api/beta=false',
  '--enable-priority-and-fairness=false',
];

export interface ControlPlane {
  dir: string;
  server: string;
  certs: ClusterCerts;
  adminToken: string;
  restrictedToken: string;
  admin: KubeClient;
  etcd: ManagedProcess;
  apiServer: ManagedProcess;
  hostAddress: string | undefined;
  /** API server first (it holds etcd connections), then etcd; SIGTERM, then SIGKILL. */
  stop(): Promise<void>;
  logTails(): string;
}

export interface ControlPlaneOptions {
  apiServerArgs?: readonly string[];
  readyTimeoutMs?: number;
  /** An etcd data directory to start from (a copy is used). */
  etcdTemplate?: string;
}

/** A non-loopback IPv4 of this machine (Endpoints may not name loopback addresses). */
export function hostIPv4(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) {
      if (a.family === 'IPv4' && !a.internal && !a.address.startsWith('169.254.')) return a.address;
    }
  }
  return undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startControlPlane(
  binaries: ClusterBinaries,
  dir: string,
  options: ControlPlaneOptions = {},
): Promise<ControlPlane> {
  const certs = writeClusterCerts(dir);
  const adminToken = randomBytes(24).toString('hex');
  const restrictedToken = randomBytes(24).toString('hex');
  writeFileSync(
    join(dir, 'tokens.csv'),
    `${adminToken},${ADMIN_USER},uid-admin,"system:masters"\n` +
      `${restrictedToken},${RESTRICTED_USER},uid-restricted,"cellflow:restricted"\n`,
    { mode: 0o600 },
  );
  if (options.etcdTemplate !== undefined) {
    cpSync(options.etcdTemplate, join(dir, 'etcd'), { recursive: true });
  }
  const [etcdClientPort, etcdPeerPort, apiPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
  ]);
  const hostAddress = hostIPv4();
  const etcd = startEtcd(binaries, dir, etcdClientPort, etcdPeerPort);
  const apiServer = startApiServer(binaries, dir, {
    apiPort,
    etcdClientPort,
    certs,
    advertiseAddress: hostAddress ?? '192.0.2.1',
    extraArgs: [...DEFAULT_API_SERVER_ARGS, ...(options.apiServerArgs ?? [])],
  });
  const server = `https://127.0.0.1:${apiPort}`;
  const admin = new KubeClient({ server, token: adminToken, ca: certs.caCert });
  const plane: ControlPlane = {
    dir,
    server,
    certs,
    adminToken,
    restrictedToken,
    admin,
    etcd,
    apiServer,
    hostAddress,
    async stop(): Promise<void> {
      admin.close();
      await apiServer.stop();
      await etcd.stop();
    },
    logTails: () =>
      [etcd, apiServer].map((p) => `--- ${p.name} (${p.logFile}) ---\n${p.logTail(20)}`).join('\n'),
  };
  try {
    await waitReady(admin, [etcd, apiServer], options.readyTimeoutMs ?? 60_000);
  } catch (error) {
    const logs = plane.logTails();
    await plane.stop();
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message}\n${logs}`, { cause: error });
  }
  return plane;
}

function startEtcd(
  binaries: ClusterBinaries,
  dir: string,
  clientPort: number,
  peerPort: number,
): ManagedProcess {
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  return spawnManaged(
    'etcd',
    binaries.etcd,
    [
      '--name=default',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=default=${peer}`,
      '--logger=zap',
      '--log-level=warn',
      // Argo's full Workflow CRD is ~1.2 MB of JSON; etcd's default limit is 1.5 MiB.
      '--max-request-bytes=16777216',
    ],
    { cwd: dir, logFile: join(dir, 'etcd.log') },
  );
}

function startApiServer(
  binaries: ClusterBinaries,
  dir: string,
  o: {
    apiPort: number;
    etcdClientPort: number;
    certs: ClusterCerts;
    advertiseAddress: string;
    extraArgs: readonly string[];
  },
): ManagedProcess {
  return spawnManaged(
    'kube-apiserver',
    binaries.kubeApiserver,
    [
      `--etcd-servers=http://127.0.0.1:${o.etcdClientPort}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${o.apiPort}`,
      '--insecure-port=0',
      `--advertise-address=${o.advertiseAddress}`,
      '--endpoint-reconciler-type=none',
      `--cert-dir=${join(dir, 'apiserver-certs')}`,
      `--tls-cert-file=${o.certs.serverCertFile}`,
      `--tls-private-key-file=${o.certs.serverKeyFile}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      `--service-account-key-file=${o.certs.serviceAccountPublicKeyFile}`,
      `--service-account-signing-key-file=${o.certs.serviceAccountKeyFile}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      '--api-audiences=https://kubernetes.default.svc.cluster.local',
      '--service-cluster-ip-range=10.96.0.0/16',
      '--allow-privileged=true',
      `--kubelet-certificate-authority=${o.certs.caCertFile}`,
      '--kubelet-preferred-address-types=InternalIP',
      // Pods get a projected token volume; no token controller is needed for admission.
      '--feature-gates=BoundServiceAccountTokenVolume=true',
      '--profiling=false',
      '--v=1',
      ...o.extraArgs,
    ],
    { cwd: dir, logFile: join(dir, 'kube-apiserver.log') },
  );
}

async function waitReady(
  client: KubeClient,
  processes: ManagedProcess[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    for (const p of processes) {
      if (p.hasExited()) throw new Error(`${p.name} exited during startup`);
    }
    try {
      await client.request('GET', '/readyz');
      return;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline) throw new Error(`API server not ready in time (${last})`);
    await sleep(100);
  }
}
