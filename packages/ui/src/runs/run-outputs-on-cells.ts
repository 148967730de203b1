/**
 * A run's outputs on the cells of the notebook as it is now (both editors' "outputs inline"
 * toggle): which executed cell of the run each cell is, and its outputs as one line of text where
 * an editor can only show text. A cell gets a run's outputs only while its code is the code that
 * ran: an edited, added or moved-and-changed cell shows none.
 */
import type { NotebookFile, NotebookOutput } from '@cellflow/core';

/** A cell of the notebook as the editor has it now. */
export interface CellNow {
  readonly kind: 'code' | 'markdown' | 'raw';
  readonly source: string;
  /** The cell's nbformat id, when the editor knows it. */
  readonly id?: string;
}

/** What one cell showed in the run. */
export interface CellRunOutputs {
  /** The cell's place in the run's order (1, 2, ... over the cells that ran). */
  readonly executionCount: number;
  readonly outputs: readonly NotebookOutput[];
}

interface RanCell {
  readonly index: number;
  readonly id: string | undefined;
  readonly source: string;
  readonly ran: CellRunOutputs;
}

function sourceText(source: unknown): string {
  const text = Array.isArray(source) ? source.join('') : typeof source === 'string' ? source : '';
  return text.replace(/\s+$/, '');
}

function ranCells(executed: NotebookFile): RanCell[] {
  return executed.cells.flatMap((cell, index) => {
    const count = cell['execution_count'];
    if (cell['cell_type'] !== 'code' || typeof count !== 'number') return [];
    const outputs = Array.isArray(cell['outputs']) ? (cell['outputs'] as NotebookOutput[]) : [];
    const id = typeof cell['id'] === 'string' ? cell['id'] : undefined;
    return [
      { index, id, source: sourceText(cell['source']), ran: { executionCount: count, outputs } },
    ];
  });
}

/**
 * For each cell now (same order), what it showed in the run, or undefined. A cell is the run's
 * cell of the same id, else of the same place, else the first one not taken yet, each only when
 * the code is the same (trailing blank space aside).
 */
export function runOutputsForCells(
  executed: NotebookFile,
  cells: readonly CellNow[],
): (CellRunOutputs | undefined)[] {
  const ran = ranCells(executed);
  const taken = new Set<RanCell>();
  const take = (match: RanCell | undefined): CellRunOutputs | undefined => {
    if (match === undefined) return undefined;
    taken.add(match);
    return match.ran;
  };
  return cells.map((cell, index) => {
    if (cell.kind !== 'code') return undefined;
    const source = sourceText(cell.source);
    const free = (r: RanCell): boolean => !taken.has(r) && r.source === source;
    return (
      take(cell.id !== undefined ? ran.find((r) => r.id === cell.id && free(r)) : undefined) ??
      take(ran.find((r) => r.index === index && free(r))) ??
      take(ran.find(free))
    );
  });
}

function joined(value: unknown): string {
  return Array.isArray(value) ? value.join('') : typeof value === 'string' ? value : '';
}

/** What an output says as text: its stream text, its plain-text value, or what kind it is. */
export function outputText(output: NotebookOutput): string {
  switch (output.output_type) {
    case 'stream':
      return joined(output['text']);
    case 'error':
      return `${String(output['ename'])}: ${String(output['evalue'])}`;
    default: {
      const data = (output['data'] ?? {}) as Record<string, unknown>;
      const plain = joined(data['text/plain']);
      const image = Object.keys(data).find((mime) => mime.startsWith('image/'));
      if (image !== undefined) return `[${image} image]`;
      if (plain !== '') return plain;
      const kind = Object.keys(data)[0];
      return kind !== undefined ? `[${kind}]` : '';
    }
  }
}

/**
 * A cell's outputs as one line (for editors that can only add a line of text to a cell): each
 * output's text, lines joined with ` ⏎ `, cut at `maxChars` with `…`.
 */
export function outputsAsOneLine(outputs: readonly NotebookOutput[], maxChars = 160): string {
  const text = outputs
    .map(outputText)
    .flatMap((t) => t.split('\n'))
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join(' ⏎ ');
  return text.length > maxChars ? `${text.slice(0, maxChars - 1)}…` : text;
}
