/**
 * Deploy's GPU question, the same in both editors: each step that asks for GPUs, its request in
 * words, whether the cluster can give it (core's `checkGpuRequests` against the cluster's pools),
 * and what to ask for instead (a product the cluster offers with its free count, any GPU, or
 * none), written into the step's `gpu:` tag by core's `withGpu`.
 */
import {
  checkGpuRequests,
  withGpu,
  type GpuPool,
  type GpuRequest,
  type GpuVendor,
  type PipelineGraph,
  type PipelineStep,
} from '@cellflow/core';

export interface GpuProduct {
  /** The product label (`NVIDIA-A100-SXM4-80GB`), or the resource name when nodes carry none. */
  readonly product: string;
  readonly free: number;
  readonly total: number;
}

/** Products the cluster offers, with free and allocatable counts summed over nodes. */
export function gpuProductsOf(pools: readonly GpuPool[]): GpuProduct[] {
  const byProduct = new Map<string, { free: number; total: number }>();
  for (const pool of pools) {
    const key = pool.product ?? pool.resource;
    const seen = byProduct.get(key) ?? { free: 0, total: 0 };
    byProduct.set(key, { free: seen.free + pool.free, total: seen.total + pool.allocatable });
  }
  return [...byProduct].map(([product, n]) => ({ product, ...n }));
}

/** `2 × NVIDIA-A100-SXM4-80GB`, `1 × nvidia.com/gpu`, `no GPU`. */
export function describeGpuRequest(step: PipelineStep): string {
  const gpu = step.resources.gpu;
  return gpu === null ? 'no GPU' : `${gpu.count} × ${gpu.product ?? gpu.resource}`;
}

export interface GpuFit {
  readonly step: PipelineStep;
  /** The request in words (`describeGpuRequest`). */
  readonly request: string;
  /** `error`: the cluster cannot give it (the run would be refused); `warning`: it may wait. */
  readonly severity: 'fits' | 'warning' | 'error';
  /** What is wrong and how to fix it, or `fits`. */
  readonly message: string;
}

/** Each GPU step of the graph against the cluster's pools; empty when no step asks for GPUs. */
export function gpuFitOf(
  graph: PipelineGraph,
  pools: readonly GpuPool[],
  target: string,
): GpuFit[] {
  const problems = checkGpuRequests(graph, pools, target);
  return graph.steps
    .filter((s) => s.resources.gpu !== null)
    .map((step) => {
      const problem = problems.find((d) => d.cell !== null && step.cells.includes(d.cell));
      return {
        step,
        request: describeGpuRequest(step),
        severity:
          problem === undefined ? 'fits' : problem.severity === 'error' ? 'error' : 'warning',
        message: problem?.message ?? 'fits',
      };
    });
}

/** One answer to "which GPUs for this step?": a product the cluster offers, any GPU, or none. */
export interface GpuChoice {
  /** A stable value for a select or a test: `product:<product>`, `any`, `none`. */
  readonly id: string;
  readonly label: string;
  /** `3 of 8 free`, `no product constraint`, `run this step on CPUs`. */
  readonly description: string;
  /** What the `gpu:` tag asks for; null: no GPU. */
  readonly gpu: { readonly product: string | null; readonly vendor: GpuVendor } | null;
  /** Free GPUs of the product now (products only): the count offered first. */
  readonly free?: number;
}

/** `amd.com/gpu` is AMD's; every other GPU resource is NVIDIA's (the tags know these two). */
function vendorOf(resource: string): GpuVendor {
  return resource === 'amd.com/gpu' ? 'amd' : 'nvidia';
}

/**
 * The choices for a step's GPUs on a cluster: each named product its nodes offer (with free and
 * total counts), then any GPU, then none. Nodes that do not name their product add no choice.
 */
export function gpuChoicesOf(pools: readonly GpuPool[]): GpuChoice[] {
  const byProduct = new Map<string, { vendor: GpuVendor; free: number; total: number }>();
  for (const pool of pools) {
    if (pool.product === null) continue;
    const seen = byProduct.get(pool.product) ?? {
      vendor: vendorOf(pool.resource),
      free: 0,
      total: 0,
    };
    byProduct.set(pool.product, {
      ...seen,
      free: seen.free + pool.free,
      total: seen.total + pool.allocatable,
    });
  }
  return [
    ...[...byProduct].map(([product, n]): GpuChoice => ({
      id: `product:${product}`,
      label: product,
      description: `${n.free} of ${n.total} free`,
      gpu: { product, vendor: n.vendor },
      free: n.free,
    })),
    {
      id: 'any',
      label: 'Any GPU',
      description: 'no product constraint',
      gpu: { product: null, vendor: 'nvidia' },
    },
    { id: 'none', label: 'No GPU', description: 'run this step on CPUs', gpu: null },
  ];
}

/** The count offered first: the step's own, at most what is free now (at least 1). */
export function suggestedGpuCount(step: PipelineStep, choice: GpuChoice): number {
  const asked = step.resources.gpu?.count ?? 1;
  return choice.free === undefined ? asked : Math.min(asked, Math.max(choice.free, 1));
}

/** What a GPU count must be, for the editors' input hints. */
export const GPU_COUNT_RULE = 'A whole number, 1 or more';

/** A GPU count as typed, or undefined when it is not a whole number of 1 or more. */
export function parseGpuCount(text: string): number | undefined {
  const trimmed = text.trim();
  return /^[1-9]\d{0,5}$/.test(trimmed) ? Number(trimmed) : undefined;
}

/** The cell of a step that carries its `gpu:` tag (else its first cell). */
export function gpuTagCellOf(
  step: PipelineStep,
  hasGpuTag: (cell: number) => boolean,
): number | undefined {
  return step.cells.find(hasGpuTag) ?? step.cells[0];
}

/** A cell's tags with the step's GPU request changed to `count` of `choice` (core's `withGpu`). */
export function withGpuChoice(
  rawTags: readonly string[],
  choice: GpuChoice,
  count: number,
): string[] {
  if (choice.gpu === null) return withGpu(rawTags, undefined);
  const request: GpuRequest = {
    count,
    ...(choice.gpu.product !== null ? { product: choice.gpu.product } : {}),
  };
  return withGpu(rawTags, request, choice.gpu.vendor);
}
