/** The notebook as Cellflow reads it: nbformat v4, sources joined, tags lifted out. */

export type CellKind = 'code' | 'markdown' | 'raw';

export interface NotebookCell {
  /** 0-based index in the notebook's `cells` array. */
  readonly index: number;
  readonly kind: CellKind;
  readonly source: string;
  /** `metadata.tags` as written (non-string entries dropped with a diagnostic). */
  readonly tags: readonly string[];
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly id?: string;
}

export interface Notebook {
  readonly nbformat: number;
  readonly nbformatMinor: number;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly cells: readonly NotebookCell[];
}
