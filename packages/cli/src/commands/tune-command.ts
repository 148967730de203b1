/**
 * `cellflow tune`: a hyperparameter study from the notebook's `metadata.cellflow.tuning` (or Kale's
 * `katib_metadata`), on this machine or with Katib on a cluster, with a live table of trials;
 * `--apply-best` writes a study's best values into the parameters cell. `cellflow studies` lists them.
 */
import {
  applyParameterValues,
  compile,
  defaultStudyFor,
  describeLocation,
  formatMetricValue,
  hasErrors,
  readStudySpec,
  studyToMetadata,
  TUNING_ALGORITHMS,
  type CompiledPipeline,
  type StudySpec,
  type TuningAlgorithm,
} from '@cellflow/core';
import {
  LocalBackend,
  parseParameterAssignments,
  type Backend,
  type StudySummary,
  type TrialSummary,
} from '@cellflow/backend';
import { InvalidArgumentError, type Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { CliError, fileNameOf, formatDiagnostic, readNotebookFile } from '../notebook-file.js';
import { writeOutputFile } from '../output-file.js';
import { formatDuration } from '../run-format.js';
import { formatTrialValue, StudyProgress } from '../study-progress.js';
import {
  asCliError,
  connectCluster,
  withClusterFlags,
  type ClusterFlags,
} from './cluster-commands.js';

interface TuneOptions extends ClusterFlags {
  cluster?: boolean;
  local?: boolean;
  param: string[];
  maxTrials?: number;
  parallelTrials?: number;
  algorithm?: string;
  seed?: number;
  python?: string;
  cpuOnly?: boolean;
  workspace?: string;
  applyBest?: boolean;
  study?: string;
  json?: boolean;
  trialImage?: string;
  trialServiceAccount?: string;
  trialKfpEndpoint?: string;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function wholeNumber(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`expected a whole number of at least ${min}.`);
    return n;
  };
}

function compileNotebook(ctx: CliContext, notebook: string, bytes: Uint8Array): CompiledPipeline {
  const result = compile(bytes, { fileName: fileNameOf(notebook) });
  for (const d of result.diagnostics) ctx.err(formatDiagnostic(notebook, d));
  if (hasErrors(result.diagnostics) || result.pipeline === undefined)
    throw new CliError(`${notebook}: not tuned; fix the errors above.`, 1);
  return result.pipeline;
}

/** The notebook's study with the command line's overrides, or a clear error saying how to add one. */
function studyOf(
  ctx: CliContext,
  notebook: string,
  pipeline: CompiledPipeline,
  opts: TuneOptions,
): StudySpec {
  const { study, diagnostics } = readStudySpec(pipeline.notebook.metadata, pipeline.graph);
  for (const d of diagnostics) ctx.err(formatDiagnostic(notebook, d));
  if (study === null) {
    if (diagnostics.length > 0)
      throw new CliError(`${notebook}: not tuned; fix the study above.`, 1);
    const example = defaultStudyFor(pipeline.graph);
    throw new CliError(
      `${notebook} has no study. Fix: add one to the notebook metadata under "cellflow" -> "tuning"${
        example !== null
          ? `, for example:\n  "tuning": ${JSON.stringify(studyToMetadata(example))}`
          : ' (the pipeline needs a `pipeline-metrics` cell and numeric parameters to search)'
      }`,
      1,
    );
  }
  let algorithm: TuningAlgorithm = study.algorithm;
  if (opts.algorithm !== undefined) {
    const found = TUNING_ALGORITHMS.find((a) => a === opts.algorithm);
    if (found === undefined)
      throw new CliError(
        `--algorithm ${opts.algorithm} is not known. Fix: use one of ${TUNING_ALGORITHMS.join(', ')}.`,
      );
    algorithm = found;
  }
  const maxTrials = opts.maxTrials ?? study.maxTrials;
  return {
    ...study,
    algorithm,
    maxTrials,
    parallelTrials: Math.min(maxTrials, opts.parallelTrials ?? study.parallelTrials),
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
  };
}

function formatAssignment(trial: TrialSummary): string {
  return Object.entries(trial.parameters)
    .map(([k, v]) => `${k}=${formatTrialValue(v)}`)
    .join(' ');
}

