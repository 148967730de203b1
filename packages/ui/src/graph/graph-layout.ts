/**
 * The pipeline graph laid out for drawing: boxes for steps, polylines for dependencies, computed
 * with dagre (layered layout, left to right). Pure data; any renderer can draw it.
 */
import dagreModule from '@dagrejs/dagre';
import type { PipelineGraph } from '@cellflow/core';

/**
 * The part of dagre used here. dagre 3's declarations use extensionless relative imports, which
 * NodeNext resolution cannot follow, so its own types arrive unresolved.
 */
interface DagreGraph {
  setGraph(label: Record<string, number | string>): void;
  setDefaultEdgeLabel(label: () => object): void;
  setNode(name: string, label: { width: number; height: number }): void;
  setEdge(from: string, to: string): void;
  node(name: string): { x: number; y: number; width: number; height: number };
  edge(from: string, to: string): { points?: { x: number; y: number }[] } | undefined;
  graph(): { width?: number; height?: number };
}
interface Dagre {
  graphlib: { Graph: new () => DagreGraph };
  layout(graph: DagreGraph): void;
}
const dagre = dagreModule as unknown as Dagre;

export interface GraphNodeBox {
  readonly name: string;
  readonly cells: readonly number[];
  /** Centre of the box. */
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  /** A short second line: GPUs, resources. */
  readonly detail: string;
}

export interface GraphEdgeLine {
  readonly from: string;
  readonly to: string;
  readonly points: readonly { readonly x: number; readonly y: number }[];
  /** Variables the edge carries (empty for an order-only `prev:`). */
  readonly variables: readonly string[];
}

export interface GraphLayout {
  readonly pipeline: string;
  readonly width: number;
  readonly height: number;
  readonly nodes: readonly GraphNodeBox[];
  readonly edges: readonly GraphEdgeLine[];
}

const NODE_HEIGHT = 44;
const CHAR_WIDTH = 7.5;

export function layoutPipelineGraph(graph: PipelineGraph): GraphLayout {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 24, ranksep: 56, marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  const details = new Map<string, string>();
  for (const step of graph.steps) {
    const gpu = step.resources.gpu;
    const detail =
      gpu !== null ? `GPU ${gpu.count}${gpu.product !== null ? ` × ${gpu.product}` : ''}` : '';
    details.set(step.name, detail);
    const width = Math.max(step.name.length, detail.length) * CHAR_WIDTH + 32;
    g.setNode(step.name, { width: Math.max(96, width), height: NODE_HEIGHT });
  }
  for (const step of graph.steps) for (const before of step.after) g.setEdge(before, step.name);
  dagre.layout(g);
  const nodes = graph.steps.map((step) => {
    const n = g.node(step.name);
    return {
      name: step.name,
      cells: step.cells,
      x: n.x,
      y: n.y,
      width: n.width,
      height: n.height,
      detail: details.get(step.name) ?? '',
    };
  });
  const edges = graph.steps.flatMap((step) =>
    step.after.map((before) => ({
      from: before,
      to: step.name,
      points: (g.edge(before, step.name)?.points ?? []).map((p) => ({
        x: p.x,
        y: p.y,
      })),
      variables: step.inputs.filter((v) => step.inputSources[v] === before),
    })),
  );
  const size = g.graph();
  return {
    pipeline: graph.pipeline.name,
    width: size.width ?? 0,
    height: size.height ?? 0,
    nodes,
    edges,
  };
}
