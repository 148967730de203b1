/**
 * Who may start now: at most `concurrency` step processes at once, and a GPU step only when its
 * GPUs are free. Waiters are served in request order, except that a GPU step waiting for busy
 * GPUs does not hold back CPU steps behind it.
 */
import type { GpuResources } from '@cellflow/core';
import type { GpuAllocator } from './gpu-capacity.js';

interface Waiter {
  readonly want: GpuResources | null;
  readonly resolve: (gpus: number[]) => void;
}

export class SlotPool {
  private used = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    private readonly size: number,
    private readonly gpus: GpuAllocator,
  ) {}

  /** Resolves with the GPU indices granted (empty for CPU steps) once the step may start. */
  acquire(want: GpuResources | null): { granted: Promise<number[]>; withdraw: () => boolean } {
    let waiter!: Waiter;
    const granted = new Promise<number[]>((resolve) => {
      waiter = { want, resolve };
    });
    this.waiting.push(waiter);
    this.grant();
    return {
      granted,
      /** Stops waiting; false when the slot was already granted (then release it). */
      withdraw: () => {
        const i = this.waiting.indexOf(waiter);
        if (i >= 0) this.waiting.splice(i, 1);
        return i >= 0;
      },
    };
  }

  release(gpus: readonly number[]): void {
    this.used--;
    this.gpus.give(gpus);
    this.grant();
  }

  private grant(): void {
    for (let i = 0; i < this.waiting.length && this.used < this.size;) {
      const w = this.waiting[i]!;
      const gpus = w.want === null ? [] : this.gpus.take(w.want);
      if (gpus === null) {
        i++;
        continue;
      }
      this.waiting.splice(i, 1);
      this.used++;
      w.resolve(gpus);
    }
  }
}
