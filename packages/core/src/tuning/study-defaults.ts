/** The study settings a notebook may leave out, and a whole study to start from when it has none. */
import type { PipelineGraph } from '../graph/pipeline-graph.js';
import type { SearchParameter, StudySpec } from './study-spec.js';

export const DEFAULT_MAX_TRIALS = 12;
export const DEFAULT_PARALLEL_TRIALS = 3;
export const DEFAULT_MAX_FAILED_TRIALS = 3;

/** A study to start from: every int/float parameter around its default, the first metric maximized. */
export function defaultStudyFor(graph: PipelineGraph): StudySpec | null {
  const metric = graph.metrics[graph.metrics.length - 1];
  if (metric === undefined) return null;
  const parameters: SearchParameter[] = [];
  for (const p of graph.parameters) {
    if (typeof p.default !== 'number') continue;
    if (p.type === 'int') {
      const lo = p.default > 0 ? Math.max(1, Math.floor(p.default / 2)) : p.default - 5;
      parameters.push({ name: p.name, type: 'int', min: lo, max: Math.max(lo + 1, p.default * 2) });
    } else if (p.default > 0) {
      parameters.push({
        name: p.name,
        type: 'double',
        min: p.default / 10,
        max: p.default * 10,
        scale: 'log',
      });
    }
  }
  if (parameters.length === 0) return null;
  return {
    objective: metric.name,
    goal: 'maximize',
    additionalMetrics: graph.metrics.filter((m) => m !== metric).map((m) => m.name),
    algorithm: 'tpe',
    algorithmSettings: {},
    parameters,
    maxTrials: DEFAULT_MAX_TRIALS,
    parallelTrials: DEFAULT_PARALLEL_TRIALS,
    maxFailedTrials: DEFAULT_MAX_FAILED_TRIALS,
  };
}