function printSummary(ctx: CliContext, s: StudySummary): void {
  const c = s.counts;
  const took =
    s.finishedAt !== null
      ? ` in ${formatDuration(Date.parse(s.finishedAt) - Date.parse(s.createdAt))}`
      : '';
  ctx.out('');
  ctx.out(
    `Study ${s.state}${took}: ${c.succeeded} succeeded, ${c.failed} failed${c.cancelled > 0 ? `, ${c.cancelled} cancelled` : ''}${c.earlyStopped > 0 ? `, ${c.earlyStopped} stopped early` : ''}.${s.reason !== undefined && s.state !== 'succeeded' ? ` ${s.reason}` : ''}`,
  );
  if (s.best !== null) {
    ctx.out(
      `Best: trial #${s.best.index}, ${s.spec.objective} ${formatMetricValue(s.best.objective ?? NaN)} with ${formatAssignment(s.best)}${s.best.runId !== undefined ? ` (run ${s.best.runId})` : ''}`,
    );
  }
}

async function openBackend(opts: TuneOptions): Promise<Backend> {
  if (opts.cluster === true)
    return connectCluster(opts, {
      trials: {
        ...(opts.trialImage !== undefined ? { trialImage: opts.trialImage } : {}),
        ...(opts.trialServiceAccount !== undefined
          ? { trialServiceAccount: opts.trialServiceAccount }
          : {}),
        ...(opts.trialKfpEndpoint !== undefined ? { trialKfpEndpoint: opts.trialKfpEndpoint } : {}),
      },
    });
  return new LocalBackend({
    ...(opts.workspace !== undefined ? { workspace: opts.workspace } : {}),
    ...(opts.python !== undefined ? { python: opts.python } : {}),
  });
}

async function applyBest(ctx: CliContext, notebook: string, opts: TuneOptions): Promise<void> {
  const bytes = await readNotebookFile(notebook);
  const text = new TextDecoder().decode(bytes);
  const pipeline = compileNotebook(ctx, notebook, bytes);
  const backend = await openBackend(opts);
  const studies = await backend.listStudies().catch((error: unknown) => {
    throw asCliError(error);
  });
  const study =
    opts.study !== undefined
      ? studies.find((s) => s.id === opts.study)
      : studies.find((s) => s.pipeline === pipeline.graph.pipeline.name && s.best !== null);
  if (study === undefined)
    throw new CliError(
      opts.study !== undefined
        ? `No study ${opts.study}. Fix: list studies with \`cellflow studies\`.`
        : `No study of ${pipeline.graph.pipeline.name} has a best trial yet. Fix: run \`cellflow tune ${notebook}\` first.`,
      1,
    );
  if (study.best === null)
    throw new CliError(`Study ${study.id} has no successful trial, so no best values to apply.`, 1);
  const result = applyParameterValues(text, pipeline.graph, study.best.parameters);
  for (const d of result.diagnostics) ctx.err(formatDiagnostic(notebook, d));
  if (result.diagnostics.length > 0) throw new CliError(`${notebook}: left unchanged.`, 1);
  if (result.text !== text) await writeOutputFile(notebook, result.text);
  ctx.out(
    `Applied the best trial of study ${study.id} (${study.spec.objective} ${formatMetricValue(study.best.objective ?? NaN)}) to ${notebook}:`,
  );
  for (const c of result.changes)
    ctx.out(
      `  ${describeLocation(c.cell, c.line)}: ${c.name} = ${c.before}${c.before === c.after ? ' (unchanged)' : ` -> ${c.after}`}`,
    );
}

async function tune(ctx: CliContext, notebook: string, opts: TuneOptions): Promise<void> {
  if (opts.cluster === true && opts.local === true)
    throw new CliError('Choose one of --local and --cluster.');
  if (opts.applyBest === true) return applyBest(ctx, notebook, opts);
  const pipeline = compileNotebook(ctx, notebook, await readNotebookFile(notebook));
  const spec = studyOf(ctx, notebook, pipeline, opts);
  const backend = await openBackend(opts);
  let parameters;
  try {
    parameters = parseParameterAssignments(pipeline.graph, opts.param);
  } catch (error) {
    throw asCliError(error);
  }
  const tuneOptions = { parameters, notebookPath: notebook, cpuOnly: opts.cpuOnly === true };
  const ref = await backend.tune(pipeline, spec, tuneOptions).catch((error: unknown) => {
    throw asCliError(error);
  });
  const where = opts.cluster === true ? 'Katib on the cluster' : 'this machine';
  ctx.out(
    `Study ${ref.id} on ${where}: ${spec.algorithm}, up to ${spec.maxTrials} trials (${spec.parallelTrials} at once), ${spec.goal} ${spec.objective} over ${spec.parameters.map((p) => p.name).join(', ')}${spec.seed !== undefined ? `, seed ${spec.seed}` : ''}`,
  );
  let cancelling = false;
  const undo = ctx.onInterrupt?.(() => {
    if (cancelling) return;
    cancelling = true;
    ctx.err('Cancelling the study: stopping its trials...');
    void backend.cancelStudy(ref);
  });
  let final: StudySummary | undefined;
  const progress = new StudyProgress(ctx, spec);
  try {
    for await (const event of backend.watchStudy(ref)) {
      if (event.type === 'best') progress.onBest(event.trial);
      if (event.type === 'trial') progress.onTrial(event.trial);
      if (event.type === 'study') {
        // The first snapshot (and the last) may hold trials no `trial` event will tell again:
        // one that ended before the watch began, when attaching to a study already running.
        if (event.study.best !== null) progress.onBest(event.study.best);
        for (const t of event.study.trials) progress.onTrial(t);
        final = event.study;
      }
    }
  } finally {
    progress.stop();
    undo?.();
    await backend.dispose();
  }
  if (final === undefined) throw new CliError('The study ended without a result.', 1);
  if (opts.json === true) ctx.out(JSON.stringify(final, null, 2));
  printSummary(ctx, final);
  if (final.best !== null)
    ctx.out(
      `Apply its values to the parameters cell: cellflow tune ${notebook} --apply-best${opts.cluster === true ? ' --cluster' : ''}`,
    );
  ctx.exitCode = final.state === 'succeeded' ? 0 : final.state === 'cancelled' ? 130 : 1;
}

