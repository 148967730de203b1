/**
 * Tag changes the editors make (set a role, a dependency, a GPU request...), as pure functions
 * from a cell's raw tags to its new tags. Every change goes through the parser and formatter, so
 * tags come out canonical and tags that are not Cellflow's stay.
 */
import {
  formatCellTags,
  parseCellTags,
  type CellRole,
  type CellTags,
  type GpuRequest,
  type GpuVendor,
} from './cell-tags.js';

function edit(rawTags: readonly string[], change: (tags: CellTags) => CellTags): string[] {
  return formatCellTags(change(parseCellTags(rawTags).tags));
}

export function withRole(rawTags: readonly string[], role: CellRole): string[] {
  return edit(rawTags, (t) => ({ ...t, role }));
}

export function withDependency(rawTags: readonly string[], step: string): string[] {
  return edit(rawTags, (t) => (t.prev.includes(step) ? t : { ...t, prev: [...t.prev, step] }));
}

export function withoutDependency(rawTags: readonly string[], step: string): string[] {
  return edit(rawTags, (t) => ({ ...t, prev: t.prev.filter((p) => p !== step) }));
}

function without<K extends keyof CellTags>(tags: CellTags, key: K): CellTags {
  const copy: Partial<CellTags> = { ...tags };
  delete copy[key];
  return copy as CellTags;
}

/**
 * Sets the GPU request; `undefined` removes it (and its vendor). `vendor`, when given, says whose
 * GPUs (`amd` writes `gpu-vendor:amd`; `nvidia`, the default, writes none); else it stays.
 */
export function withGpu(
  rawTags: readonly string[],
  gpu: GpuRequest | undefined,
  vendor?: GpuVendor,
): string[] {
  return edit(rawTags, (t) => {
    if (gpu === undefined) return without(without(t, 'gpu'), 'gpuVendor');
    const changed = { ...t, gpu };
    return vendor === undefined
      ? changed
      : vendor === 'nvidia'
        ? without(changed, 'gpuVendor')
        : { ...changed, gpuVendor: vendor };
  });
}

/** Sets the variables the step serves as models (`serve:NAME` tags); an empty list removes them. */
export function withServe(rawTags: readonly string[], variables: readonly string[]): string[] {
  return edit(rawTags, (t) => ({ ...t, serve: [...new Set(variables)] }));
}

type TextSetting = 'image' | 'cpu' | 'memory';

/** Sets `image:`, `cpu:` or `memory:`; an empty value removes it. */
export function withSetting(rawTags: readonly string[], key: TextSetting, value: string): string[] {
  const v = value.trim();
  return edit(rawTags, (t) => (v === '' ? without(t, key) : { ...t, [key]: v }));
}
