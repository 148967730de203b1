import { compile, hasErrors } from '@cellflow/core';
import type { Command } from 'commander';
import { fileNameOf, formatDiagnostic, readNotebookFile } from '../notebook-file.js';
import { writeOutputFile } from '../output-file.js';
import type { CliContext } from '../cli-context.js';

export function registerCompileCommand(program: Command, ctx: CliContext): void {
  program
    .command('compile')
    .description('Compile a tagged notebook to a Kubeflow Pipelines v2 pipeline (IR YAML).')
    .argument('<notebook>', 'the .ipynb file')
    .option('-o, --output <file>', 'write the YAML here instead of standard output')
    .option('--image <ref>', 'default image for steps without `image:`')
    .action(async (notebook: string, opts: { output?: string; image?: string }) => {
      const bytes = await readNotebookFile(notebook);
      const result = compile(bytes, {
        fileName: fileNameOf(notebook),
        ...(opts.image !== undefined ? { defaultImage: opts.image } : {}),
      });
      for (const d of result.diagnostics) ctx.err(formatDiagnostic(notebook, d));
      if (hasErrors(result.diagnostics) || result.yaml === undefined) {
        ctx.err(`${notebook}: not compiled; fix the errors above.`);
        ctx.exitCode = 1;
        return;
      }
      if (opts.output !== undefined) {
        const written = await writeOutputFile(opts.output, result.yaml, { inputs: [notebook] });
        const where = written.throughSymlink
          ? `${written.file} (the target of the symlink ${opts.output})`
          : opts.output;
        const count = result.graph?.steps.length ?? 0;
        ctx.err(`Wrote ${where} (${count} ${count === 1 ? 'step' : 'steps'}).`);
      } else ctx.out(result.yaml.replace(/\n$/, ''));
    });
}
