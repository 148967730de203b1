/** Problems are data: every pass returns them instead of throwing. */

export type Severity = 'error' | 'warning' | 'info';

/** A suggested change that an editor can apply for the user. */
export interface DiagnosticFix {
  /** What the fix does, said to the user ("Rename the step to `load_data`"). */
  readonly title: string;
  /** When the fix is a tag change on a cell: the cell's complete new tag list. */
  readonly tags?: { readonly cell: number; readonly tags: readonly string[] };
}

export interface Diagnostic {
  readonly severity: Severity;
  /** Stable, kebab-case identifier (`unknown-tag`, `undefined-name`, ...). */
  readonly code: string;
  /** 0-based index into the notebook's `cells` array (markdown cells count); null for the notebook. */
  readonly cell: number | null;
  /** 1-based line within the cell's source; null when the problem is the cell or notebook as a whole. */
  readonly line: number | null;
  /** Says what is wrong, where, and how to fix it. */
  readonly message: string;
  readonly fix?: DiagnosticFix;
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

/** "cell 3, line 2" — cells are shown 0-based, as in the JSON and editors' cell indices. */
export function describeLocation(cell: number | null, line: number | null): string {
  if (cell === null) return 'notebook';
  return line === null ? `cell ${cell}` : `cell ${cell}, line ${line}`;
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
