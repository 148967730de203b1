/** The cluster's GPUs as core's `GpuPool`s: nodes' allocatable GPUs, product labels, and what pods hold. */
import { GPU_PRODUCT_LABELS, type GpuPool } from '@cellflow/core';

export interface NodeObject {
  readonly metadata: { readonly name: string; readonly labels?: Readonly<Record<string, string>> };
  readonly spec?: { readonly unschedulable?: boolean };
  readonly status?: { readonly allocatable?: Readonly<Record<string, string>> };
}

export interface PodObject {
  readonly spec?: {
    readonly nodeName?: string;
    readonly containers?: readonly {
      readonly resources?: {
        readonly limits?: Readonly<Record<string, string>>;
        readonly requests?: Readonly<Record<string, string>>;
      };
    }[];
  };
  readonly status?: { readonly phase?: string };
}

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
            p.spec?.nodeName === node.metadata.name &&
            p.status?.phase !== 'Succeeded' &&
            p.status?.phase !== 'Failed',
        )
        .reduce((sum, p) => sum + gpusHeld(p, resource), 0);
      pools.push({
        node: node.metadata.name,
        resource,
        product: node.metadata.labels?.[GPU_PRODUCT_LABELS[resource]!] ?? null,
        allocatable,
        free: Math.max(0, allocatable - held),
      });
    }
  }
  return pools;
}
