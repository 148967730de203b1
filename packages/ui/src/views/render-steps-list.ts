/** The steps of a pipeline as a list: name, what each runs after, its data inputs and resources. */
import type { PipelineGraph, PipelineStep } from '@cellflow/core';
import { element as h } from '../webview/element.js';

export function describeStepResources(step: PipelineStep): string {
  const parts: string[] = [];
  const { cpu, memory, gpu } = step.resources;
  if (gpu !== null)
    parts.push(`GPU ${gpu.count}${gpu.product !== null ? ` × ${gpu.product}` : ''}`);
  if (cpu !== null) parts.push(`CPU ${cpu}`);
  if (memory !== null) parts.push(`memory ${memory}`);
  return parts.join(', ');
}

/** `states`: live step states to show beside each step (from the current run), if any. */
export function renderStepsList(
  container: HTMLElement,
  graph: PipelineGraph | undefined,
  states: ReadonlyMap<string, string> = new Map(),
): void {
  if (graph === undefined || graph.steps.length === 0) {
    container.replaceChildren(
      h('p', { class: 'cf-empty' }, 'No steps yet: tag a code cell with step:NAME.'),
    );
    return;
  }
  container.replaceChildren(
    h(
      'ol',
      { class: 'cf-steps' },
      ...graph.steps.map((step) => {
        const state = states.get(step.name);
        const item = h(
          'li',
          { class: 'cf-step', 'data-step': step.name, 'data-state': state ?? '' },
          h('span', { class: 'cf-step-name' }, step.name),
        );
        if (state !== undefined)
          item.append(h('span', { class: `cf-badge cf-state-${state}` }, state));
        if (step.after.length > 0)
          item.append(h('div', { class: 'cf-step-after' }, `after ${step.after.join(', ')}`));
        if (step.inputs.length > 0)
          item.append(h('div', { class: 'cf-step-inputs' }, `loads ${step.inputs.join(', ')}`));
        const resources = describeStepResources(step);
        if (resources !== '') item.append(h('div', { class: 'cf-step-resources' }, resources));
        item.append(h('div', { class: 'cf-step-image' }, step.image));
        return item;
      }),
    ),
  );
}
