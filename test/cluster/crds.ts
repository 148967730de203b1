/**
 * The Kubeflow CRDs the harness installs, read from ../shared/schemas and adapted only where
 * Kubernetes 1.20 requires it (Argo's CEL `x-kubernetes-validations` need 1.25+) and without the
 * schemas' `description` texts (61% of Argo's CRD; they only feed `kubectl explain`, and every
 * byte of schema costs the API server CPU at start-up). Validation is unchanged.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { type KubeClient, type KubeObject, RESOURCES, resourcePath } from './kube-client.js';
import { SHARED_SCHEMAS } from './paths.js';

export interface CrdSource {
  /** Path under ../shared/schemas. */
  file: string;
  /** How the API server receives it: POST, or server-side apply (large schemas). */
  install: 'create' | 'server-side-apply';
}

export const HARNESS_CRDS: readonly CrdSource[] = [
  { file: 'argo/argoproj.io_workflows.crd.yaml', install: 'create' },
  { file: 'katib/experiment.crd.yaml', install: 'create' },
  { file: 'katib/trial.crd.yaml', install: 'create' },
  { file: 'katib/suggestion.crd.yaml', install: 'create' },
  { file: 'kserve/inferenceservices.crd.yaml', install: 'server-side-apply' },
];

/** Removes every `x-kubernetes-validations` (CEL) key; 1.20 has no CEL. */
export function stripCelValidations(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripCelValidations);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if (key === 'x-kubernetes-validations') continue;
    out[key] = stripCelValidations(child);
  }
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Removes `description` from every schema node (not from properties that are named so). */
export function stripSchemaDescriptions(schema: unknown): void {
  if (!isObject(schema)) return;
  delete schema.description;
  for (const key of ['properties', 'patternProperties', 'definitions']) {
    const map = schema[key];
    if (isObject(map)) for (const child of Object.values(map)) stripSchemaDescriptions(child);
  }
  for (const key of ['items', 'additionalProperties', 'not']) stripSchemaDescriptions(schema[key]);
  for (const key of ['allOf', 'anyOf', 'oneOf']) {
    const list = schema[key];
    if (Array.isArray(list)) for (const child of list) stripSchemaDescriptions(child);
  }
}

function prepareCrd(doc: KubeObject): KubeObject {
  const crd = stripCelValidations(doc) as KubeObject;
  const versions = (crd.spec as { versions?: { schema?: { openAPIV3Schema?: unknown } }[] })
    .versions;
  for (const v of versions ?? []) stripSchemaDescriptions(v.schema?.openAPIV3Schema);
  return crd;
}

const cache = new Map<string, KubeObject[]>();

/** The CRD documents of one file, ready for a 1.20 API server (parsed once per process). */
export function loadCrd(file: string): KubeObject[] {
  const cached = cache.get(file);
  if (cached !== undefined) return cached;
  const docs = parseAllDocuments(readFileSync(join(SHARED_SCHEMAS, file), 'utf8'))
    .map((d) => d.toJS() as unknown)
    .filter((d): d is KubeObject => typeof d === 'object' && d !== null)
    .map(prepareCrd);
  cache.set(file, docs);
  return docs;
}

/** Installs the CRDs and waits until each is Established and its resource is served. */
export async function installCrds(
  client: KubeClient,
  sources: readonly CrdSource[] = HARNESS_CRDS,
  timeoutMs = 30_000,
): Promise<void> {
  const names: string[] = [];
  await Promise.all(
    sources.flatMap((source) =>
      loadCrd(source.file).map(async (crd) => {
        const name = crd.metadata.name ?? '';
        names.push(name);
        if (source.install === 'server-side-apply') {
          await client.apply(resourcePath(RESOURCES.crds, { name }), crd, 'cellflow-test-harness');
        } else {
          await client.create(resourcePath(RESOURCES.crds), crd);
        }
      }),
    ),
  );
  const deadline = Date.now() + timeoutMs;
  for (const name of names) {
    for (;;) {
      const crd = await client.get<KubeObject & { status?: { conditions?: Condition[] } }>(
        resourcePath(RESOURCES.crds, { name }),
      );
      const established = crd.status?.conditions?.some(
        (c) => c.type === 'Established' && c.status === 'True',
      );
      if (established === true) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} not Established in time`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

interface Condition {
  type: string;
  status: string;
}

/** Waits until every CRD's resource answers a list (the API server serves it). */
export async function waitCrdsServed(
  client: KubeClient,
  sources: readonly CrdSource[] = HARNESS_CRDS,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const paths = sources.flatMap((source) =>
    loadCrd(source.file).map((crd) => {
      const spec = crd.spec as {
        group: string;
        names: { plural: string };
        versions: { name: string; served: boolean }[];
      };
      const version = spec.versions.find((v) => v.served)?.name ?? 'v1';
      return `/apis/${spec.group}/${version}/${spec.names.plural}`;
    }),
  );
  await Promise.all(
    paths.map(async (path) => {
      for (;;) {
        try {
          await client.request('GET', path, { query: { limit: 1 } });
          return;
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }),
  );
}
