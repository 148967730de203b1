/**
 * The fidelity corpus's pipeline side: runs a tagged example with the built `cellflow run` (as a
 * user would, in a fresh workspace, `--no-cache`), reads what each cell printed from the steps'
 * result.json, and compares it with the Jupyter reference (`fidelity-reference.ts`).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  exampleSlug,
  galleryNotebook,
  tagNotebook,
  type GalleryExample,
  type Tagging,
} from './fidelity-corpus.js';
import {
  fidelityEnv,
  makeTempDir,
  PYTHON,
  removeTempDir,
  type Reference,
} from './fidelity-reference.js';
import { runManaged } from '../cluster/processes.js';

const repoRoot = resolve(fileURLToPath(import.meta.url), '../../..');

/** The built `cellflow` command of a checkout (this one unless told), as a user runs it. */
export function cellflowCli(checkout: string = repoRoot): string {
  return resolve(checkout, 'packages/cli/bin/cellflow.js');
}

/** Why a run did not succeed: the first failed step's error, the compile refusal, or a timeout. */
export interface RunFailure {
  /** `exception:NameError`, `unpicklable`, `diagnostic`, `timeout`, `crashed`, ... */
  readonly kind: string;
  readonly message: string;
  readonly step?: string;
  readonly cell?: number | null;
  /** Codes of the error diagnostics of a refused compile. */
  readonly codes?: readonly string[];
}

/**
 * `match` is exact; the others are not matches: `trailing-whitespace`, `ipython-doc` (the cell
 * printed `__doc__`, which IPython sets to a banner and a step's module leaves `None`) and `timing`
 * (only durations such as `total time=   0.1s` differ: the two reference runs agreed by chance)
 * are the systematic differences worth counting apart, `missing` means no step ran the cell.
 */
export type CellVerdict =
  'match' | 'differs' | 'trailing-whitespace' | 'ipython-doc' | 'timing' | 'missing';

const IPYTHON_DOC = 'Automatically created module for IPython interactive environment';

function verdictOf(expected: string, actual: string | undefined): CellVerdict {
  if (actual === undefined) return 'missing';
  if (actual === expected) return 'match';
  if (actual.trimEnd() === expected.trimEnd()) return 'trailing-whitespace';
  if (expected.includes(IPYTHON_DOC) && actual === expected.replaceAll(IPYTHON_DOC, 'None')) {
    return 'ipython-doc';
  }
  const withoutDurations = (text: string): string =>
    text.replace(/\d+(\.\d+)?(?=\s*(s|ms|sec|seconds)\b)/g, 'N');
  if (withoutDurations(actual) === withoutDurations(expected)) return 'timing';
  return 'differs';
}

export interface CellComparison {
  readonly cell: number;
  readonly verdict: CellVerdict;
  readonly expected: string;
  /** What the pipeline printed (absent when no step ran the cell to its end or at all). */
  readonly actual?: string;
}

export interface PipelineOutcome {
  readonly tagging: Tagging;
  readonly succeeded: boolean;
  readonly exitCode: number | null;
  readonly ms: number;
  readonly failure?: RunFailure;
  readonly cells: readonly CellComparison[];
}

interface StepResult {
  step: string;
  status: string;
  cells?: { cell: number; stdout: string; stderr: string }[];
  error?: { kind: string; type?: string; message: string; cell?: number | null };
}

interface RunRecord {
  steps: {
    name: string;
    state: string;
    failure?: { kind: string; message: string; cell?: number | null };
  }[];
}

/** `file: cell 3, line 2: error [code] message` lines of a refused run. */
function refusal(output: string): RunFailure | undefined {
  const errors = [...output.matchAll(/: error \[([^\]]+)\] (.*)$/gm)];
  if (errors.length === 0) return undefined;
  return {
    kind: 'diagnostic',
    codes: [...new Set(errors.map((m) => m[1]!))],
    message: errors[0]![2]!,
  };
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Compares what each reference cell printed with what the pipeline's steps recorded. */
export function compareCells(
  reference: Reference,
  printed: ReadonlyMap<number, string>,
): CellComparison[] {
  return Object.entries(reference.cells)
    .map(([index, expected]) => {
      const cell = Number(index);
      const actual = printed.get(cell);
      const verdict = verdictOf(expected, actual);
      return actual === undefined
        ? { cell, verdict, expected }
        : { cell, verdict, expected, actual };
    })
    .sort((a, b) => a.cell - b.cell);
}

