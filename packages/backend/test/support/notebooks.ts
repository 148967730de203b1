/** Building, compiling and running notebooks in tests. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { compile, type CompiledPipeline } from '@cellflow/core';
import type {
  LocalBackend,
  RunEvent,
  RunOptions,
  RunRef,
  RunStateEvent,
  RunSummary,
} from '@cellflow/backend';
import { REPO_ROOT as repoRoot } from '../../../../test/support/paths.js';

export { PYTHON, REPO_ROOT as repoRoot } from '../../../../test/support/paths.js';
export const kaleFixtures = resolve(repoRoot, '../shared/fixtures/kale');

export interface NotebookJson {
  cells: { cell_type: string; source: string | string[]; metadata: { tags?: string[] } }[];
  metadata: Record<string, unknown>;
  nbformat: number;
  nbformat_minor: number;
}

export function code(source: string, tags: string[] = []): NotebookJson['cells'][number] {
  return {
    cell_type: 'code',
    metadata: { tags },
    source,
    outputs: [],
    execution_count: null,
  } as NotebookJson['cells'][number];
}

export function notebook(cells: NotebookJson['cells'], name = 'test'): NotebookJson {
  return { cells, metadata: { cellflow: { name } }, nbformat: 4, nbformat_minor: 5 };
}

export function readNotebook(path: string): NotebookJson {
  return JSON.parse(readFileSync(path, 'utf8')) as NotebookJson;
}

export function sourceOf(cell: NotebookJson['cells'][number]): string {
  return Array.isArray(cell.source) ? cell.source.join('') : cell.source;
}

/** A fresh folder removed by the returned function. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `cellflow-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes the notebook into `dir` and compiles it; fails the test on compile errors. */
export function compileNotebook(
  nb: NotebookJson,
  dir: string,
  file = 'notebook.ipynb',
): { path: string; pipeline: CompiledPipeline } {
  const path = join(dir, file);
  writeFileSync(path, JSON.stringify(nb, null, 1));
  const result = compile(readFileSync(path), { fileName: file });
  if (result.pipeline === undefined) {
    throw new Error(`does not compile: ${JSON.stringify(result.diagnostics, null, 2)}`);
  }
  return { path, pipeline: result.pipeline };
}

export interface FinishedRun {
  readonly ref: RunRef;
  readonly events: RunEvent[];
  readonly final: RunStateEvent;
  readonly summary: RunSummary;
  readonly elapsedMs: number;
}

/** Submits, follows `watch()` to the end, and returns what happened. */
export async function runToEnd(
  backend: LocalBackend,
  pipeline: CompiledPipeline,
  options: RunOptions = {},
  onEvent?: (event: RunEvent, ref: RunRef) => void,
): Promise<FinishedRun> {
  const started = Date.now();
  const ref = await backend.submit(pipeline, options);
  const events: RunEvent[] = [];
  for await (const event of backend.watch(ref)) {
    events.push(event);
    onEvent?.(event, ref);
  }
  const final = events.at(-1);
  if (final?.type !== 'run') throw new Error('watch() ended without the run event');
  const summary = (await backend.listRuns()).find((r) => r.id === ref.id);
  if (summary === undefined) throw new Error(`run ${ref.id} is not listed`);
  return { ref, events, final, summary, elapsedMs: Date.now() - started };
}

export function stepStates(run: FinishedRun): Record<string, string> {
  return Object.fromEntries(run.summary.steps.map((s) => [s.name, s.state]));
}

/** The value a step saved for later steps, when it was saved as JSON. */
export function savedJsonValue(
  workspace: string,
  runId: string,
  step: string,
  variable: string,
): unknown {
  const dir = join(workspace, '.cellflow', 'runs', runId, 'steps', step, 'outputs', variable);
  return JSON.parse(readFileSync(join(dir, 'value.json'), 'utf8'));
}
