/**
 * Analyses of runs of cells, remembered by their cells and code: an editor re-analyses the whole
 * notebook a moment after every edit, and after a one-cell edit only the runs holding that cell
 * have changed, so only they are analysed again (syntax trees are remembered the same way, in
 * parse-python). The graph is then resolved again from these analyses. An analysis is plain data
 * that nothing changes once made, so sharing it between analyses of the notebook is safe.
 */
import { PythonAnalyzer, type CodeAnalysis } from './analyze-python.js';
import { BoundedCache } from './bounded-cache.js';

const ids = new BoundedCache<number>(16384);
let nextId = 0;

/**
 * A number for a text, the same while it is remembered and never another text's: keys made of
 * these stay short, and a text seen before (the very string a cache returned) is looked up
 * without reading it again.
 */
export function textId(text: string): number {
  return ids.get(text, () => nextId++);
}

/** Enough for several large notebooks' blocks, and each block's successive runs of cells. */
const analyses = new BoundedCache<CodeAnalysis>(8192);

type AnalysisRecorder = (cells: readonly number[], codes: readonly string[]) => void;
let recorder: AnalysisRecorder | undefined;

/** Runs `run`, telling `record` every run of cells analysed meanwhile, and its code. */
export function recordCellAnalyses<T>(record: AnalysisRecorder, run: () => T): T {
  const outer = recorder;
  recorder = record;
  try {
    return run();
  } finally {
    recorder = outer;
  }
}

/** The analysis of `cells` in this order, the code of each from `codeOf`. */
export function analyzeCells(
  cells: readonly number[],
  codeOf: (cell: number) => string,
): CodeAnalysis {
  const codes = cells.map(codeOf);
  recorder?.(cells, codes);
  let key = '';
  for (let i = 0; i < cells.length; i++) key += `${cells[i]!}:${textId(codes[i]!)},`;
  return analyses.get(key, () => analyzeUncached(cells, codes));
}

/**
 * The analysis itself, apart from the look-up above: the engine optimizes the look-up, run for
 * every pass's question, without compiling the analyzer into it.
 */
function analyzeUncached(cells: readonly number[], codes: readonly string[]): CodeAnalysis {
  const analyzer = new PythonAnalyzer();
  for (let i = 0; i < cells.length; i++) analyzer.addCell(cells[i]!, codes[i]!);
  return analyzer.result();
}
