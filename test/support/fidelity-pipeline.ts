/**
 * The fidelity corpus's pipeline side: runs a tagged example with the built `cellflow run` (as a
 * user would, in a fresh workspace, `--no-cache`; a notebook example in a private copy of its
 * folder), reads what each cell printed from the steps' result.json and the result it showed from
 * their cell-outputs.json, and compares them with the Jupyter reference (`fidelity-reference.ts`).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  cellsOutsideSteps,
  leavesCellsOutOfSteps,
  taggedExampleNotebook,
  type FidelityExample,
  type Tagging,
} from './fidelity-corpus.js';
import {
  fidelityEnv,
  PYTHON,
  resultText,
  writeWorkCopy,
  type Reference,
} from './fidelity-reference.js';
import { runManaged } from '../cluster/processes.js';
import { makeTempDir, removeTempDir } from './temp-dirs.js';

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
 * `match` is exact; the others are not matches: `trailing-whitespace`, `line-endings` (`\n` where
 * Jupyter has `\r\n`, as a shell command run through a terminal prints), `ipython-doc` (the cell
 * printed or showed `__doc__`, which IPython sets to a banner and a step's module leaves `None`)
 * and `timing` (only durations such as `total time=   0.1s` differ: the two reference runs agreed
 * by chance) are the systematic differences worth counting apart, `missing` means no step ran the
 * cell, `no-result` that it showed no result where Jupyter showed one, `extra-result` the opposite.
 * A cell's verdict is its stdout's, or its result's when its stdout matches.
 */
export type CellVerdict =
  | 'match'
  | 'differs'
  | 'trailing-whitespace'
  | 'line-endings'
  | 'ipython-doc'
  | 'timing'
  | 'no-result'
  | 'extra-result'
  | 'missing';

const IPYTHON_DOC = 'Automatically created module for IPython interactive environment';

function verdictOf(expected: string | null, actual: string | null | undefined): CellVerdict {
  if (actual === undefined) return 'missing';
  if (actual === expected) return 'match';
  if (expected === null) return 'extra-result';
  if (actual === null) return expected === `'${IPYTHON_DOC}'` ? 'ipython-doc' : 'no-result';
  if (actual === expected.replaceAll('\r\n', '\n')) return 'line-endings';
  if (actual.trimEnd() === expected.trimEnd()) return 'trailing-whitespace';
  if (expected.includes(IPYTHON_DOC) && actual === expected.replaceAll(IPYTHON_DOC, 'None')) {
    return 'ipython-doc';
  }
  const withoutDurations = (text: string): string =>
    text.replace(/\d+(\.\d+)?(?=\s*(s|ms|sec|seconds)\b)/g, 'N');
  if (withoutDurations(actual) === withoutDurations(expected)) return 'timing';
  return 'differs';
}

/** One of a cell's outputs compared: its stdout, or its result (null: none shown). */
export interface OutputComparison {
  readonly verdict: CellVerdict;
  readonly expected: string | null;
  /** What the pipeline printed or showed (absent when no step ran the cell). */
  readonly actual?: string | null;
}

export interface CellComparison {
  readonly cell: number;
  /** `match` when every output compared matches, else the first that does not match's verdict. */
  readonly verdict: CellVerdict;
  /** Absent when the cell's stdout is unstable in Jupyter. */
  readonly stdout?: OutputComparison;
  /** Absent when the cell's result is unstable in Jupyter or the reference predates results. */
  readonly result?: OutputComparison;
}

export interface PipelineOutcome {
  readonly tagging: Tagging;
  readonly succeeded: boolean;
  readonly exitCode: number | null;
  readonly ms: number;
  readonly failure?: RunFailure;
  readonly cells: readonly CellComparison[];
  /**
   * Code cells the notebook's own tags leave out of the pipeline (`kale`: `skip` cells), by index;
   * not compared. (`imports`, `functions` and `pipeline-parameters` cells that steps only run as
   * units are compared as printing and showing nothing.)
   */
  readonly leftOut?: readonly number[];
}

interface StepResult {
  step: string;
  status: string;
  cells?: { cell: number; stdout: string; stderr: string }[];
  error?: { kind: string; type?: string; message: string; cell?: number | null };
}

