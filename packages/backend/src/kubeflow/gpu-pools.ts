/** The cluster's GPUs as core's `GpuPool`s: nodes' allocatable GPUs, product labels, and what pods hold. */
import { GPU_PRODUCT_LABELS, type GpuPool } from '@cellflow/core';
import type { V1Node, V1Pod } from '@kubernetes/client-node';

/** The fields of a node that count its GPUs. */
export type NodeObject = Pick<V1Node, 'metadata' | 'spec' | 'status'>;
/** The fields of a pod that say which GPUs it holds. */
export type PodObject = Pick<V1Pod, 'spec' | 'status'>;

const GPU_RESOURCES = Object.keys(GPU_PRODUCT_LABELS);

function gpusHeld(pod: PodObject, resource: string): number {
  let total = 0;
  for (const c of pod.spec?.containers ?? [])
    total += Number(c.resources?.limits?.[resource] ?? c.resources?.requests?.[resource] ?? 0) || 0;
  return total;
}

export function gpuPoolsOf(nodes: readonly NodeObject[], pods: readonly PodObject[]): GpuPool[] {
  const pools: GpuPool[] = [];
  for (const node of nodes) {
    if (node.spec?.unschedulable === true) continue;
    for (const resource of GPU_RESOURCES) {
      const allocatable = Number(node.status?.allocatable?.[resource] ?? 0) || 0;
      if (allocatable <= 0) continue;
      const held = pods
        .filter(
          (p) =>
            p.spec?.nodeName === node.metadata?.name &&
            p.status?.phase !== 'Succeeded' &&
            p.status?.phase !== 'Failed',
        )
        .reduce((sum, p) => sum + gpusHeld(p, resource), 0);
      pools.push({
        node: node.metadata?.name ?? '',
        resource,
        product: node.metadata?.labels?.[GPU_PRODUCT_LABELS[resource]!] ?? null,
        allocatable,
        free: Math.max(0, allocatable - held),
      });
    }
  }
  return pools;
}