/** Runs the example tagged one way as a pipeline and compares its cells with the reference. */
export async function runPipeline(
  example: GalleryExample,
  tagging: Tagging,
  reference: Reference,
  options: { timeoutMs?: number; cli?: string } = {},
): Promise<PipelineOutcome> {
  const slowest = Math.max(0, ...reference.runtimesMs);
  const timeoutMs = options.timeoutMs ?? Math.max(120_000, 5 * slowest);
  const workspace = makeTempDir('cellflow-fidelity-run-');
  try {
    const notebook = join(workspace, `${exampleSlug(example.name)}.ipynb`);
    writeFileSync(notebook, JSON.stringify(tagNotebook(galleryNotebook(example.source), tagging)));
    const run = await runManaged(
      'cellflow run',
      process.execPath,
      [
        options.cli ?? cellflowCli(),
        'run',
        notebook,
        '--python',
        PYTHON,
        '--no-cache',
        '--workspace',
        workspace,
      ],
      {
        cwd: workspace,
        env: fidelityEnv(),
        logFile: join(workspace, 'cellflow-run.log'),
        timeoutMs,
      },
    );
    const printed = new Map<number, string>();
    let failure: RunFailure | undefined;
    const runsDir = join(workspace, '.cellflow', 'runs');
    const runId = existsSync(runsDir) ? readdirSync(runsDir)[0] : undefined;
    const record =
      runId === undefined ? undefined : readJson<RunRecord>(join(runsDir, runId, 'run.json'));
    for (const step of record?.steps ?? []) {
      const result = readJson<StepResult>(join(runsDir, runId!, 'steps', step.name, 'result.json'));
      for (const c of result?.cells ?? [])
        printed.set(c.cell, (printed.get(c.cell) ?? '') + c.stdout);
      if (failure !== undefined || step.state !== 'failed') continue;
      const error = result?.error ?? step.failure;
      if (error === undefined) continue;
      const type = result?.error?.type;
      failure = {
        kind: type === undefined ? error.kind : `${error.kind}:${type}`,
        message: error.message,
        step: step.name,
        cell: error.cell ?? null,
      };
    }
    if (run.timedOut) {
      failure = { kind: 'timeout', message: `cellflow run timed out after ${timeoutMs / 1000}s` };
    } else if (run.code !== 0 && failure === undefined) {
      failure = refusal(run.output) ?? {
        kind: 'cli',
        message: run.output.trim().split('\n').slice(-3).join(' | '),
      };
    }
    const succeeded = run.code === 0 && !run.timedOut;
    return {
      tagging,
      succeeded,
      exitCode: run.code,
      ms: run.ms,
      ...(succeeded || failure === undefined ? {} : { failure }),
      cells: compareCells(reference, printed),
    };
  } finally {
    removeTempDir(workspace);
  }
}

/**
 * A failure's message with its particulars (names, numbers, step and cell) blanked and any `Fix:`
 * advice dropped, so failures with one cause group together.
 */
export function normalizeFailureMessage(message: string): string {
  return message
    .replace(/\s*Fix:.*$/s, '')
    .replace(/`[^`]*`/g, '`…`')
    .replace(/cannot pickle '([^']*)'/g, 'cannot pickle «$1»')
    .replace(/'[^'\n]*'/g, "'…'")
    .replace(/"[^"\n]*"/g, '"…"')
    .replace(/«([^»]*)»/g, "'$1'")
    .replace(/\b\d+(\.\d+)?\b/g, 'N')
    .replace(/\s+/g, ' ')
    .trim();
}
