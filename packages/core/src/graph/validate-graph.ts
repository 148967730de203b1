/**
 * Pass 6: check the resolved steps as a graph. `prev:` tags add edges (to earlier steps only),
 * the edges must not loop, every value a later step loads must be one that can be saved, every
 * `serve:` names a value of its step; each step's own syntax errors and `import *` are reported.
 */
import type { Diagnostic } from '../diagnostics.js';
import { problemsOfAnalysis } from './analysis-problems.js';
import type { UnitRef } from './analyze-blocks.js';
import { usedAfter, type ResolvedStep } from './resolve-data-flow.js';

export interface ValidatedGraph {
  /** The steps each step runs after: those it loads from, then its `prev:` steps, by step. */
  readonly after: ReadonlyMap<string, ReadonlySet<string>>;
  readonly diagnostics: readonly Diagnostic[];
}

export function validateGraph(
  drafts: readonly ResolvedStep[],
  code: ReadonlyMap<number, string>,
): ValidatedGraph {
  const diagnostics: Diagnostic[] = [];
  const plain = (cell: number): string => code.get(cell) ?? '';
  const after = new Map(drafts.map((d) => [d.name, new Set(d.loadsFrom)]));
  for (const draft of drafts) {
    diagnostics.push(...problemsOfAnalysis(draft.analysis));
    if (draft.block.cells.every((c) => plain(c).trim() === '')) {
      diagnostics.push({
        severity: 'warning',
        code: 'empty-step',
        cell: draft.block.cells[0]!,
        line: null,
        message: `Step \`${draft.name}\` has no code. Fix: add code, or remove the \`step:${draft.name}\` tag.`,
      });
    }
  }
  // ---- prev: edges, then cycles ----
  const order = new Map(drafts.map((d, i) => [d.name, i]));
  for (const draft of drafts) {
    for (const prev of draft.tags.prev) {
      const at = order.get(prev);
      const cell = draft.block.cells[0]!;
      if (at === undefined) {
        const names = [...order.keys()];
        diagnostics.push({
          severity: 'error',
          code: 'unknown-prev',
          cell,
          line: null,
          message: `\`prev:${prev}\` on step \`${draft.name}\` names no step. Steps: ${names.map((n) => `\`${n}\``).join(', ')}. Fix: correct the name or remove the tag.`,
        });
      } else if (prev === draft.name) {
        diagnostics.push({
          severity: 'error',
          code: 'cycle',
          cell,
          line: null,
          message: `Step \`${draft.name}\` lists itself in \`prev:\`. Fix: remove \`prev:${prev}\`.`,
        });
      } else {
        if (at > order.get(draft.name)!) {
          diagnostics.push({
            severity: 'error',
            code: 'prev-to-later-step',
            cell,
            line: null,
            message: `Step \`${draft.name}\` waits for \`${prev}\` (\`prev:${prev}\`), which comes later in the notebook; steps run in notebook order. Fix: move step \`${prev}\` above this cell, or remove the tag.`,
          });
        }
        after.get(draft.name)!.add(prev);
      }
    }
  }
  const cycle = findCycle(drafts, after);
  if (cycle !== null) {
    const first = drafts.find((d) => d.name === cycle[0])!;
    diagnostics.push({
      severity: 'error',
      code: 'cycle',
      cell: first.block.cells[0]!,
      line: null,
      message: `Steps depend on each other in a loop: ${cycle.join(' -> ')}. Fix: remove one of the \`prev:\` tags in the loop, or keep a step's cells before the cells of the steps that use its values.`,
    });
  }

  diagnostics.push(...restartedGenerators(drafts, plain));

  for (const d of drafts) {
    const outputs = [...d.outputs.keys()].sort();
    for (const o of outputs) {
      const origin = d.analysis.unsavable.get(o);
      // A generator that its statement makes again in the loading step goes on from where this
      // step leaves it (see the runtime's `_GeneratorState`).
      if (origin === undefined || (origin.what === 'a generator' && d.stateOutputs.has(o)))
        continue;
      const users = drafts.filter((u) => u.inputs.get(o) === d.name).map((u) => `\`${u.name}\``);
      diagnostics.push({
        severity: 'error',
        code: 'unsavable-value',
        cell: origin.cell,
        line: origin.line,
        message:
          `\`${o}\` is ${origin.what}, which cannot be passed from step \`${d.name}\` to ${users.join(', ') || 'a later step'}. ` +
          `Fix: ${UNSAVABLE_FIX[origin.what] ?? 'create it in the step that uses it'}.`,
      });
    }
    for (const s of d.tags.serve) {
      if (!d.written.has(s) && !d.inputs.has(s)) {
        diagnostics.push({
          severity: 'error',
          code: 'unknown-serve-variable',
          cell: d.block.cells[0]!,
          line: null,
          message: `\`serve:${s}\` on step \`${d.name}\`: the step neither defines nor loads \`${s}\`. Fix: tag the step that trains the model.`,
        });
      }
    }
  }
  return { after, diagnostics };
}

