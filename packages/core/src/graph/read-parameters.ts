/**
 * Pass 4a: the `pipeline-parameters` (Papermill's `parameters`) cells. An assignment of a literal
 * becomes a pipeline input (a later assignment of the same name wins). Everything else in them is
 * code, as Papermill runs it: computed values, imports, prints. That code runs once, in the step
 * after the cells, as the `imports` cells' statements do (see read-prelude), after the inputs are
 * set. A name that code binds as well, or reads before its last literal assignment, is no input:
 * its assignments stay code, so the run gives what running the cells top to bottom gives.
 */
import type { Diagnostic } from '../diagnostics.js';
import { analyzeCells } from '../python/analyze-cells.js';
import { readParameterAssignments, type ParameterAssignment } from '../python/read-literals.js';
import type { PipelineParameter } from './pipeline-graph.js';
import type { Block } from './read-blocks.js';
import { blankSpans, type Span } from './read-prelude.js';

export interface Parameters {
  readonly parameters: readonly PipelineParameter[];
  /** By cell: the statements that set inputs (`[from, to)` in its plain code), not run as code. */
  readonly inputStatements: ReadonlyMap<number, readonly Span[]>;
  readonly diagnostics: readonly Diagnostic[];
}

export function readParameters(
  blocks: readonly Block[],
  code: ReadonlyMap<number, string>,
): Parameters {
  const diagnostics: Diagnostic[] = [];
  const parameters = new Map<string, PipelineParameter>();
  const inputStatements = new Map<number, Span[]>();
  for (const block of blocks.filter((b) => b.kind === 'parameters')) {
    const literals: (ParameterAssignment & { cell: number })[] = [];
    const tagged = new Set(block.cells.filter((_, i) => block.tags[i]?.role.kind === 'parameters'));
    const computedNames = new Set<string>();
    for (const cell of block.cells) {
      const { parameters: found, computed } = readParameterAssignments(code.get(cell) ?? '');
      literals.push(...found.map((p) => ({ ...p, cell })));
      for (const c of computed) computedNames.add(c.name);
      // Said of the tagged cells only: cells below that join them hold code, not parameters.
      if (tagged.has(cell))
        for (const c of computed)
          diagnostics.push({
            severity: 'info',
            code: 'non-literal-parameter',
            cell,
            line: c.line,
            message: `\`${c.name}\` is computed (\`${c.value}\`), so it is not a pipeline parameter: it runs as code, in the step after this cell. Fix: give it a literal value (number, string, True/False, list or dict of literals) to set it per run.`,
          });
    }
    // The cells' code with the literal assignments blanked: what binds or reads their names?
    const rest = analyzeCells(block.cells, (c) =>
      blankSpans(
        code.get(c) ?? '',
        literals.filter((p) => p.cell === c),
      ),
    );
    const bound = new Set(rest.writes.map((w) => w.name));
    const lastAt = new Map<string, { cell: number; line: number }>();
    for (const p of literals) lastAt.set(p.name, { cell: p.cell, line: p.line });
    const readEarly = new Set(
      rest.freeReads
        .filter((r) => {
          const last = lastAt.get(r.name);
          return (
            last !== undefined &&
            (r.cell < last.cell || (r.cell === last.cell && r.line <= last.line))
          );
        })
        .map((r) => r.name),
    );
    const demoted = new Set<string>();
    for (const p of literals) {
      if (bound.has(p.name) || readEarly.has(p.name)) {
        if (tagged.has(p.cell) && !demoted.has(p.name) && !computedNames.has(p.name)) {
          demoted.add(p.name);
          const why = bound.has(p.name)
            ? "is bound by this cell's code too"
            : "is read by this cell's code before its last assignment here";
          diagnostics.push({
            severity: 'info',
            code: 'non-literal-parameter',
            cell: p.cell,
            line: p.line,
            message: `\`${p.name}\` ${why}, so it is not a pipeline parameter: the cell's assignments of it run as code, in the step after the cell. Fix: assign it only once, with a literal, before any code reads it, to set it per run.`,
          });
        }
        continue;
      }
      parameters.set(p.name, {
        name: p.name,
        type: p.type,
        default: p.value,
        cell: p.cell,
        line: p.line,
      });
      inputStatements.set(p.cell, [
        ...(inputStatements.get(p.cell) ?? []),
        { from: p.from, to: p.to },
      ]);
    }
  }
  return { parameters: [...parameters.values()], inputStatements, diagnostics };
}
