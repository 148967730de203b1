/**
 * `cellflow outputs RUN_ID [-o OUT.ipynb]` and `cellflow run --output-notebook OUT.ipynb`: a run's
 * executed notebook (every cell with what it showed when its step ran), as papermill writes one.
 * A local run keeps its notebook and its cells' outputs; a cluster run's outputs are read back from
 * its steps (their `cell-outputs` artifacts, a failed step's log) and put on the notebook it was
 * submitted from.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildExecutedNotebook, compile, parseNotebook, type NotebookFile } from '@cellflow/core';
import { BackendError, LocalBackend, type RunRef } from '@cellflow/backend';
import type { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { CliError, fileNameOf, readNotebookFile } from '../notebook-file.js';
import { writeOutputFile } from '../output-file.js';
import {
  asCliError,
  connectCluster,
  withClusterFlags,
  type ClusterFlags,
} from './cluster-commands.js';

/** Writes an executed notebook to `out` (never over `inputs`), or prints it. */
async function writeNotebook(
  ctx: CliContext,
  notebook: NotebookFile,
  out: string | undefined,
  inputs: readonly string[],
): Promise<void> {
  const text = `${JSON.stringify(notebook, null, 1)}\n`;
  if (out === undefined) {
    ctx.out(text.trimEnd());
    return;
  }
  const written = await writeOutputFile(out, text, { inputs });
  const shown = written.throughSymlink ? `${written.file} (the target of the symlink ${out})` : out;
  const ran = notebook.cells.filter((c) => typeof c.execution_count === 'number').length;
  ctx.err(`Wrote ${shown}: the run's notebook with the outputs of ${ran} cells.`);
}

/** Writes the executed notebook of a local run to `out` (never over `inputs`), or prints it. */
export async function writeExecutedNotebook(
  ctx: CliContext,
  backend: LocalBackend,
  ref: RunRef,
  out: string | undefined,
  inputs: readonly string[] = [],
): Promise<void> {
  let notebook;
  try {
    notebook = await backend.executedNotebook(ref);
  } catch (error) {
    throw asCliError(error);
  }
  await writeNotebook(ctx, notebook, out, inputs);
}

/**
 * The executed notebook of a cluster run: its cells' outputs on `notebookFile`, else on the
 * notebook the run was submitted from when that path is here.
 */
async function clusterExecutedNotebook(
  ctx: CliContext,
  runId: string,
  workspace: string,
  notebookFile: string | undefined,
  flags: ClusterFlags,
): Promise<{ notebook: NotebookFile; file: string }> {
  const notLocal = `No local run ${runId} under ${join(workspace, '.cellflow', 'runs')}`;
  const fix =
    'Fix: check the id with `cellflow runs` (`cellflow runs --cluster`), or pass the --workspace the run was made in.';
  let backend;
  try {
    backend = await connectCluster(flags);
  } catch (error) {
    const message = error instanceof Error ? error.message.replace(/\s*\n\s*/g, ' ') : '';
    throw new CliError(`${notLocal}, and no cluster to ask: ${message} ${fix}`, 1);
  }
  let read;
  try {
    read = await backend.cellOutputs({ id: runId });
  } catch (error) {
    if (
      error instanceof BackendError &&
      error.code === 'not-found' &&
      /read run /.test(error.message)
    )
      throw new CliError(`${notLocal}, nor on the cluster (${error.message}). ${fix}`, 1);
    throw asCliError(error);
  }
  const file = notebookFile ?? read.notebookPath;
  if (file === undefined || (notebookFile === undefined && !existsSync(file)))
    throw new CliError(
      `Run ${runId} ${file !== undefined ? `was submitted from ${file}, which is not here` : 'does not say which notebook it was submitted from'}. Fix: name the notebook with --notebook FILE.`,
      1,
    );
  const bytes = await readNotebookFile(file);
  const { notebook, diagnostics } = parseNotebook(bytes);
  if (notebook === undefined)
    throw new CliError(`${file}: not a notebook: ${diagnostics[0]?.message ?? ''}`, 1);
  // Outputs go only on the code that made them: each cell's code is compared with what ran.
  const code = compile(bytes, { fileName: fileNameOf(file) }).pipeline?.code;
  for (const record of read.cells) {
    const ran = read.ran.get(record.cell);
    const differs =
      notebook.cells[record.cell]?.kind !== 'code' ||
      (ran !== undefined && code?.get(record.cell) !== ran);
    if (differs)
      throw new CliError(
        `${file} is not the notebook run ${runId} ran: its cell ${record.cell + 1} ${notebook.cells[record.cell]?.kind === 'code' ? 'holds other code than the run ran' : 'is not a code cell there'}. Fix: pass the notebook as it was submitted with --notebook FILE.`,
        1,
      );
  }
  for (const { step, why } of read.missing) ctx.err(`Step ${step}: no outputs to show (${why}).`);
  return { notebook: buildExecutedNotebook(notebook, read.cells), file };
}

export function registerOutputsCommand(program: Command, ctx: CliContext): void {
  withClusterFlags(
    program
      .command('outputs')
      .description(
        "A run's executed notebook: the notebook as it ran, every cell with its outputs (text, tables, plots, errors). A local run under --workspace, else a cluster run.",
      )
      .argument('<run-id>')
      .option('-o, --output <file>', 'write the .ipynb here instead of standard output')
      .option('--workspace <dir>', 'folder whose .cellflow/ keeps local runs (default: .)')
      .option(
        '--notebook <file>',
        'a cluster run: the notebook it ran (default: the path it was submitted from)',
      ),
  ).action(
    async (
      runId: string,
      opts: ClusterFlags & { output?: string; workspace?: string; notebook?: string },
    ) => {
      const workspace = opts.workspace ?? '.';
      if (/^[\w.-]+$/.test(runId) && existsSync(join(workspace, '.cellflow', 'runs', runId))) {
        const backend = new LocalBackend({ workspace });
        await writeExecutedNotebook(ctx, backend, { id: runId }, opts.output);
        return;
      }
      const executed = await clusterExecutedNotebook(ctx, runId, workspace, opts.notebook, opts);
      await writeNotebook(ctx, executed.notebook, opts.output, [executed.file]);
    },
  );
}
