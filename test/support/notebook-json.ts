/** nbformat v4 notebook text from `[tags, source]` code cells, for tests and benches. */
export function notebookJson(
  cells: readonly (readonly [readonly string[], string])[],
  metadata: Record<string, unknown> = {},
): string {
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata,
    cells: cells.map(([tags, source]) => ({
      cell_type: 'code',
      metadata: { tags },
      source,
      outputs: [],
      execution_count: null,
    })),
  });
}
