/**
 * `cellflow outputs RUN_ID [-o OUT.ipynb]` and `cellflow run --output-notebook OUT.ipynb`: a run's
 * executed notebook (every cell with what it showed when its step ran), as papermill writes one.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LocalBackend, type RunRef } from '@cellflow/backend';
import type { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { CliError } from '../notebook-file.js';
import { writeOutputFile } from '../output-file.js';
import { asCliError } from './cluster-commands.js';

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

export function registerOutputsCommand(program: Command, ctx: CliContext): void {
  program
    .command('outputs')
    .description(
      "A run's executed notebook: the notebook as it ran, every cell with its outputs (text, tables, plots, errors).",
    )
    .argument('<run-id>')
    .option('-o, --output <file>', 'write the .ipynb here instead of standard output')
    .option('--workspace <dir>', 'folder whose .cellflow/ keeps local runs (default: .)')
    .action(async (runId: string, opts: { output?: string; workspace?: string }) => {
      const workspace = opts.workspace ?? '.';
      if (!/^[\w.-]+$/.test(runId) || !existsSync(join(workspace, '.cellflow', 'runs', runId)))
        throw new CliError(
          `No local run ${runId} under ${join(workspace, '.cellflow', 'runs')}. Fix: check the id with \`cellflow runs\`, or pass the --workspace the run was made in.`,
          1,
        );
      const backend = new LocalBackend({ workspace });
      await writeExecutedNotebook(ctx, backend, { id: runId }, opts.output);
    });
}
