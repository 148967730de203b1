/**
 * The reference a pipeline run must match: the same notebook run top to bottom in a real Jupyter
 * kernel (`jupyter nbconvert --to notebook --execute`, kernel python3 = /usr/bin/python3).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PipelineGraph } from '@cellflow/core';
import { PYTHON, sourceOf, type NotebookJson } from './notebooks.js';

interface ExecutedCell {
  cell_type: string;
  outputs?: { output_type: string; name?: string; text?: string | string[] }[];
}

/** Cells tagged `skip` are not part of the pipeline; the reference leaves them out too. */
export function withoutSkippedCells(nb: NotebookJson): NotebookJson {
  return { ...nb, cells: nb.cells.filter((c) => !(c.metadata.tags ?? []).includes('skip')) };
}

/**
 * For notebooks that draw unseeded random numbers: the first cell of every step starts by seeding
 * numpy's and Python's generators, so each step draws the same numbers in the pipeline as in the
 * top-to-bottom run.
 */
export function seededAtEveryStep(nb: NotebookJson): NotebookJson {
  const seed = 'import random as _r\nimport numpy as _np\n_r.seed(0)\n_np.random.seed(0)\n';
  return {
    ...nb,
    cells: nb.cells.map((c) =>
      (c.metadata.tags ?? []).some((t) => t.startsWith('step:') || t.startsWith('block:'))
        ? { ...c, source: seed + sourceOf(c) }
        : c,
    ),
  };
}

export interface ReferenceRun {
  readonly cells: ExecutedCell[];
  /** What the cell printed to stdout. */
  stdoutOf(cell: number): string;
  /** Metric values as the metrics cell prints them, by metric name. */
  readonly metrics: Record<string, number | string>;
}

function comparable(printed: string): number | string {
  if (printed === 'True') return 1;
  if (printed === 'False') return 0;
  const n = Number(printed);
  return printed.trim() !== '' && Number.isFinite(n) ? n : printed;
}

/** Executes `nb` (written into `dir`, which is also the kernel's working directory). */
export function runNotebookTopToBottom(
  nb: NotebookJson,
  dir: string,
  graph: PipelineGraph,
  name = 'reference',
): ReferenceRun {
  const input = join(dir, `${name}.ipynb`);
  const output = join(dir, `${name}.executed.ipynb`);
  writeFileSync(input, JSON.stringify(nb));
  execFileSync(
    PYTHON,
    ['-m', 'nbconvert', '--to', 'notebook', '--execute', input, '--output', output],
    { cwd: dir, stdio: 'pipe', env: { ...process.env, PYDEVD_DISABLE_FILE_VALIDATION: '1' } },
  );
  const cells = (JSON.parse(readFileSync(output, 'utf8')) as { cells: ExecutedCell[] }).cells;
  const stdoutOf = (cell: number): string =>
    (cells[cell]?.outputs ?? [])
      .filter((o) => o.output_type === 'stream' && o.name === 'stdout')
      .map((o) => (Array.isArray(o.text) ? o.text.join('') : (o.text ?? '')))
      .join('');
  const metrics: Record<string, number | string> = {};
  const metricsCell = graph.metrics[0]?.cell;
  if (metricsCell !== undefined) {
    const printed = stdoutOf(metricsCell).trimEnd().split('\n');
    graph.metrics.forEach((m, i) => (metrics[m.name] = comparable(printed[i] ?? '<missing>')));
  }
  return { cells, stdoutOf, metrics };
}
