/**
 * What a cell's status bar says about its tags (`step: train`, `after: load`, `GPU 1 × A100`).
 * Pure: takes core's parsed tags, returns text; the status bar provider adds commands.
 */
import { parseCellTags, type CellTags, type GpuRequest } from '@cellflow/core';

/** Which editor a click on the item opens. */
export type TagItemAction =
  'role' | 'dependency' | 'serve' | 'gpu' | 'image' | 'resources' | 'problems';

export interface TagItem {
  readonly text: string;
  readonly tooltip: string;
  readonly action: TagItemAction;
}

/** `NVIDIA-A100-SXM4-80GB` -> `A100`; unknown shapes stay as written. */
export function shortGpuProduct(product: string): string {
  const rest = product.replace(/^(NVIDIA|AMD)[-_ ]/i, '');
  return rest.split(/[-_ ]/)[0] || product;
}

export function describeGpu(gpu: GpuRequest): string {
  return `GPU ${gpu.count}${gpu.product !== undefined ? ` × ${shortGpuProduct(gpu.product)}` : ''}`;
}

function roleItem(tags: CellTags): TagItem | undefined {
  const role = tags.role;
  switch (role.kind) {
    case 'step':
      return {
        text: `step: ${role.name}`,
        tooltip: `Starts the pipeline step "${role.name}"; untagged cells below join it.`,
        action: 'role',
      };
    case 'imports':
      return { text: 'imports', tooltip: 'Prepended to every step.', action: 'role' };
    case 'functions':
      return { text: 'functions', tooltip: 'Prepended to every step.', action: 'role' };
    case 'parameters':
      return { text: 'parameters', tooltip: 'Pipeline parameters.', action: 'role' };
    case 'metrics':
      return { text: 'metrics', tooltip: 'Pipeline metrics.', action: 'role' };
    case 'skip':
      return { text: 'skip', tooltip: 'Not part of the pipeline.', action: 'role' };
    case 'continue':
      return undefined;
  }
}

/**
 * Status items for one cell's raw `metadata.tags`, in display order. `after`: on the cell that
 * starts a step, the steps it runs after as the pipeline graph has them (its `prev:` tags and the
 * steps whose variables it loads); without it, the `prev:` tags alone.
 */
export function describeCellTags(
  rawTags: readonly string[],
  after?: {
    readonly steps: readonly string[];
    readonly inputSources: Readonly<Record<string, string>>;
  },
): TagItem[] {
  const { tags, problems } = parseCellTags(rawTags);
  const items: TagItem[] = [];
  const role = roleItem(tags);
  if (role !== undefined) items.push(role);
  const steps = after?.steps ?? tags.prev;
  if (steps.length > 0) {
    const loads = (step: string): string[] =>
      Object.entries(after?.inputSources ?? {})
        .filter(([, from]) => from === step)
        .map(([name]) => name);
    items.push({
      text: `after: ${steps.join(', ')}`,
      tooltip: steps
        .map((s) => {
          const uses = loads(s);
          return `${s}: ${tags.prev.includes(s) ? '`prev:` tag' : ''}${tags.prev.includes(s) && uses.length > 0 ? '; ' : ''}${uses.length > 0 ? `uses ${uses.join(', ')}` : ''}`;
        })
        .join('\n'),
      action: 'dependency',
    });
  }
  if (tags.serve.length > 0)
    items.push({
      text: `serve: ${tags.serve.join(', ')}`,
      tooltip: 'Served as a model by Serve Model…',
      action: 'serve',
    });
  if (tags.gpu !== undefined)
    items.push({
      text: describeGpu(tags.gpu),
      tooltip: `${tags.gpu.count} GPU(s)${tags.gpu.product !== undefined ? ` of product ${tags.gpu.product}` : ''}${tags.gpuVendor === 'amd' ? ' (AMD)' : ''}`,
      action: 'gpu',
    });
  if (tags.image !== undefined)
    items.push({ text: `image: ${tags.image}`, tooltip: 'Container image.', action: 'image' });
  const resources = [
    tags.cpu !== undefined ? `cpu ${tags.cpu}` : '',
    tags.memory !== undefined ? `mem ${tags.memory}` : '',
  ].filter((s) => s !== '');
  if (resources.length > 0)
    items.push({ text: resources.join(' · '), tooltip: 'Resources.', action: 'resources' });
  if (problems.length > 0)
    items.push({
      text: `$(warning) ${problems.length === 1 ? '1 tag problem' : `${problems.length} tag problems`}`,
      tooltip: problems.map((p) => p.message).join('\n'),
      action: 'problems',
    });
  return items;
}
