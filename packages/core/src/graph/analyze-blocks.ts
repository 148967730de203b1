/**
 * Pass 3: the notebook's cells as blocks (see read-blocks), each code cell's plain Python (IPython
 * syntax rewritten), and the code units of the cells whose statements may run again in other
 * steps (the `imports`/`functions` cells' and the steps'). Everything later reads cells' code from
 * here; nothing here depends on settings or on other cells' names.
 */
import { diagnosticFor, type Diagnostic } from '../diagnostics.js';
import type { Notebook } from '../notebook/notebook.js';
import { BoundedCache } from '../python/bounded-cache.js';
import { readNotebookCodeUnits, type CodeUnit } from '../python/code-units.js';
import { toPlainPython } from '../python/ipython-syntax.js';
import { readBlocks, type Block, type ReadBlocksOptions, type Segment } from './read-blocks.js';

/** A code unit, numbered in notebook order: its identity in a step's list of units to run. */
export interface UnitRef {
  readonly id: number;
  readonly unit: CodeUnit;
  /** From an `imports`/`functions` cell: there in every step. */
  readonly global: boolean;
  /**
   * It holds in every later step rather than binding a name used later: configuration, seeds,
   * `import *`, and imports kept for their effect (`from sklearn.experimental import
   * enable_halving_search_cv`: its name is used nowhere else).
   */
  readonly ambient: boolean;
}

/** A `%env NAME=value` a cell sets. */
export interface MagicEnv {
  readonly name: string;
  readonly value: string;
}

export interface AnalyzedBlocks {
  readonly blocks: readonly Block[];
  /** Every block's cells in notebook order, as runs of consecutive code cells. */
  readonly segments: readonly Segment[];
  /** Plain-Python code of every code cell, by cell index. */
  readonly plainCode: ReadonlyMap<number, string>;
  /** What `%env` sets in each code cell. */
  readonly magicEnv: ReadonlyMap<number, readonly MagicEnv[]>;
  /** The code units of the `imports`/`functions` cells (global) and the step cells, by cell. */
  readonly units: ReadonlyMap<number, readonly UnitRef[]>;
  /** Tag problems, and IPython syntax that does nothing in a pipeline or is not supported. */
  readonly diagnostics: readonly Diagnostic[];
}

export function analyzeBlocks(notebook: Notebook, options: ReadBlocksOptions = {}): AnalyzedBlocks {
  const { blocks, segments, diagnostics: blockDiagnostics } = readBlocks(notebook, options);
  const diagnostics: Diagnostic[] = [...blockDiagnostics];
  const plainCode = new Map<number, string>();
  const magicEnv = new Map<number, readonly MagicEnv[]>();
  for (const cell of notebook.cells) {
    if (cell.kind !== 'code') continue;
    const converted = toPlainPython(cell.source);
    for (const n of converted.notes)
      diagnostics.push(diagnosticFor(n.code, cell.index, n.line, n.message));
    plainCode.set(cell.index, converted.code);
    magicEnv.set(cell.index, converted.env);
  }

  /**
   * Whether a name appears as a word in the notebook's code more than once (an import's own line
   * counts once): the cells are read in order only until the second mention.
   */
  const codeCells = notebook.cells.filter((c) => c.kind === 'code');
  const mentionedTwice = new Map<string, boolean>();
  const isMentionedTwice = (name: string): boolean => {
    let twice = mentionedTwice.get(name);
    if (twice === undefined) {
      let count = 0;
      for (const cell of codeCells) {
        count += wordsOf(cell.source).get(name) ?? 0;
        if (count > 1) break;
      }
      twice = count > 1;
      mentionedTwice.set(name, twice);
    }
    return twice;
  };
  const isAmbient = (unit: CodeUnit): boolean =>
    unit.kind === 'config' ||
    unit.kind === 'seed' ||
    unit.names.length === 0 ||
    (unit.kind === 'import' && unit.names.every((n) => !isMentionedTwice(n)));

  const units = new Map<number, UnitRef[]>();
  let unitCount = 0;
  const unitBlocks = blocks.filter(
    (b) =>
      b.kind === 'imports' ||
      b.kind === 'functions' ||
      b.kind === 'parameters' ||
      b.kind === 'step',
  );
  const cellUnits = readNotebookCodeUnits(
    unitBlocks.flatMap((b) => b.cells.map((cell) => [cell, plainCode.get(cell) ?? ''] as const)),
  ).units;
  for (const block of unitBlocks) {
    const global = block.kind !== 'step';
    for (const cell of block.cells)
      units.set(
        cell,
        (cellUnits.get(cell) ?? []).map((unit) => ({
          id: unitCount++,
          unit,
          global,
          ambient: isAmbient(unit),
        })),
      );
  }
  return { blocks, segments, plainCode, magicEnv, units, diagnostics };
}

/** How often each word appears in a cell's source (remembered by source). */
const wordCountsBySource = new BoundedCache<ReadonlyMap<string, number>>(8192);
function wordsOf(source: string): ReadonlyMap<string, number> {
  return wordCountsBySource.get(source, () => {
    const counts = new Map<string, number>();
    for (const word of source.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? [])
      counts.set(word, (counts.get(word) ?? 0) + 1);
    return counts;
  });
}
