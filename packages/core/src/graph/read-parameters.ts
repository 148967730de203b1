/**
 * Pass 4b: the `pipeline-parameters` cells. Each assignment of a literal becomes a pipeline input
 * (a later assignment of the same name wins); anything else there is an error.
 */
import type { Diagnostic } from '../diagnostics.js';
import { readParameterAssignments } from '../python/read-literals.js';
import type { PipelineParameter } from './pipeline-graph.js';
import type { Block } from './read-blocks.js';

export function readParameters(
  blocks: readonly Block[],
  code: ReadonlyMap<number, string>,
): { parameters: readonly PipelineParameter[]; diagnostics: readonly Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const parameters = new Map<string, PipelineParameter>();
  for (const block of blocks.filter((b) => b.kind === 'parameters')) {
    for (const cell of block.cells) {
      const { parameters: found, problems } = readParameterAssignments(code.get(cell) ?? '');
      for (const p of problems) {
        diagnostics.push({
          severity: 'error',
          code: 'non-literal-parameter',
          cell,
          line: p.line,
          message: p.message,
        });
      }
      for (const p of found)
        parameters.set(p.name, {
          name: p.name,
          type: p.type,
          default: p.value,
          cell,
          line: p.line,
        });
    }
  }
  return { parameters: [...parameters.values()], diagnostics };
}
