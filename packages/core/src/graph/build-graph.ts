/**
 * Passes 3-8: the notebook's cells to a validated step graph, as a composition of pure passes
 * (each takes and returns plain data; see docs/architecture.md):
 *
 *   analyzeBlocks -> readParameters -> readPrelude, readMetrics -> resolveDataFlow
 *     -> validateGraph -> orderFileAccess -> buildPipelineSteps
 *
 * The contract they keep (running the pipeline gives the results of running the notebook top to
 * bottom) is stated where it is kept, in resolve-data-flow.
 */
import { hasErrors, type Diagnostic } from '../diagnostics.js';
import type { Notebook } from '../notebook/notebook.js';
import { parseCellTags } from '../tags/cell-tags.js';
import type { NotebookSettings } from '../tags/notebook-settings.js';
import { durationToSeconds } from '../tags/tag-value-limits.js';
import { analyzeBlocks } from './analyze-blocks.js';
import { leadingCellsJoinedDiagnostic } from './data-flow-diagnostics.js';
import { buildPipelineSteps } from './build-steps.js';
import { orderFileAccess } from './order-file-access.js';
import type { PipelineGraph } from './pipeline-graph.js';
import { toMetricName, toPipelineName } from './pipeline-names.js';
import { readMetrics } from './read-metrics.js';
import { readParameters } from './read-parameters.js';
import { readPrelude } from './read-prelude.js';
import { RANDOM_STATE_VARIABLE, resolveDataFlow } from './resolve-data-flow.js';
import { mergeTags } from './step-tags.js';
import { noStepsDiagnostic, validateGraph } from './validate-graph.js';

export { durationToSeconds, RANDOM_STATE_VARIABLE, toMetricName, toPipelineName };

export interface BuildGraphOptions {
  /** Used for the pipeline name when the notebook metadata has none (`digits.ipynb` -> `digits`). */
  readonly fileName?: string;
  /** Image for steps without `image:` and without a notebook default. */
  readonly defaultImage?: string;
}

export const DEFAULT_IMAGE = 'python:3.11';

export interface BuildGraphResult {
  readonly graph: PipelineGraph;
  /** Plain-Python code of every analysed cell (IPython syntax rewritten), by cell index. */
  readonly code: ReadonlyMap<number, string>;
  readonly diagnostics: Diagnostic[];
}

export function buildPipelineGraph(
  notebook: Notebook,
  settings: NotebookSettings,
  options: BuildGraphOptions = {},
): BuildGraphResult {
  const kept = resolveNotebook(notebook, settings, false);
  // Untagged cells above every tag stay out, as Kale leaves them out, unless a step uses a name
  // only they define: then the notebook needs them, and they start the first step.
  const leading = kept.blocks.blocks[0];
  const needed =
    leading?.kind === 'untagged'
      ? kept.flow.skippedReads.find((r) => leading.cells.includes(r.cell))
      : undefined;
  const resolved = needed === undefined ? kept : resolveNotebook(notebook, settings, true);
  const first = kept.blocks.blocks.find((b) => b.kind === 'step');
  const joined =
    needed !== undefined && first !== undefined
      ? [leadingCellsJoinedDiagnostic(leading!.cells, first.name, needed)]
      : [];
  const { blocks, parameters, prelude, metrics, flow } = resolved;
  const { code } = prelude;
  const validated = validateGraph(flow.steps, code);
  const after = orderFileAccess(flow.steps, validated.after, code);
  const image = settings.image ?? options.defaultImage ?? DEFAULT_IMAGE;
  const steps = buildPipelineSteps(flow.steps, after, blocks.magicEnv, image);

  const diagnostics = [
    ...joined,
    ...blocks.diagnostics,
    ...prelude.diagnostics,
    ...parameters.diagnostics,
    ...metrics.diagnostics,
    ...flow.diagnostics,
    ...validated.diagnostics,
  ];
  if (steps.length === 0 && !hasErrors(diagnostics)) diagnostics.push(noStepsDiagnostic());
  return {
    graph: {
      pipeline: {
        name: toPipelineName(settings.name ?? options.fileName ?? 'pipeline'),
        description: settings.description ?? '',
        experiment: settings.experiment ?? null,
      },
      parameters: [...parameters.parameters],
      metrics: [...metrics.metrics],
      preludeCells: prelude.cells,
      steps,
    },
    code,
    diagnostics,
  };
}

/** Passes 3-6: blocks, parameters, prelude, metrics and the data flow between the steps. */
function resolveNotebook(
  notebook: Notebook,
  settings: NotebookSettings,
  joinLeadingCells: boolean,
) {
  const blocks = analyzeBlocks(notebook, { joinLeadingCells });
  const parameters = readParameters(blocks.blocks, blocks.plainCode);
  const prelude = readPrelude(blocks, parameters.inputStatements);
  const metrics = readMetrics(blocks.segments, prelude.code);
  const flow = resolveDataFlow({
    blocks,
    prelude,
    parameters: parameters.parameters,
    metrics: metrics.metrics,
    stepDefaults: mergeTags(settings.stepDefaults.map((t) => parseCellTags([t]).tags)),
  });
  return { blocks, parameters, prelude, metrics, flow };
}