async function listStudies(ctx: CliContext, opts: TuneOptions): Promise<void> {
  const backend = await openBackend(opts);
  const studies = await backend.listStudies().catch((error: unknown) => {
    throw asCliError(error);
  });
  if (opts.json === true) {
    ctx.out(JSON.stringify(studies, null, 2));
    return;
  }
  if (studies.length === 0) {
    ctx.out('No studies yet. Start one with `cellflow tune NOTEBOOK.ipynb`.');
    return;
  }
  for (const s of studies) {
    const best =
      s.best !== null
        ? `best ${s.spec.objective} ${formatMetricValue(s.best.objective ?? NaN)} (${formatAssignment(s.best)})`
        : 'no best yet';
    ctx.out(
      `${s.id}  ${s.state.padEnd(9)}  ${s.counts.succeeded}/${s.trials.length} trials succeeded  ${best}`,
    );
  }
}

export function registerTuneCommands(program: Command, ctx: CliContext): void {
  withClusterFlags(
    program
      .command('tune')
      .description(
        "Search the notebook's parameters for the best value of a pipeline metric (the study in metadata.cellflow.tuning): on this machine, or with Katib on a cluster.",
      )
      .argument('<notebook>', 'the .ipynb file')
      .option('--local', 'run the trials on this machine (the default)')
      .option('--cluster', 'run the study with Katib on the cluster (see the connection flags)')
      .option('-p, --param <NAME=VALUE>', 'set a parameter that is not searched', collect, [])
      .option('--max-trials <n>', "trials in all (default: the study's)", wholeNumber(1))
      .option('--parallel-trials <n>', "trials at once (default: the study's)", wholeNumber(1))
      .option('--algorithm <name>', `search algorithm: ${TUNING_ALGORITHMS.join(', ')}`)
      .option('--seed <n>', 'random seed (same seed, same trials)', wholeNumber(0))
      .option('--python <path>', 'Python interpreter for local trials')
      .option('--cpu-only', 'run GPU steps without GPUs (local)')
      .option('--workspace <dir>', 'folder whose .cellflow/ keeps runs and studies (default: .)')
      .option('--apply-best', "write the best trial's values into the parameters cell and exit")
      .option(
        '--study <id>',
        'with --apply-best: this study (default: the latest with a best trial)',
      )
      .option('--json', 'print the final study summary as JSON')
      .option('--trial-image <image>', 'with --cluster: image of the trial runner (any Python 3)')
      .option(
        '--trial-service-account <name>',
        'with --cluster: service account of the trial pods (creates KFP runs, reads pod logs)',
      )
      .option(
        '--trial-kfp-endpoint <url>',
        'with --cluster: the KFP API as trial pods reach it (default: the in-cluster service)',
      ),
  ).action(async (notebook: string, opts: TuneOptions) => tune(ctx, notebook, opts));

  withClusterFlags(
    program
      .command('studies')
      .description('List hyperparameter studies: state, trials, best values.')
      .option('--cluster', "the cluster's Katib experiments instead of this machine's studies")
      .option('--workspace <dir>', 'folder whose .cellflow/ keeps studies (default: .)')
      .option('--json', 'print as JSON'),
  ).action(async (opts: TuneOptions) => listStudies(ctx, opts));
}
