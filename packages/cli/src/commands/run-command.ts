import { isAbsolute, join, relative } from 'node:path';
import { compile, hasErrors } from '@cellflow/core';
import {
  BackendError,
  LocalBackend,
  parseParameterAssignments,
  type RunRef,
  type RunStateEvent,
  type StepFailure,
} from '@cellflow/backend';
import { applyRunEvent, queuedRun } from '@cellflow/protocol';
import { InvalidArgumentError, type Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { CliError, fileNameOf, formatDiagnostic, readNotebookFile } from '../notebook-file.js';
import { formatDuration, formatFailureDetails, formatMetrics } from '../run-format.js';
import { RunProgress } from '../run-progress.js';
import { writeExecutedNotebook } from './outputs-command.js';

interface RunCommandOptions {
  param: string[];
  cache: boolean;
  concurrency?: number;
  python?: string;
  cpuOnly?: boolean;
  freshProcesses?: boolean;
  workspace?: string;
  outputNotebook?: string;
}

const LOG_TAIL_LINES = 12;

function runDir(backend: LocalBackend, ref: RunRef): string {
  return join(backend.workspace, '.cellflow', 'runs', ref.id);
}

/** Relative to the current directory when inside it, else absolute. */
function shortPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError('expected a whole number of at least 1.');
  return n;
}

/** A refusal before anything ran: usage mistakes exit 2, everything else 1. */
function refusal(error: unknown): never {
  if (error instanceof BackendError) {
    const usage = error.code === 'unknown-parameter' || error.code === 'bad-parameter';
    throw new CliError(error.message, usage ? 2 : 1);
  }
  throw error;
}

async function reportFailures(
  ctx: CliContext,
  backend: LocalBackend,
  ref: RunRef,
  failures: ReadonlyMap<string, StepFailure>,
): Promise<void> {
  for (const [step, failure] of failures) {
    ctx.err('');
    ctx.err(`Step ${step} failed:`);
    for (const line of formatFailureDetails(failure)) ctx.err(`  ${line}`);
    if (failure.traceback === undefined) {
      const tail = await backend.logTail(ref, step, LOG_TAIL_LINES);
      if (tail.length > 0) {
        ctx.err(`  Last lines of its output:`);
        for (const line of tail) ctx.err(`    ${line}`);
      }
    }
    ctx.err(`  Full log: ${shortPath(join(runDir(backend, ref), 'steps', step, 'log.txt'))}`);
  }
}

export function registerRunCommand(program: Command, ctx: CliContext): void {
  program
    .command('run')
    .description(
      'Run a tagged notebook as a pipeline on this machine: independent steps in parallel, unchanged steps reused from earlier runs.',
    )
    .argument('<notebook>', 'the .ipynb file')
    .option('-p, --param <NAME=VALUE>', 'set a pipeline parameter (repeat for more)', collect, [])
    .option('--no-cache', 're-run every step, even the unchanged ones')
    .option('--concurrency <n>', 'steps running at once (default: CPU cores)', positiveInteger)
    .option(
      '--python <path>',
      'Python interpreter for the steps (default: /usr/bin/python3, see README)',
    )
    .option('--cpu-only', 'run steps that ask for GPUs without them, instead of refusing the run')
    .option(
      '--fresh-processes',
      'start a new interpreter for every step instead of forking a warm one',
    )
    .option('--workspace <dir>', 'folder whose .cellflow/ keeps run history and cache (default: .)')
    .option(
      '--output-notebook <file>',
      'when the run ends, write the executed notebook here (every cell with its outputs)',
    )
    .action(async (notebook: string, opts: RunCommandOptions) => {
      const bytes = await readNotebookFile(notebook);
      const result = compile(bytes, { fileName: fileNameOf(notebook) });
      for (const d of result.diagnostics) ctx.err(formatDiagnostic(notebook, d));
      if (hasErrors(result.diagnostics) || result.pipeline === undefined) {
        ctx.err(`${notebook}: not run; fix the errors above.`);
        ctx.exitCode = 1;
        return;
      }
      const pipeline = result.pipeline;
      const backend = new LocalBackend({
        ...(opts.workspace !== undefined ? { workspace: opts.workspace } : {}),
        ...(opts.python !== undefined ? { python: opts.python } : {}),
        warm: opts.freshProcesses !== true,
      });
      let ref: RunRef;
      try {
        const parameters = parseParameterAssignments(pipeline.graph, opts.param);
        ref = await backend.submit(pipeline, {
          parameters,
          cache: opts.cache,
          cpuOnly: opts.cpuOnly === true,
          notebookPath: notebook,
          ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
        });
      } catch (error) {
        refusal(error);
      }
      const python = await backend.python();
      const steps = pipeline.graph.steps.map((s) => s.name);
      ctx.out(
        `Run ${ref.id}: ${steps.length} step${steps.length === 1 ? '' : 's'} of ${pipeline.graph.pipeline.name}, Python ${python.path}`,
      );
      const progress = new RunProgress(ctx, steps);
      let cancelling = false;
      const undoInterrupt = ctx.onInterrupt?.(() => {
        if (cancelling) return;
        cancelling = true;
        progress.stop();
        ctx.err('Cancelling: stopping the running steps...');
        void backend.cancel(ref);
      });
      let run = queuedRun(ref.id, steps);
      let final: RunStateEvent | undefined;
      try {
        for await (const event of backend.watch(ref)) {
          if (!cancelling) progress.onEvent(event);
          run = applyRunEvent(run, event);
          if (event.type === 'run') final = event;
        }
      } finally {
        progress.stop();
        undoInterrupt?.();
      }
      // Steps that ended failed, with their last attempt's failure (the one fold of run events).
      const failures = new Map<string, StepFailure>();
      for (const step of run.steps)
        if (step.state === 'failed' && step.failure !== undefined)
          failures.set(step.name, step.failure);
      await reportFailures(ctx, backend, ref, failures);
      const states = ((await backend.listRuns()).find((r) => r.id === ref.id)?.steps ?? []).map(
        (s) => s.state,
      );
      const tally = (['succeeded', 'cached', 'failed', 'cancelled'] as const)
        .map((state) => [state, states.filter((s) => s === state).length] as const)
        .filter(([, n]) => n > 0)
        .map(([state, n]) => `${n} ${state}`)
        .join(', ');
      ctx.out('');
      ctx.out(
        `Run ${final?.state ?? 'ended'} in ${formatDuration(final?.durationMs ?? null)}: ${tally}.`,
      );
      if (final !== undefined && Object.keys(final.metrics).length > 0)
        ctx.out(`Metrics: ${formatMetrics(final.metrics)}`);
      ctx.out(`History: ${shortPath(runDir(backend, ref))} (list runs with \`cellflow runs\`)`);
      if (opts.outputNotebook !== undefined)
        await writeExecutedNotebook(ctx, backend, ref, opts.outputNotebook, [notebook]);
      ctx.exitCode = final?.state === 'succeeded' ? 0 : final?.state === 'cancelled' ? 130 : 1;
    });
}
