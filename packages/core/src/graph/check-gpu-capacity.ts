/**
 * GPU requests checked against what a target can give, before anything is submitted: a step that
 * asks for a product no node has, or for more GPUs than any one node holds, is refused with the
 * list of what exists; one that must wait for busy GPUs gets a warning.
 */
import { diagnosticFor, type Diagnostic } from '../diagnostics.js';
import type { PipelineGraph } from './pipeline-graph.js';

/** GPUs of one kind on one node (a laptop is one node). */
export interface GpuPool {
  readonly node: string;
  /** Extended resource name: `nvidia.com/gpu`, `amd.com/gpu`. */
  readonly resource: string;
  /** Product label value (`NVIDIA-A100-SXM4-80GB`), or null when the node does not say. */
  readonly product: string | null;
  /** GPUs the node offers to pods. */
  readonly allocatable: number;
  /** Of those, how many no running pod holds now. */
  readonly free: number;
}

/** "4 × NVIDIA-A100-SXM4-80GB on gpu-node-1 (2 free)". */
export function describeGpuPool(pool: GpuPool): string {
  return `${pool.allocatable} × ${pool.product ?? pool.resource} on ${pool.node} (${pool.free} free)`;
}

function available(pools: readonly GpuPool[]): string {
  return pools.length === 0 ? 'none (no node offers GPUs)' : pools.map(describeGpuPool).join('; ');
}

/** `where` names the target in messages ("this machine", "cluster context kind-gpu"). */
export function checkGpuRequests(
  graph: PipelineGraph,
  pools: readonly GpuPool[],
  where: string,
): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  for (const step of graph.steps) {
    const gpu = step.resources.gpu;
    if (gpu === null) continue;
    const cell = step.cells[0] ?? null;
    const report = (code: 'gpu-unavailable' | 'gpu-busy', message: string): void => {
      diagnostics.push(diagnosticFor(code, cell, null, message));
    };
    const wanted = `${gpu.count} × ${gpu.product ?? gpu.resource}`;
    const ofResource = pools.filter((p) => p.resource === gpu.resource);
    const matching = ofResource.filter((p) => gpu.product === null || p.product === gpu.product);
    if (matching.length === 0) {
      const products = [
        ...new Set(ofResource.map((p) => p.product).filter((p): p is string => p !== null)),
      ];
      report(
        'gpu-unavailable',
        `Step \`${step.name}\` asks for ${wanted}, but ${where} has no ${gpu.product !== null && ofResource.length > 0 ? `node with that product` : `\`${gpu.resource}\` GPUs`}. ` +
          `Available: ${available(pools)}. ` +
          (products.length > 0
            ? `Fix: tag the step \`gpu:${gpu.count}:${products[0]}\` (or another listed product), or pick another target.`
            : 'Fix: remove the `gpu:` tag to run on CPU, or pick a target with GPUs.'),
      );
      continue;
    }
    const largest = Math.max(...matching.map((p) => p.allocatable));
    if (largest < gpu.count) {
      report(
        'gpu-unavailable',
        `Step \`${step.name}\` asks for ${wanted}, but the largest matching node on ${where} has ${largest}; a step runs on one node. ` +
          `Available: ${available(matching)}. Fix: ask for at most ${largest} (\`gpu:${largest}${gpu.product !== null ? `:${gpu.product}` : ''}\`).`,
      );
      continue;
    }
    const mostFree = Math.max(...matching.map((p) => p.free));
    if (mostFree < gpu.count) {
      report(
        'gpu-busy',
        `Step \`${step.name}\` asks for ${wanted}; on ${where} at most ${mostFree} are free on one node right now, so it will wait for running work to finish. Available: ${available(matching)}.`,
      );
    }
  }
  return diagnostics;
}
