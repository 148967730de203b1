/**
 * GPUs on this machine: found with `nvidia-smi` when present (else none), checked against what the
 * steps ask for before a run starts, and handed out to running steps (`CUDA_VISIBLE_DEVICES`).
 */
import { execFile } from 'node:child_process';
import {
  checkGpuRequests,
  type GpuPool,
  type GpuResources,
  type PipelineGraph,
} from '@cellflow/core';
import type { GpuDevice } from '../backend.js';

export interface GpuInventory {
  readonly gpus: readonly GpuDevice[];
  readonly source: string;
}

function parseNvidiaSmi(stdout: string): GpuDevice[] {
  const gpus: GpuDevice[] = [];
  for (const line of stdout.split('\n')) {
    const [index, name, memory] = line.split(',').map((s) => s.trim());
    if (index === undefined || !/^\d+$/.test(index) || name === undefined) continue;
    const mib = Number(memory);
    gpus.push({
      index: Number(index),
      name,
      vendor: 'nvidia',
      memoryMiB: Number.isFinite(mib) ? mib : null,
    });
  }
  return gpus;
}

function describeGpus(gpus: readonly GpuDevice[]): string {
  if (gpus.length === 0) return 'none (nvidia-smi lists no GPUs)';
  const counts = new Map<string, number>();
  for (const g of gpus) counts.set(g.name, (counts.get(g.name) ?? 0) + 1);
  return `${[...counts].map(([name, n]) => `${n} × ${name}`).join(', ')} (nvidia-smi)`;
}

/** Runs `nvidia-smi`; honours a `CUDA_VISIBLE_DEVICES` the user already set (numeric indices). */
export function detectGpus(
  nvidiaSmi = 'nvidia-smi',
  env: NodeJS.ProcessEnv = process.env,
): Promise<GpuInventory> {
  return new Promise((resolve) => {
    execFile(
      nvidiaSmi,
      ['--query-gpu=index,name,memory.total', '--format=csv,noheader,nounits'],
      { timeout: 10_000, env },
      (error, stdout) => {
        if (error !== null) {
          const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
          resolve({
            gpus: [],
            source: missing
              ? 'none (nvidia-smi not found)'
              : `none (nvidia-smi failed: ${error.message.split('\n')[0]})`,
          });
          return;
        }
        let gpus = parseNvidiaSmi(stdout);
        const visible = env.CUDA_VISIBLE_DEVICES;
        if (visible !== undefined && /^[\d,\s]*$/.test(visible)) {
          const allowed = new Set(
            visible
              .split(',')
              .filter((s) => s.trim() !== '')
              .map(Number),
          );
          gpus = gpus.filter((g) => allowed.has(g.index));
        }
        resolve({ gpus, source: describeGpus(gpus) });
      },
    );
  });
}

/** The node-label form of a driver's product name: `NVIDIA A100-SXM4-80GB` -> `NVIDIA-A100-SXM4-80GB`. */
export function productLabel(device: GpuDevice): string {
  return device.name.trim().replace(/\s+/g, '-');
}

function suitable(gpus: readonly GpuDevice[], want: GpuResources): GpuDevice[] {
  const resource = (g: GpuDevice): string =>
    g.vendor === 'amd' ? 'amd.com/gpu' : 'nvidia.com/gpu';
  return gpus.filter(
    (g) =>
      resource(g) === want.resource && (want.product === null || productLabel(g) === want.product),
  );
}

/** This machine as GPU pools (one per product), for core's `checkGpuRequests`. */
export function gpuPoolsOf(inventory: GpuInventory): GpuPool[] {
  const byProduct = new Map<string, GpuDevice[]>();
  for (const g of inventory.gpus)
    byProduct.set(productLabel(g), [...(byProduct.get(productLabel(g)) ?? []), g]);
  return [...byProduct].map(([product, devices]) => ({
    node: 'this machine',
    resource: devices[0]!.vendor === 'amd' ? 'amd.com/gpu' : 'nvidia.com/gpu',
    product,
    allocatable: devices.length,
    free: devices.length,
  }));
}

/**
 * Why this machine cannot run the graph's GPU steps, one message per step; empty when it can.
 * Local runs use NVIDIA GPUs found by `nvidia-smi`.
 */
export function findUnmetGpuRequests(graph: PipelineGraph, inventory: GpuInventory): string[] {
  return checkGpuRequests(graph, gpuPoolsOf(inventory), 'this machine')
    .filter((d) => d.severity === 'error')
    .map((d) => d.message);
}

/**
 * Who asks this machine for runs, which decides how a refusal names the way to run GPU steps
 * without GPUs: the command line's flag, or the editors' choice (a button on the refusal and a
 * setting, both called "Run without GPUs").
 */
export type GpuRefusalAsker = 'command-line' | 'editor';

/** The refusal of a run whose GPU requests (`findUnmetGpuRequests`) this machine cannot meet. */
export function describeUnmetGpuRequests(
  unmet: readonly string[],
  inventory: GpuInventory,
  askedBy: GpuRefusalAsker,
): string {
  const wayOut = askedBy === 'editor' ? 'choose Run without GPUs' : 'pass --cpu-only';
  return `Not started: ${unmet.join(' ')} (GPUs found on this machine: ${inventory.source}.) Or run those steps here without GPUs: ${wayOut}.`;
}

/** Hands out GPU indices to running steps; a step waits until enough are free. */
export class GpuAllocator {
  private readonly free: Set<number>;

  constructor(private readonly inventory: GpuInventory) {
    this.free = new Set(inventory.gpus.map((g) => g.index));
  }

  /** The indices for `want`, or null when they are busy right now. */
  take(want: GpuResources): number[] | null {
    const ready = suitable(this.inventory.gpus, want).filter((g) => this.free.has(g.index));
    if (ready.length < want.count) return null;
    const taken = ready.slice(0, want.count).map((g) => g.index);
    for (const i of taken) this.free.delete(i);
    return taken;
  }

  give(indices: readonly number[]): void {
    for (const i of indices) this.free.add(i);
  }
}
