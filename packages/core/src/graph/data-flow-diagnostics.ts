/** What resolving the data flow reports: names a step uses that no earlier cell of the pipeline gives it. */
import { describeCell, type Diagnostic } from '../diagnostics.js';
import type { CodeAnalysis, NameSite } from '../python/analyze-python.js';

/** `what` the step does with the name: "uses", "runs code that uses", "reports the metric". */
export function undefinedNameDiagnostic(
  step: string,
  site: NameSite,
  what: string,
  /** The first step that binds the name, when one does (later in the notebook, or this one). */
  later: { readonly step: string; readonly cell: number } | undefined,
): Diagnostic {
  const laterText =
    later !== undefined && later.step !== step
      ? ` It is first defined in step \`${later.step}\` (${describeCell(later.cell)}), which comes later in the notebook. Fix: move that cell above this one, or define \`${site.name}\` earlier.`
      : ` Fix: define \`${site.name}\` in an earlier step, import it in the \`imports\` cell, or add it to the \`pipeline-parameters\` cell.`;
  return {
    severity: 'error',
    code: 'undefined-name',
    cell: site.cell,
    line: site.line,
    message: `Step \`${step}\` ${what} \`${site.name}\`, but no earlier cell of the pipeline defines it.${laterText}`,
  };
}

/**
 * A function body uses a name no cell of the pipeline binds. Jupyter runs the definition and
 * raises NameError only if the function is called; so does the step: a warning, not a refusal.
 */
export function functionUsesUndefinedNameDiagnostic(step: string, site: NameSite): Diagnostic {
  return {
    severity: 'warning',
    code: 'function-uses-undefined-name',
    cell: site.cell,
    line: site.line,
    message: `A function in step \`${step}\` uses \`${site.name}\`, which no cell of the pipeline defines: calling it raises NameError, as it would in the notebook. Fix: import or define \`${site.name}\` in an earlier cell, or remove the function if nothing calls it.`,
  };
}

export function deletedNameDiagnostic(
  step: string,
  site: NameSite,
  what: string,
  deleted: { readonly step: string; readonly cell: number },
): Diagnostic {
  return {
    severity: 'error',
    code: 'deleted-name',
    cell: site.cell,
    line: site.line,
    message: `Step \`${step}\` ${what} \`${site.name}\`, but step \`${deleted.step}\` deleted it (${describeCell(deleted.cell)}). Fix: remove the \`del\`, or stop using the name here.`,
  };
}

/** The name is bound only in `cell`, which is not part of the pipeline. */
export function skippedNameDiagnostic(
  step: string,
  site: NameSite,
  what: string,
  cell: number,
): Diagnostic {
  return {
    severity: 'error',
    code: 'defined-in-skipped-cell',
    cell: site.cell,
    line: site.line,
    message: `Step \`${step}\` ${what} \`${site.name}\`, which only ${describeCell(cell)} defines, and that cell is not part of the pipeline (tagged \`skip\` or untagged). Fix: tag ${describeCell(cell)} as a step, or define \`${site.name}\` in a step.`,
  };
}

/** A later cell of `step` changes a value that `between` (steps above it) already load. */
export function continuedStepChangesValueDiagnostic(
  step: string,
  site: NameSite,
  between: readonly string[],
): Diagnostic {
  return {
    severity: 'warning',
    code: 'continued-step-changes-value',
    cell: site.cell,
    line: site.line,
    message:
      `This cell continues step \`${step}\` (its name is used again) and changes \`${site.name}\`, which ${between.map((b) => `\`${b}\``).join(', ')} above it already use${between.length === 1 ? 's' : ''}: a step runs all its cells before the steps after it, so they see \`${site.name}\` as it is after this cell. ` +
      `Fix: give this cell a step name of its own.`,
  };
}

/** A later cell of `step` reads a value the step bound and `changer` (a step above it) changed. */
export function continuedStepReadsChangedValueDiagnostic(
  step: string,
  site: NameSite,
  changer: string,
): Diagnostic {
  return {
    severity: 'warning',
    code: 'continued-step-reads-changed-value',
    cell: site.cell,
    line: site.line,
    message:
      `This cell continues step \`${step}\` (its name is used again) and reads \`${site.name}\`, which step \`${changer}\` above it changes: a step runs all its cells before the steps after it, so this cell sees \`${site.name}\` as the step's earlier cells left it, not as the notebook does. ` +
      `Fix: give this cell a step name of its own.`,
  };
}

/**
 * Untagged cells above every tag, which a step needs (`needed`): they start the first step, where
 * Kale would leave them out.
 */
export function leadingCellsJoinedDiagnostic(
  cells: readonly number[],
  step: string,
  needed: { readonly step: string; readonly name: string; readonly cell: number },
): Diagnostic {
  const first = cells[0]!;
  const one = cells.length === 1;
  const span = one
    ? `Cell ${first + 1} has`
    : `Cells ${first + 1}-${cells[cells.length - 1]! + 1} have`;
  return {
    severity: 'warning',
    code: 'untagged-cells-start-step',
    cell: first,
    line: null,
    message:
      `${span} no tag and no step above, and step \`${needed.step}\` uses \`${needed.name}\`, which ${describeCell(needed.cell)} defines, so ${one ? 'it runs' : 'they run'} at the start of step \`${step}\`. ` +
      `Fix: tag ${describeCell(first)} \`step:NAME\` to make ${one ? 'it a step' : 'them a step'} of ${one ? 'its' : 'their'} own.`,
  };
}

/** Code above the first step with no tag: offer to make it the imports cell when that is all it does. */
export function untaggedCellDiagnostic(cell: number, analysis: CodeAnalysis): Diagnostic {
  const onlyImports =
    analysis.writes.length > 0 && analysis.imports.length === analysis.writes.length;
  return {
    severity: 'warning',
    code: 'untagged-cell',
    cell,
    line: null,
    message: onlyImports
      ? `This cell imports modules but has no tag and no step above it, so steps do not get its imports. Fix: tag it \`imports\`.`
      : `This cell has no tag and no step above it, so it is not part of the pipeline. Fix: tag it \`step:NAME\` (or \`imports\`, \`functions\`, \`skip\`).`,
    ...(onlyImports
      ? { fix: { title: 'Tag the cell `imports`', tags: { cell, tags: ['imports'] } } }
      : {}),
  };
}
