/**
 * Draws a `GraphLayout` as SVG into a container (browser DOM). Colours come from CSS classes
 * (`cf-node`, `cf-state-running`, ...) so each host themes it with its own variables.
 */
import type { GraphLayout } from './graph-layout.js';
import type { StepState } from '@cellflow/protocol';

const SVG = 'http://www.w3.org/2000/svg';

function el<K extends keyof SVGElementTagNameMap>(
  name: K,
  attrs: Record<string, string | number>,
  parent: Element,
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  parent.appendChild(node);
  return node;
}

export interface RenderOptions {
  readonly onStepClick?: (step: string) => void;
  /**
   * The smallest scale the graph is drawn at when the container is narrower than the layout
   * (default: any); 1 keeps labels at their size (11-13 px) and lets the container scroll.
   */
  readonly minScale?: number;
}

export function renderPipelineGraph(
  container: HTMLElement,
  layout: GraphLayout,
  states: Readonly<Record<string, StepState>>,
  options: RenderOptions = {},
): void {
  container.replaceChildren();
  const svg = el(
    'svg',
    {
      class: 'cf-graph',
      // Scales down to the container's width; never up beyond the layout's size (graph.css).
      width: '100%',
      'data-width': layout.width,
      viewBox: `0 0 ${layout.width} ${layout.height}`,
      role: 'img',
      'aria-label': `Pipeline ${layout.pipeline}`,
    },
    container,
  );
  if (options.minScale !== undefined) {
    svg.style.minWidth = `${Math.ceil(layout.width * options.minScale)}px`;
    svg.style.minHeight = `${Math.ceil(layout.height * options.minScale)}px`;
  }
  const defs = el('defs', {}, svg);
  const marker = el(
    'marker',
    {
      id: 'cf-arrow',
      viewBox: '0 0 10 10',
      refX: 9,
      refY: 5,
      markerWidth: 7,
      markerHeight: 7,
      orient: 'auto-start-reverse',
    },
    defs,
  );
  el('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'cf-arrow' }, marker);
  for (const edge of layout.edges) {
    const d = edge.points.map((p, i) => `${i === 0 ? 'M' : 'L'} ${p.x} ${p.y}`).join(' ');
    const path = el('path', { d, class: 'cf-edge', 'marker-end': 'url(#cf-arrow)' }, svg);
    el('title', {}, path).textContent =
      edge.variables.length > 0 ? edge.variables.join(', ') : 'runs after';
  }
  for (const node of layout.nodes) {
    const state = states[node.name];
    const group = el(
      'g',
      {
        class: `cf-node${state !== undefined ? ` cf-state-${state}` : ''}`,
        'data-step': node.name,
        tabindex: 0,
        role: 'button',
      },
      svg,
    );
    el(
      'rect',
      {
        x: node.x - node.width / 2,
        y: node.y - node.height / 2,
        width: node.width,
        height: node.height,
        rx: 6,
      },
      group,
    );
    const name = el(
      'text',
      {
        x: node.x,
        y: node.y - (node.detail !== '' || state !== undefined ? 5 : -4),
        class: 'cf-node-name',
      },
      group,
    );
    name.textContent = node.name;
    const second = [state ?? '', node.detail].filter((s) => s !== '').join(' · ');
    if (second !== '')
      el('text', { x: node.x, y: node.y + 13, class: 'cf-node-detail' }, group).textContent =
        second;
    el('title', {}, group).textContent =
      `${node.name}: cells ${node.cells.map((c) => c + 1).join(', ')}`;
    if (options.onStepClick !== undefined) {
      const click = options.onStepClick;
      group.addEventListener('click', () => click(node.name));
      group.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') click(node.name);
      });
    }
  }
}

/** Updates only the state classes and texts of an already drawn graph. */
export function updateGraphStates(
  container: HTMLElement,
  layout: GraphLayout,
  states: Readonly<Record<string, StepState>>,
): void {
  renderPipelineGraph(container, layout, states, optionsOf.get(container) ?? {});
}

const optionsOf = new WeakMap<HTMLElement, RenderOptions>();

/** Remembers the click handler so that state updates keep it. */
export function mountPipelineGraph(container: HTMLElement, options: RenderOptions): void {
  optionsOf.set(container, options);
}
