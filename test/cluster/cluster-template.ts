/**
 * Installing the large Argo and KServe CRDs costs a 1.20 API server ~15 s of CPU (OpenAPI and
 * structural-schema work on every CRD status change). The harness pays that once per machine:
 * a bootstrap control plane installs the CRDs, stops cleanly, and its etcd data directory becomes
 * a template (keyed by the server version and the CRD files) that every later cluster starts from.
 * Templates live in $CELLFLOW_CLUSTER_TEMPLATES or <tmpdir>/cellflow-cluster-templates.
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  closeSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
  cpSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane } from './control-plane.js';
import { type CrdSource, installCrds, loadCrd } from './crds.js';
import { type ClusterBinaries, KUBE_DEB_VERSION } from './paths.js';
import { isRunning } from '../support/processes.js';

/** Bump when what goes into a template changes. */
const TEMPLATE_FORMAT = 1;

export function templateRoot(): string {
  return process.env.CELLFLOW_CLUSTER_TEMPLATES ?? join(tmpdir(), 'cellflow-cluster-templates');
}

export function templateKey(binaries: ClusterBinaries, crds: readonly CrdSource[]): string {
  const hash = createHash('sha256');
  hash.update(
    `${TEMPLATE_FORMAT}\0${KUBE_DEB_VERSION}\0${binaries.kubeApiserver}\0${binaries.etcd}\0`,
  );
  for (const crd of crds) {
    hash.update(`${crd.file}\0${crd.install}\0`);
    hash.update(JSON.stringify(loadCrd(crd.file))); // what is installed, after adaptation
  }
  return hash.digest('hex').slice(0, 20);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The etcd data directory with `crds` installed, built on first use (one builder at a time). */
export async function ensureCrdTemplate(
  binaries: ClusterBinaries,
  crds: readonly CrdSource[],
  scratch: string,
): Promise<string> {
  const root = templateRoot();
  const key = templateKey(binaries, crds);
  const template = join(root, key);
  const lock = join(root, `${key}.lock`);
  mkdirSync(root, { recursive: true });
  const deadline = Date.now() + 300_000;
  while (!existsSync(join(template, 'member'))) {
    let fd: number | undefined;
    try {
      fd = openSync(lock, 'wx');
    } catch {
      // Someone else builds it: wait, unless they died.
      const owner = Number(readFileSync(lock, 'utf8') || '0');
      if (owner > 0 && !isRunning(owner)) rmSync(lock, { force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      await sleep(500);
      continue;
    }
    try {
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      await buildTemplate(binaries, crds, scratch, template);
    } finally {
      unlinkSync(lock);
    }
  }
  return template;
}

async function buildTemplate(
  binaries: ClusterBinaries,
  crds: readonly CrdSource[],
  scratch: string,
  template: string,
): Promise<void> {
  const dir = mkdtempSync(join(scratch, 'cellflow-template-'));
  try {
    const plane = await startControlPlane(binaries, dir);
    try {
      await installCrds(plane.admin, crds);
    } finally {
      await plane.stop(); // SIGTERM: etcd flushes and closes its WAL cleanly
    }
    const partial = `${template}.${process.pid}.tmp`;
    rmSync(partial, { recursive: true, force: true });
    cpSync(join(dir, 'etcd'), partial, { recursive: true });
    renameSync(partial, template);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