interface StepCellOutputs {
  cells?: { cell: number; outputs: Parameters<typeof resultText>[0] }[];
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

function compared(expected: string | null, actual: string | null | undefined): OutputComparison {
  const verdict = verdictOf(expected, actual);
  return actual === undefined ? { verdict, expected } : { verdict, expected, actual };
}

/** A cell's outputs that do not match, stdout first. */
export function differences(
  comparison: CellComparison,
): (OutputComparison & { part: 'stdout' | 'result' })[] {
  return (['stdout', 'result'] as const).flatMap((part) => {
    const c = comparison[part];
    return c === undefined || c.verdict === 'match' ? [] : [{ ...c, part }];
  });
}

/**
 * Compares what each reference cell printed and showed with what the pipeline's steps recorded:
 * `printed` has every cell a step ran (what it printed, maybe nothing), `shown` the results; the
 * cells in `leftOut` are not compared.
 */
export function compareCells(
  reference: Reference,
  printed: ReadonlyMap<number, string>,
  shown: ReadonlyMap<number, string> = new Map(),
  leftOut: ReadonlySet<number> = new Set(),
): CellComparison[] {
  const results = reference.results ?? {};
  const indices = new Set([...Object.keys(reference.cells), ...Object.keys(results)].map(Number));
  return [...indices]
    .filter((cell) => !leftOut.has(cell))
    .sort((a, b) => a - b)
    .map((cell) => {
      const ran = printed.has(cell);
      const expectedStdout = reference.cells[cell];
      const expectedResult = results[cell];
      const stdout =
        expectedStdout === undefined ? undefined : compared(expectedStdout, printed.get(cell));
      const result =
        expectedResult === undefined
          ? undefined
          : compared(expectedResult, ran ? (shown.get(cell) ?? null) : undefined);
      const verdict = [stdout, result].find(
        (c) => c !== undefined && c.verdict !== 'match',
      )?.verdict;
      return {
        cell,
        verdict: verdict ?? 'match',
        ...(stdout === undefined ? {} : { stdout }),
        ...(result === undefined ? {} : { result }),
      };
    });
}

/** Runs the example tagged one way as a pipeline and compares its cells with the reference. */
export async function runPipeline(
  example: FidelityExample,
  tagging: Tagging,
  reference: Reference,
  options: { timeoutMs?: number; cli?: string } = {},
): Promise<PipelineOutcome> {
  const slowest = Math.max(0, ...reference.runtimesMs);
  const timeoutMs = options.timeoutMs ?? Math.max(120_000, 5 * slowest);
  const workspace = makeTempDir('cellflow-fidelity-run-');
  try {
    const tagged = taggedExampleNotebook(example, tagging, reference.dropped);
    const { leftOut, asUnits } = leavesCellsOutOfSteps(tagging)
      ? cellsOutsideSteps(tagged)
      : { leftOut: [], asUnits: [] };
    const notebook = writeWorkCopy(example, tagged, workspace);
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
        // The author's `gpu:` or `limit:nvidia.com/gpu:N` tags: this machine runs them on CPU.
        ...(tagging === 'kale' ? ['--cpu-only'] : []),
      ],
      {
        cwd: workspace,
        env: fidelityEnv(),
        logFile: join(workspace, 'cellflow-run.log'),
        timeoutMs,
      },
    );
    const printed = new Map<number, string>();
    const shown = new Map<number, string>();
    let failure: RunFailure | undefined;
    const runsDir = join(workspace, '.cellflow', 'runs');
    const runId = existsSync(runsDir) ? readdirSync(runsDir)[0] : undefined;
    const record =
      runId === undefined ? undefined : readJson<RunRecord>(join(runsDir, runId, 'run.json'));
    for (const step of record?.steps ?? []) {
      const result = readJson<StepResult>(join(runsDir, runId!, 'steps', step.name, 'result.json'));
      for (const c of result?.cells ?? [])
        printed.set(c.cell, (printed.get(c.cell) ?? '') + c.stdout);
      const outputs = readJson<StepCellOutputs>(
        join(runsDir, runId!, 'steps', step.name, 'cell-outputs.json'),
      );
      for (const c of outputs?.cells ?? []) {
        const text = resultText(c.outputs);
        if (text !== undefined) shown.set(c.cell, text);
      }
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
    // Cells steps run as units print nothing a step records: compared as printing nothing.
    if (run.code === 0) for (const cell of asUnits) if (!printed.has(cell)) printed.set(cell, '');
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
      cells: compareCells(reference, printed, shown, new Set(leftOut)),
      ...(leftOut.length === 0 ? {} : { leftOut }),
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
