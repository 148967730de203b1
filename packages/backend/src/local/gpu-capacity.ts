/**
 * GPUs on this machine: found with `nvidia-smi` when present (else none), checked against what the
 * steps ask for before a run starts, and handed out to running steps (`CUDA_VISIBLE_DEVICES`).
 */
import { execFile } from 'node:child_process';
import type { GpuResources, PipelineGraph } from '@cellflow/core';
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
              ? 'no NVIDIA GPUs (nvidia-smi not found)'
              : `no GPUs (nvidia-smi failed: ${error.message.split('\n')[0]})`,
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
        resolve({ gpus, source: `nvidia-smi (${gpus.length} GPU${gpus.length === 1 ? '' : 's'})` });
      },
    );
  });
}

/** `NVIDIA A100-SXM4-80GB` (driver) matches the node-label form `NVIDIA-A100-SXM4-80GB`. */
function productMatches(device: GpuDevice, product: string | null): boolean {
  if (product === null) return true;
  const norm = (s: string): string => s.toLowerCase().replace(/[\s_]+/g, '-');
  return norm(device.name) === norm(product) || norm(device.name).includes(norm(product));
}

function suitable(gpus: readonly GpuDevice[], want: GpuResources): GpuDevice[] {
  if (want.resource !== 'nvidia.com/gpu') return [];
  return gpus.filter((g) => g.vendor === 'nvidia' && productMatches(g, want.product));
}

function describeWant(want: GpuResources): string {
  const vendor = want.resource === 'amd.com/gpu' ? 'AMD ' : '';
  return `${want.count} ${vendor}GPU${want.count === 1 ? '' : 's'}${want.product !== null ? ` (${want.product})` : ''}`;
}

/** One sentence per step that asks for more GPUs than this machine has. Empty when all fit. */
export function findUnmetGpuRequests(graph: PipelineGraph, inventory: GpuInventory): string[] {
  const problems: string[] = [];
  for (const step of graph.steps) {
    const want = step.resources.gpu;
    if (want === null) continue;
    const have = suitable(inventory.gpus, want).length;
    if (have >= want.count) continue;
    const vendorNote =
      want.resource === 'amd.com/gpu' ? ' AMD GPUs are not used by local runs yet.' : '';
    problems.push(
      `step \`${step.name}\` asks for ${describeWant(want)} but this machine has ${have === 0 ? 'none' : have} (${inventory.source}).${vendorNote}`,
    );
  }
  return problems;
}

/** Hands out GPU indices to running steps; a step waits until enough are free. */
export class GpuPool {
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
