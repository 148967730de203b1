/**
 * Pass 4b: the `imports`, `functions` and `pipeline-parameters` cells (the prelude). Their code
 * units (imports, definitions, configuration) are there in every step; what else they do (data
 * statements, and seeding: the random state then flows) runs once, in the step after the cell
 * (else the one before), so those statements stay in the cell's code and the units are blanked out
 * of it, as are the parameters cells' statements that set pipeline inputs (see read-parameters). A
 * step before that one that needs a name they bind runs them as well, as Kale runs the whole cell
 * in every step (`restUnits`).
 */
import type { Diagnostic } from '../diagnostics.js';
import { analyzeCells } from '../python/analyze-cells.js';
import { restOfCellUnit } from '../python/code-units.js';
import { problemsOfAnalysis } from './analysis-problems.js';
import type { AnalyzedBlocks, UnitRef } from './analyze-blocks.js';
import type { Block } from './read-blocks.js';

export interface Prelude {
  /** The `imports`/`functions` cells, in notebook order. */
  readonly cells: readonly number[];
  /** The unit that binds each name the prelude defines (its last binding). */
  readonly units: ReadonlyMap<string, UnitRef>;
  /** Units that hold in every step rather than bind names (configuration, imports for effect). */
  readonly config: readonly UnitRef[];
  /** For each step block, the prelude cells whose remaining statements run once in it. */
  readonly hostCells: ReadonlyMap<Block, readonly number[]>;
  /** Plain-Python code of every code cell, with the prelude cells' units blanked out. */
  readonly code: ReadonlyMap<number, string>;
  /**
   * For each name a prelude cell's run-once statements bind, those statements as one unit (see
   * `restOfCellUnit`): a step before they run that needs the name runs them, as Kale does.
   */
  readonly restUnits: ReadonlyMap<string, UnitRef>;
  /** The prelude has an `import *`: names it may define are not reported as undefined. */
  readonly starImport: boolean;
  readonly diagnostics: readonly Diagnostic[];
}

export function readPrelude(
  analyzed: AnalyzedBlocks,
  inputStatements: ReadonlyMap<number, readonly Span[]> = new Map(),
): Prelude {
  const { blocks, plainCode } = analyzed;
  const plain = (cell: number): string => plainCode.get(cell) ?? '';
  const preludeBlocks = blocks.filter(
    (b) => b.kind === 'imports' || b.kind === 'functions' || b.kind === 'parameters',
  );
  const cells = preludeBlocks.flatMap((b) => b.cells);
  const units = new Map<string, UnitRef>();
  const config: UnitRef[] = [];
  const hostCells = new Map<Block, number[]>();
  const code = new Map(plainCode);
  const prelude = analyzeCells(cells, plain);
  const restUnits = new Map<string, UnitRef>();
  let nextId = 0;
  for (const refs of analyzed.units.values())
    for (const r of refs) nextId = Math.max(nextId, r.id + 1);
  const stepBlocks = blocks.filter((b) => b.kind === 'step');
  // Where each step starts: its `step:` cell (untagged cells above every tag may come first).
  const starts = new Map(
    stepBlocks.map((b) => [
      b,
      b.cells[
        Math.max(
          0,
          b.tags.findIndex((t) => t.role.kind === 'step'),
        )
      ]!,
    ]),
  );
  for (const cell of cells) {
    const refs = analyzed.units.get(cell) ?? [];
    for (const ref of refs) {
      if (ref.unit.kind === 'seed') continue;
      if (ref.ambient) config.push(ref);
      else for (const n of ref.unit.names) units.set(n, ref);
    }
    const rest = blankSpans(plain(cell), [
      ...refs.filter((r) => r.unit.kind !== 'seed').map((r) => r.unit),
      ...(inputStatements.get(cell) ?? []),
    ]);
    code.set(cell, rest);
    if (isBlankCode(rest)) continue;
    const restUnit = restOfCellUnit(cell, rest);
    if (restUnit !== null) {
      const ref = { id: nextId++, unit: restUnit, global: true, ambient: false };
      for (const n of restUnit.names) restUnits.set(n, ref);
    }
    const host =
      stepBlocks.find((b) => starts.get(b)! > cell) ??
      [...stepBlocks].reverse().find((b) => starts.get(b)! < cell);
    if (host === undefined) continue;
    hostCells.set(host, [...(hostCells.get(host) ?? []), cell]);
  }
  return {
    cells,
    units,
    config,
    hostCells,
    code,
    restUnits,
    starImport: prelude.starImports.length > 0,
    diagnostics: problemsOfAnalysis(prelude),
  };
}

/** A statement's place in a cell's code, `[from, to)`. */
export interface Span {
  readonly from: number;
  readonly to: number;
}

/** The cell's code with the given statements blanked out (lines and columns kept). */
export function blankSpans(code: string, spans: readonly Span[]): string {
  let out = code;
  for (const { from, to } of spans)
    out = out.slice(0, from) + out.slice(from, to).replace(/[^\n]/g, ' ') + out.slice(to);
  return out;
}

/** Nothing to run: blank lines, comments, and the `pass` lines session-only magics become. */
function isBlankCode(code: string): boolean {
  return code.split('\n').every((l) => /^\s*(pass\b\s*)?(#.*)?$/.test(l));
}
