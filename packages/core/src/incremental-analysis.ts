/**
 * `NotebookAnalyzer`: `analyzeNotebook` for an editor, which re-checks the same notebook a moment
 * after every edit. Syntax trees, plain-Python conversions, code units and the analyses of runs of
 * cells are remembered by their text (parse-python, analyze-cells), so a re-check redoes only the
 * edited cells' share of that work. Then, when every edited cell is step code whose names, lines,
 * code units and magics are what they were (an edit to an expression, a literal, a comment), the
 * graph and diagnostics cannot have changed: the previous ones are kept, with the cells' new code.
 * Any other edit (a name bound or read, a line added, tags, cells added or moved, settings)
 * resolves the graph again from the remembered analyses.
 */
import { analyzeNotebook, type AnalyzeResult, type CompileOptions } from './compile.js';
import { sortDiagnostics } from './diagnostics.js';
import type { Notebook } from './notebook/notebook.js';
import { parseNotebook } from './notebook/parse-notebook.js';
import { recordCellAnalyses, analyzeCells } from './python/analyze-cells.js';
import type { CodeAnalysis } from './python/analyze-python.js';
import { readCodeUnits, readNotebookCodeUnits, type CodeUnit } from './python/code-units.js';
import { toPlainPython } from './python/ipython-syntax.js';

interface CellRun {
  readonly cells: readonly number[];
  /** The code each cell had in the run, updated as edits keep the graph. */
  readonly codes: string[];
}

interface Checked {
  readonly notebook: Notebook;
  readonly optionsKey: string;
  readonly parseDiagnostics: string;
  readonly result: AnalyzeResult & { readonly notebook: Notebook };
  /** The runs of cells the graph was built from, by the cells they hold. */
  readonly runsOfCell: ReadonlyMap<number, readonly CellRun[]>;
  /** Cells whose code is a step's own (not imports, functions, parameters or metrics cells). */
  readonly stepCells: ReadonlySet<number>;
  /** Names code units bind (imports among them): how often the code mentions them matters. */
  readonly unitNames: ReadonlySet<string>;
  /** The notebook's functions that yield: a call of one bound to a name is a code unit. */
  readonly generatorFunctions: ReadonlySet<string>;
  /** The notebook's classes and functions: one bound again from a call of it is a code unit. */
  readonly definitions: ReadonlySet<string>;
}

export class NotebookAnalyzer {
  private last: Checked | undefined;

  /** The same as `analyzeNotebook(input, options)`, redoing only what changed since the last call. */
  analyze(input: string | Uint8Array | Notebook, options: CompileOptions = {}): AnalyzeResult {
    const parsed =
      typeof input === 'string' || input instanceof Uint8Array
        ? parseNotebook(input)
        : { notebook: input, diagnostics: [] };
    const notebook = parsed.notebook;
    if (notebook === undefined) {
      this.last = undefined;
      return analyzeNotebook(input, options);
    }
    const optionsKey = JSON.stringify(options);
    const parseDiagnostics = JSON.stringify(parsed.diagnostics);
    const kept = this.keep(notebook, optionsKey, parseDiagnostics);
    if (kept !== undefined) return kept;

    const runs = new Map<string, CellRun>();
    const result = recordCellAnalyses(
      (cells, codes) => runs.set(cells.join(','), { cells: [...cells], codes: [...codes] }),
      () => analyzeNotebook(notebook, options),
    );
    // As analyzeNotebook(input) reports them: the notebook's own problems among the others.
    const full = {
      ...result,
      diagnostics: sortDiagnostics([...parsed.diagnostics, ...result.diagnostics]),
    };
    if (full.notebook === undefined || full.graph === undefined) {
      this.last = undefined;
      return full;
    }
    const runsOfCell = new Map<number, CellRun[]>();
    for (const run of runs.values())
      for (const cell of new Set(run.cells))
        runsOfCell.set(cell, [...(runsOfCell.get(cell) ?? []), run]);
    const prelude = new Set(full.graph.preludeCells);
    // A metrics cell runs in the step that reports it, but the graph reads its lines too.
    const metricCells = new Set(full.graph.metrics.map((m) => m.cell));
    const stepCells = new Set(
      full.graph.steps
        .flatMap((s) => s.cells)
        .filter((c) => !prelude.has(c) && !metricCells.has(c)),
    );
    const unitCodes = [...prelude, ...stepCells].map(
      (c) => [c, toPlainPython(notebook.cells[c]?.source ?? '').code] as const,
    );
    const { units, generatorFunctions, definitions } = readNotebookCodeUnits(unitCodes);
    const unitNames = new Set([...units.values()].flatMap((us) => us.flatMap((u) => u.names)));
    this.last = {
      notebook,
      optionsKey,
      parseDiagnostics,
      result: full as AnalyzeResult & { notebook: Notebook },
      runsOfCell,
      stepCells,
      unitNames,
      generatorFunctions,
      definitions,
    };
    return full;
  }

