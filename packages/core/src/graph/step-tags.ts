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

/** Whether merging `t` over any tags leaves them as they are. */
function setsNothing(t: CellTags): boolean {
  return (
    t.role.kind === 'continue' &&
    t.prev.length === 0 &&
    t.image === undefined &&
    t.cache === undefined &&
    t.gpu === undefined &&
    t.gpuVendor === undefined &&
    t.cpu === undefined &&
    t.memory === undefined &&
    hasNoKeys(t.limits) &&
    t.retries === undefined &&
    t.timeout === undefined &&
    hasNoKeys(t.env) &&
    t.secrets.length === 0 &&
    hasNoKeys(t.labels) &&
    hasNoKeys(t.annotations) &&
    t.serve.length === 0 &&
    t.packages.length === 0 &&
    t.foreign.length === 0
  );
}

function hasNoKeys(record: Readonly<Record<string, string>>): boolean {
  for (const key in record) if (Object.hasOwn(record, key)) return false;
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
