/** A step's settings: its cells' tags over the notebook's step defaults, and what they request. */
import { EMPTY_CELL_TAGS, type CellTags } from '../tags/cell-tags.js';
import type { StepResources } from './pipeline-graph.js';

/** Later tags win over earlier ones (defaults, then each cell of the step in order). */
export function mergeTags(layers: readonly CellTags[]): CellTags {
  let out: CellTags = EMPTY_CELL_TAGS;
  for (const t of layers) {
    // A layer that sets nothing (most cells have no tags) would leave `out` as it is.
    if (out !== EMPTY_CELL_TAGS && setsNothing(t)) continue;
    out = {
      role: t.role.kind !== 'continue' ? t.role : out.role,
      prev: [...out.prev, ...t.prev.filter((p) => !out.prev.includes(p))],
      ...((t.image ?? out.image) !== undefined ? { image: (t.image ?? out.image)! } : {}),
      ...((t.cache ?? out.cache) !== undefined ? { cache: (t.cache ?? out.cache)! } : {}),
      ...((t.gpu ?? out.gpu) !== undefined ? { gpu: (t.gpu ?? out.gpu)! } : {}),
      ...((t.gpuVendor ?? out.gpuVendor) !== undefined
        ? { gpuVendor: (t.gpuVendor ?? out.gpuVendor)! }
        : {}),
      ...((t.cpu ?? out.cpu) !== undefined ? { cpu: (t.cpu ?? out.cpu)! } : {}),
      ...((t.memory ?? out.memory) !== undefined ? { memory: (t.memory ?? out.memory)! } : {}),
      limits: { ...out.limits, ...t.limits },
      ...((t.retries ?? out.retries) !== undefined ? { retries: (t.retries ?? out.retries)! } : {}),
      ...((t.timeout ?? out.timeout) !== undefined ? { timeout: (t.timeout ?? out.timeout)! } : {}),
      env: { ...out.env, ...t.env },
      secrets: [...out.secrets, ...t.secrets],
      labels: { ...out.labels, ...t.labels },
      annotations: { ...out.annotations, ...t.annotations },
      serve: [...out.serve, ...t.serve.filter((s) => !out.serve.includes(s))],
      packages: [...out.packages, ...t.packages.filter((p) => !out.packages.includes(p))],
      foreign: [...out.foreign, ...t.foreign],
    };
  }
  return out;
}

const unset = (value: unknown): boolean => value === undefined;
const empty = (list: readonly unknown[]): boolean => list.length === 0;
function hasNoKeys(record: Readonly<Record<string, string>>): boolean {
  for (const key in record) if (Object.hasOwn(record, key)) return false;
  return true;
}

/**
 * For each setting of `CellTags` (a new one must be added here: the type asks for every key),
 * whether a layer's value of it leaves the merged value as it is.
 */
const LEAVES_AS_IS: { readonly [K in keyof CellTags]-?: (value: CellTags[K]) => boolean } = {
  role: (role) => role.kind === 'continue',
  prev: empty,
  image: unset,
  cache: unset,
  gpu: unset,
  gpuVendor: unset,
  cpu: unset,
  memory: unset,
  limits: hasNoKeys,
  retries: unset,
  timeout: unset,
  env: hasNoKeys,
  secrets: empty,
  labels: hasNoKeys,
  annotations: hasNoKeys,
  serve: empty,
  packages: empty,
  foreign: empty,
};
const SETTINGS = Object.keys(LEAVES_AS_IS) as (keyof CellTags)[];

/** Whether merging `t` over any tags leaves them as they are. */
function setsNothing(t: CellTags): boolean {
  for (const key of SETTINGS)
    if (!(LEAVES_AS_IS[key] as (value: unknown) => boolean)(t[key])) return false;
  return true;
}

export function resourcesOf(tags: CellTags): StepResources {
  const vendor = tags.gpuVendor ?? 'nvidia';
  return {
    cpu: tags.cpu ?? null,
    memory: tags.memory ?? null,
    gpu:
      tags.gpu !== undefined
        ? {
            count: tags.gpu.count,
            resource: vendor === 'amd' ? 'amd.com/gpu' : 'nvidia.com/gpu',
            product: tags.gpu.product ?? null,
          }
        : null,
    limits: tags.limits,
  };
}
