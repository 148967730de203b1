/**
 * Fidelity (issue 13): do pipeline runs print and show what the notebook does? The corpus is
 * scikit-learn's gallery (Debian's python-sklearn-doc) as notebooks, or the notebooks under folders
 * (`--notebooks`). Each example that runs offline in Jupyter is the reference (nbconvert twice,
 * stable cells only, cached in .cache/fidelity/; a notebook's code cells that raise are dropped
 * first, round by round), then runs with `cellflow run --no-cache` tagged two ways (a step per
 * code cell, a step per markdown section), comparing each cell's stdout and result (the
 * `text/plain` of its `execute_result`). A notebook runs, in Jupyter and as a pipeline, in a
 * private copy of its folder's tree, removed afterwards. `--taggings` picks other ways too:
 * `kale-cells` and `kale-sections`, tagged as a Kale user tags (`imports` and `functions` cells,
 * the rest `block:` per cell or per section; those two kinds of cell are not compared), and
 * `kale`, the notebook as its author tagged it (Kale's `block:`/`prev:`/`skip`... or Cellflow's
 * tags, unchanged, with `--cpu-only`; notebooks without such tags are not run so, and the cells the
 * tags leave out, `skip`, are not compared).
 * Run with `npm run bench:fidelity -- [options]` (builds first):
 *   --notebooks DIR      the corpus is every *.ipynb under DIR (not in .ipynb_checkpoints), named
 *                        DIR's base name / path under DIR (repeat: several folders); default: the
 *                        gallery
 *   --filter SUBSTR      examples whose name contains SUBSTR (repeat: any of them)
 *   --limit N            the first N kept examples (name order)
 *   --max-seconds S      only examples whose nbconvert run took at most S seconds
 *   --taggings T,T       the taggings to run, of per-cell, per-section, kale-cells,
 *                        kale-sections, kale (default per-cell,per-section)
 *   --jobs N             notebooks run side by side (default 2)
 *   --json PATH          per-example details
 *   --references-only    build the reference cache and stop
 *   --cellflow DIR       use the built CLI of another checkout (e.g. a `git archive` of main)
 * Last line: `fidelity: R/N runs succeed, C/M cells match` (all taggings run; a cell matches when
 * its stdout and its result do). Not a test.
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  ALL_TAGGINGS,
  exampleNotebook,
  GALLERY_DIR,
  hasPipelineTags,
  isTagging,
  listGalleryExamples,
  listNotebookExamples,
  TAGGINGS,
  type FidelityExample,
  type Tagging,
} from '../../test/support/fidelity-corpus.js';
import { cellflowCli, runPipeline } from '../../test/support/fidelity-pipeline.js';
import { pythonFingerprint, referenceFor } from '../../test/support/fidelity-reference.js';
import { formatCorpus, formatReport, isComparable, slowest, type ExampleResult } from './report.js';

const { values: options } = parseArgs({
  options: {
    notebooks: { type: 'string', multiple: true },
    filter: { type: 'string', multiple: true },
    limit: { type: 'string' },
    'max-seconds': { type: 'string' },
    taggings: { type: 'string', default: TAGGINGS.join(',') },
    jobs: { type: 'string', default: '2' },
    json: { type: 'string' },
    'references-only': { type: 'boolean', default: false },
    cellflow: { type: 'string' },
  },
});
const jobs = Math.max(1, Number(options.jobs));
const taggingNames = options.taggings.split(',').map((t) => t.trim());
const unknownTagging = taggingNames.find((t) => !isTagging(t));
if (unknownTagging !== undefined || taggingNames.length === 0) {
  console.error(`--taggings takes some of ${ALL_TAGGINGS.join(', ')}; got ${options.taggings}`);
  process.exit(2);
}
const taggings = ALL_TAGGINGS.filter((t) => taggingNames.includes(t));
const limit = options.limit === undefined ? Infinity : Number(options.limit);
const cli = cellflowCli(options.cellflow);
const maxMs =
  options['max-seconds'] === undefined ? Infinity : Number(options['max-seconds']) * 1000;

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;
const log = (line: string): void => void process.stderr.write(`${line}\n`);

/** Runs `task` over `items`, `jobs` at a time, in order of `items`, until `done()`. */
async function pool<T, R>(
  items: readonly T[],
  task: (item: T, index: number) => Promise<R>,
  done: () => boolean = () => false,
): Promise<(R | undefined)[]> {
  const results: (R | undefined)[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length && !done()) {
      const index = next++;
      results[index] = await task(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  return results;
}

const started = performance.now();
const folders = (options.notebooks ?? []).map((dir) => resolve(dir));
const found: FidelityExample[] =
  folders.length === 0 ? listGalleryExamples() : folders.flatMap(listNotebookExamples);
const corpusLabel = {
  found: found.length,
  label:
    folders.length === 0
      ? 'gallery examples'
      : `notebooks under ${folders.map((f) => basename(f)).join(', ')}`,
};
if (found.length === 0) {
  console.error(
    folders.length === 0
      ? `No gallery examples in ${GALLERY_DIR}: run scripts/setup-machine.sh (python-sklearn-doc).`
      : `No notebooks under ${folders.join(', ')}.`,
  );
  process.exit(2);
}
const filters = options.filter ?? [];
const examples = found.filter(
  (e) => filters.length === 0 || filters.some((f) => e.name.includes(f)),
);
log(
  `Fidelity corpus: ${examples.length} of ${found.length} examples, ${jobs} jobs, ` +
    `${availableParallelism()} cores, load ${loadavg()[0]!.toFixed(1)}; Python ${pythonFingerprint()}; ${cli}`,
);

// Phase 1: references (cached), until `limit` examples are kept.
let kept = 0;
let built = 0;
const referenceStarted = performance.now();
const references = await pool(
  examples,
  async (example, index) => {
    const reference = await referenceFor(example);
    if (!reference.cached) built++;
    const usable = isComparable(reference) && slowest(reference) <= maxMs;
    if (usable) kept++;
    if (!reference.cached || reference.status !== 'kept') {
      log(
        `[ref ${String(index + 1).padStart(3)}/${examples.length}] ${reference.status.padEnd(7)} ` +
          `${reference.runtimesMs.map(seconds).join('/').padEnd(11)} ${example.name}` +
          (reference.dropped?.length
            ? `  (${reference.dropped.length} raising cells dropped)`
            : '') +
          (reference.reason === undefined ? '' : `  ${reference.reason.slice(0, 80)}`) +
          (reference.cached ? ' (cached)' : ''),
      );
    }
    return reference;
  },
  () => kept >= limit,
);
const referenceMs = performance.now() - referenceStarted;
log(
  `References: ${built} built, ${references.filter(Boolean).length - built} cached, in ${seconds(referenceMs)}`,
);
const done = references.flatMap((r, i) =>
  r === undefined ? [] : [{ example: examples[i]!, reference: r }],
);
const corpus = done
  .filter((d) => isComparable(d.reference) && slowest(d.reference) <= maxMs)
  .slice(0, limit);
if (options['references-only']) {
  const results = done.map((d) => ({ example: d.example.name, reference: d.reference, runs: [] }));
  console.log(formatCorpus(results, corpusLabel));
  process.exit(0);
}

// Phase 2: each kept example as a pipeline, tagged each way (`kale`: only when it has tags).
const tagged = new Set(
  taggings.includes('kale')
    ? corpus.filter((c) => hasPipelineTags(exampleNotebook(c.example))).map((c) => c.example)
    : [],
);
const runsWith = (example: FidelityExample, tagging: Tagging): boolean =>
  tagging !== 'kale' || tagged.has(example);
const tasks = corpus.flatMap((c) =>
  taggings.filter((t) => runsWith(c.example, t)).map((tagging) => ({ ...c, tagging })),
);
let finished = 0;
const pipelineStarted = performance.now();
const outcomes = await pool(tasks, async ({ example, reference, tagging }) => {
  const outcome = await runPipeline(example, tagging, reference, { cli });
  finished++;
  const matched = outcome.cells.filter((c) => c.verdict === 'match').length;
  log(
    `[run ${String(finished).padStart(3)}/${tasks.length}] ${outcome.succeeded ? '✓' : '✗'} ${tagging.padEnd(11)} ` +
      `${`${matched}/${outcome.cells.length} cells`.padEnd(11)} ${seconds(outcome.ms).padStart(6)}  ${example.name}` +
      (outcome.failure === undefined ? '' : `  ${outcome.failure.kind}`),
  );
  return outcome;
});
const pipelineMs = performance.now() - pipelineStarted;

const results: ExampleResult[] = done.map(({ example, reference }) => ({
  example: example.name,
  reference,
  runs: tasks.flatMap((t, i) => (t.example === example && outcomes[i] ? [outcomes[i]] : [])),
}));
if (options.json !== undefined) {
  const details = { fingerprint: pythonFingerprint(), cli, results };
  writeFileSync(options.json, JSON.stringify(details, null, 1) + '\n');
  log(`Details: ${options.json}`);
}
console.log(
  `Timing: references ${seconds(referenceMs)} (${built} built), pipelines ${seconds(pipelineMs)} ` +
    `(${tasks.length} runs of ${corpus.length} examples, ${jobs} at a time), total ${seconds(performance.now() - started)}`,
);
console.log(formatReport(results, corpusLabel, taggings, corpus.length - tagged.size));