/** A notebook without steps, when nothing else explains it. */
export function noStepsDiagnostic(): Diagnostic {
  return {
    severity: 'error',
    code: 'no-steps',
    cell: null,
    line: null,
    message:
      'The notebook has no steps. Fix: tag the first cell of each step `step:NAME` (e.g. `step:load_data`).',
  };
}

/** How to keep each kind of value that cannot be saved out of what crosses steps. */
const UNSAVABLE_FIX: Readonly<Record<string, string>> = {
  'a generator':
    'make a list instead (`[... for ...]`), or create the generator in the step that uses it',
  'an open file':
    "keep the file's path in a variable and open the file in the step that reads it (`with open(path) as f:`)",
  'a database connection':
    'keep the connection settings in variables and connect in the step that uses the connection',
  'an open network response': 'read the data (`data = response.read()`) in the step that opens it',
};

function findCycle(
  drafts: readonly ResolvedStep[],
  after: ReadonlyMap<string, ReadonlySet<string>>,
): string[] | null {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): string[] | null => {
    if (state.get(name) === 'done') return null;
    if (state.get(name) === 'visiting') return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, 'visiting');
    stack.push(name);
    for (const dep of after.get(name) ?? []) {
      const found = visit(dep);
      if (found !== null) return found;
    }
    stack.pop();
    state.set(name, 'done');
    return null;
  };
  for (const d of drafts) {
    const found = visit(d.name);
    if (found !== null) return found.reverse();
  }
  return null;
}

/**
 * A generator the runtime cannot save part way: one a notebook function makes that never ends
 * (`while True:` around its `yield`; the runtime saves any other with the items it has left). A
 * step that uses one runs the statement that made it again and, unless the step before used it
 * up, gets it fresh. When more than one step uses it (the step that makes it counts when it uses
 * it too), each later one starts it from its beginning, where the notebook goes on with one: say
 * so.
 */
function restartedGenerators(
  drafts: readonly ResolvedStep[],
  plain: (cell: number) => string,
): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const users = new Map<number, { unit: UnitRef; steps: string[] }>();
  const endless = new Set<string>();
  for (const d of drafts)
    for (const { ref } of d.units)
      if (ref.unit.yieldsEndlessly) for (const n of ref.unit.names) endless.add(n);
  const makesEndless = (code: string): boolean => {
    const callee = /=\s*([A-Za-z_]\w*)\s*\(/.exec(code)?.[1];
    return callee !== undefined && endless.has(callee);
  };
  for (const d of drafts)
    for (const { ref } of d.units)
      if (
        ref.unit.startsGenerator &&
        !d.cells.includes(ref.unit.cell) &&
        makesEndless(ref.unit.code)
      ) {
        const seen = users.get(ref.id) ?? { unit: ref, steps: [] };
        seen.steps.push(d.name);
        users.set(ref.id, seen);
      }
  for (const { unit, steps } of users.values()) {
    const { cell, line, names } = unit.unit;
    const name = names[0];
    if (name === undefined) continue;
    const maker = drafts.find((d) => d.cells.includes(cell));
    const makerUses = maker !== undefined && usedAfter(unit, maker.cells, plain);
    const using = [...(makerUses ? [maker.name] : []), ...steps];
    if (using.length < 2) continue;
    diagnostics.push({
      severity: 'warning',
      code: 'generator-restarted',
      cell,
      line,
      message:
        `\`${name}\` (a generator that never ends) cannot be saved part way and is made again where it is used: steps ${using.map((s) => `\`${s}\``).join(', ')} each use it, and each ` +
        `after the first starts it again from its beginning, where the notebook goes on with one. ` +
        `Fix: use \`${name}\` in one step.`,
    });
  }
  return diagnostics;
}