  /** The previous result for `notebook`, when its edits cannot change the graph; else undefined. */
  private keep(
    notebook: Notebook,
    optionsKey: string,
    parseDiagnostics: string,
  ): AnalyzeResult | undefined {
    const last = this.last;
    if (
      last === undefined ||
      last.optionsKey !== optionsKey ||
      last.parseDiagnostics !== parseDiagnostics ||
      last.notebook.cells.length !== notebook.cells.length ||
      !sameJson(last.notebook.metadata, notebook.metadata)
    )
      return undefined;
    const edited: number[] = [];
    for (let i = 0; i < notebook.cells.length; i++) {
      const before = last.notebook.cells[i]!;
      const now = notebook.cells[i]!;
      if (before.kind !== now.kind || !sameJson(before.metadata, now.metadata)) return undefined;
      if (!sameJson(before.tags, now.tags)) return undefined;
      if (before.source !== now.source) edited.push(i);
    }
    const newCode = new Map<number, string>();
    for (const cell of edited) {
      const code = this.sameInterface(cell, last, notebook.cells[cell]!.source);
      if (code === undefined) return undefined;
      newCode.set(cell, code);
    }
    // Nothing the graph is made of changed: keep it, with the cells' new code.
    for (const [cell, code] of newCode)
      for (const run of last.runsOfCell.get(cell) ?? [])
        run.cells.forEach((c, i) => {
          if (c === cell) run.codes[i] = code;
        });
    const code = new Map(last.result.code);
    for (const [cell, text] of newCode) code.set(cell, text);
    const result = { ...last.result, notebook, code };
    this.last = { ...last, notebook, result };
    return result;
  }

  /**
   * The cell's new plain code when everything the graph reads from it is unchanged: its words,
   * magics, code units, and every analysis of a run holding it (names, lines, aliases, ...).
   */
  private sameInterface(cell: number, last: Checked, source: string): string | undefined {
    const before = last.notebook.cells[cell]!.source;
    if (!last.stepCells.has(cell) || before.trim() === '' || source.trim() === '') return undefined;
    const oldPlain = toPlainPython(before);
    const newPlain = toPlainPython(source);
    if (newPlain.code.trim() === '' || oldPlain.code.trim() === '') return undefined;
    // Names looked up through `globals()` are read by the text of the key (`global-lookups.ts`).
    if (before.includes('globals()') || source.includes('globals()')) return undefined;
    if (!sameJson([oldPlain.notes, oldPlain.env], [newPlain.notes, newPlain.env])) return undefined;
    if (!sameJson(mentions(before, last.unitNames), mentions(source, last.unitNames)))
      return undefined;
    const oldUnits = readCodeUnits(cell, oldPlain.code, last.generatorFunctions, last.definitions);
    const newUnits = readCodeUnits(cell, newPlain.code, last.generatorFunctions, last.definitions);
    if (!sameJson(oldUnits.map(unitShape), newUnits.map(unitShape))) return undefined;
    for (const run of last.runsOfCell.get(cell) ?? []) {
      const at = run.cells.indexOf(cell);
      if (run.codes[at] !== oldPlain.code) return undefined;
      const codes = [...run.codes];
      codes[at] = newPlain.code;
      const oldAnalysis = analyzeCells(run.cells, (c) => run.codes[run.cells.indexOf(c)]!);
      const newAnalysis = analyzeCells(run.cells, (c) => codes[run.cells.indexOf(c)]!);
      if (analysisShape(oldAnalysis, cell, oldUnits) !== analysisShape(newAnalysis, cell, newUnits))
        return undefined;
    }
    return newPlain.code;
  }
}

/** Deep equality of JSON-like values (cell metadata, tags, notes). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    const k = ka[i]!;
    if (k !== kb[i]) return false;
    if (!sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
      return false;
  }
  return true;
}

/** How often the source mentions each of `names`, as the graph counts words. */
function mentions(source: string, names: ReadonlySet<string>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const word of source.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? [])
    if (names.has(word)) counts[word] = (counts[word] ?? 0) + 1;
  return counts;
}

/** A code unit without its offsets (which move with any edit before it). */
function unitShape(unit: CodeUnit): unknown {
  const { from: _from, to: _to, ...shape } = unit;
  return shape;
}

/** An analysis as the graph reads it: the edited cell's binding offsets become the unit they fall in. */
function analysisShape(analysis: CodeAnalysis, cell: number, units: readonly CodeUnit[]): string {
  const lastBindings = [...analysis.lastBindings].map(([name, at]) =>
    at.cell === cell
      ? [name, at.cell, units.findIndex((u) => u.from <= at.offset && at.offset < u.to)]
      : [name, at.cell, at.offset],
  );
  return JSON.stringify({ ...analysis, lastBindings }, (_key, value: unknown) =>
    value instanceof Map ? [...value] : value instanceof Set ? [...value] : value,
  );
}
