/**
 * Pass 4c: the `pipeline-metrics` cells. Each `print(name)` there is a metric of the step that
 * comes last before the cell (the last step begun above it); a name printed again counts once.
 */
import type { Diagnostic } from '../diagnostics.js';
import { readMetricPrints } from '../python/read-literals.js';
import type { PipelineMetric } from './pipeline-graph.js';
import { toMetricName } from './pipeline-names.js';
import type { Block, Segment } from './read-blocks.js';

export function readMetrics(
  segments: readonly Segment[],
  code: ReadonlyMap<number, string>,
): { metrics: readonly PipelineMetric[]; diagnostics: readonly Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const metrics: PipelineMetric[] = [];
  const begun = new Set<Block>();
  let host: Block | undefined;
  for (const segment of segments) {
    if (segment.block.kind === 'step' && !begun.has(segment.block)) {
      begun.add(segment.block);
      host = segment.block;
    }
    if (segment.block.kind !== 'metrics') continue;
    for (const cell of segment.cells) {
      const { metrics: prints, problems } = readMetricPrints(code.get(cell) ?? '');
      for (const p of problems) {
        diagnostics.push({
          severity: 'error',
          code: 'bad-metrics-cell',
          cell,
          line: p.line,
          message: p.message,
        });
      }
      for (const m of prints) {
        if (host === undefined) {
          diagnostics.push({
            severity: 'error',
            code: 'metrics-before-steps',
            cell,
            line: m.line,
            message: `The metrics cell comes before any step, so no step can report \`${m.variable}\`. Fix: move it after the steps.`,
          });
          continue;
        }
        const name = toMetricName(m.variable);
        if (metrics.some((x) => x.name === name)) continue;
        metrics.push({ name, variable: m.variable, cell, line: m.line, step: host.name });
      }
    }
  }
  return { metrics, diagnostics };
}
