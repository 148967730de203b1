/**
 * Tag changes the commands make, as pure functions from a cell's raw tags to its new tags. Every
 * change goes through core's parser and formatter, so tags come out canonical and foreign tags stay.
 */
import {
  formatCellTags,
  parseCellTags,
  type CellRole,
  type CellTags,
  type GpuRequest,
} from '@cellflow/core';

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

/** `undefined` removes the GPU request. */
export function withGpu(rawTags: readonly string[], gpu: GpuRequest | undefined): string[] {
  return edit(rawTags, (t) => (gpu === undefined ? without(t, 'gpu') : { ...t, gpu }));
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
