/** `cellflow inspect --json`: the graph in the one shape other tools rely on. Keep it stable. */
import type { Diagnostic } from '../diagnostics.js';
import type { PipelineGraph } from '../graph/pipeline-graph.js';

export interface InspectJson {
  pipeline: { name: string; description: string };
  parameters: { name: string; type: string; default: unknown }[];
  metrics: { name: string; variable: string }[];
  steps: {
    name: string;
    after: string[];
    inputs: string[];
    outputs: string[];
    cells: number[];
    image: string;
    resources: {
      cpu: string | null;
      memory: string | null;
      gpu: { count: number; resource: string; product: string | null } | null;
    };
    labels: Record<string, string>;
    annotations: Record<string, string>;
  }[];
  diagnostics: {
    severity: string;
    code: string;
    cell: number | null;
    line: number | null;
    message: string;
  }[];
}

export function buildInspectJsonForGraph(
  graph: PipelineGraph | undefined,
  diagnostics: readonly Diagnostic[],
): InspectJson {
  return {
    pipeline: { name: graph?.pipeline.name ?? '', description: graph?.pipeline.description ?? '' },
    parameters: (graph?.parameters ?? []).map((p) => ({
      name: p.name,
      type: p.type,
      default: p.default,
    })),
    metrics: (graph?.metrics ?? []).map((m) => ({ name: m.name, variable: m.variable })),
    steps: (graph?.steps ?? []).map((s) => ({
      name: s.name,
      after: [...s.after],
      inputs: [...s.inputs],
      outputs: [...s.outputs],
      cells: [...s.cells],
      image: s.image,
      resources: {
        cpu: s.resources.cpu,
        memory: s.resources.memory,
        gpu:
          s.resources.gpu === null
            ? null
            : {
                count: s.resources.gpu.count,
                resource: s.resources.gpu.resource,
                product: s.resources.gpu.product,
              },
      },
      labels: { ...s.labels },
      annotations: { ...s.annotations },
    })),
    diagnostics: diagnostics.map((d) => ({
      severity: d.severity,
      code: d.code,
      cell: d.cell,
      line: d.line,
      message: d.message,
    })),
  };
}
