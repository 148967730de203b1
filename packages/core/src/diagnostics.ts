/** Problems are data: every pass returns them instead of throwing. */
import {
  DIAGNOSTIC_CATALOGUE,
  type DiagnosticCode,
  type Severity,
  type SeverityOf,
} from './diagnostic-catalogue.js';

/** A suggested change that an editor can apply for the user. */
export interface DiagnosticFix {
  /** What the fix does, said to the user ("Rename the step to `load_data`"). */
  readonly title: string;
  /** When the fix is a tag change on a cell: the cell's complete new tag list. */
  readonly tags?: { readonly cell: number; readonly tags: readonly string[] };
}

/** A diagnostic with code `C`, whose severity is the one the catalogue gives `C`. */
export interface DiagnosticOf<C extends DiagnosticCode> {
  readonly severity: SeverityOf<C>;
  /** Stable, kebab-case identifier from `DIAGNOSTIC_CATALOGUE` (`unknown-tag`, `undefined-name`, ...). */
  readonly code: C;
  /** 0-based index into the notebook's `cells` array (markdown cells count); null for the notebook. */
  readonly cell: number | null;
  /** 1-based line within the cell's source; null when the problem is the cell or notebook as a whole. */
  readonly line: number | null;
  /**
   * Says what is wrong and how to fix it. Where it is wrong is `cell` and `line`, shown by whoever
   * renders the diagnostic (`describeLocation`): the message never repeats them (other cells it
   * names are numbered with `describeCell`).
   */
  readonly message: string;
  readonly fix?: DiagnosticFix;
}

/** Any diagnostic: its code is in the catalogue and its severity is that code's. */
export type Diagnostic = { readonly [C in DiagnosticCode]: DiagnosticOf<C> }[DiagnosticCode];

/**
 * A diagnostic whose code is only known at run time (a tag problem, a magic's note), with the
 * severity the catalogue gives that code. Where the code is written out, write the object itself.
 */
export function diagnosticFor(
  code: DiagnosticCode,
  cell: number | null,
  line: number | null,
  message: string,
  fix?: DiagnosticFix,
): Diagnostic {
  const severity: Severity = DIAGNOSTIC_CATALOGUE[code].severity;
  return {
    severity,
    code,
    cell,
    line,
    message,
    ...(fix !== undefined ? { fix } : {}),
  } as Diagnostic;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** Orders diagnostics by position so that output is stable. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) =>
      (a.cell ?? -1) - (b.cell ?? -1) ||
      (a.line ?? 0) - (b.line ?? 0) ||
      a.code.localeCompare(b.code) ||
      a.message.localeCompare(b.message),
  );
}

/**
 * "cell 13": a cell as a person sees it numbered (1-based, as VS Code's "Cell 13 of 18" and
 * JupyterLab's cell list count), from its 0-based index into the notebook's `cells` (markdown
 * cells count). Every message a person reads names cells this way; JSON keeps the 0-based index.
 */
export function describeCell(cell: number): string {
  return `cell ${cell + 1}`;
}

/** "cell 13, line 2" (see `describeCell`); "notebook" for a problem of the whole notebook. */
export function describeLocation(cell: number | null, line: number | null): string {
  if (cell === null) return 'notebook';
  return line === null ? describeCell(cell) : `${describeCell(cell)}, line ${line}`;
}

/**
 * One line a person reads in a list or a dialog: "Cell 4, line 2: <message>" (see
 * `describeLocation`), or the message alone for a problem of the whole notebook.
 */
export function describeDiagnostic(d: Pick<Diagnostic, 'cell' | 'line' | 'message'>): string {
  if (d.cell === null) return d.message;
  const where = describeLocation(d.cell, d.line);
  return `${where.charAt(0).toUpperCase()}${where.slice(1)}: ${d.message}`;
}

/** Longest piece of a user's text quoted in a message. */
export const MAX_QUOTED_CHARS = 120;

/**
 * A piece of the user's text short enough to quote in a message (a cell line can be megabytes):
 * the text itself, or its start and end around an ellipsis saying how much was left out.
 */
export function excerptOfLine(text: string, max = MAX_QUOTED_CHARS): string {
  const trimmed = text.trim();
  if (trimmed.length <= max) return trimmed;
  const half = Math.floor((max - 1) / 2);
  return `${trimmed.slice(0, half)}… (${trimmed.length - 2 * half} characters) …${trimmed.slice(-half)}`;
}
