/**
 * Deploy's GPU question, the same in both editors: each step that asks for GPUs, its request in
 * words, whether the cluster can give it (core's `checkGpuRequests` against the cluster's pools),
 * and the GPU products the cluster offers with their free counts, to choose another.
 */
import {
  checkGpuRequests,
  type GpuPool,
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
