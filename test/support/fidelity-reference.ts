/**
 * The fidelity corpus's reference: what each code cell prints (its stream stdout) and shows as its
 * result (the `text/plain` of its `execute_result`) when Jupyter runs the example's notebook top to
 * bottom (`nbconvert --execute`), twice; a cell's stdout or result that differs between the two runs
 * is left out. A notebook example first runs with errors allowed, its code cells that raised are
 * dropped, and again until no cell raises (teaching notebooks raise on purpose; some need the
 * internet). Every run is in a private copy of the notebook's folder. References are cached under
 * `.cache/fidelity/` (gitignored), keyed by the example's source, this converter and the Python
 * packages' versions.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CONVERTER_VERSION,
  exampleNotebook,
  exampleSlug,
  isNotebookExample,
  SKIPPED_FOLDERS,
  withoutCells,
  type FidelityExample,
  type Notebook,
} from './fidelity-corpus.js';
import { runManaged } from '../cluster/processes.js';
import { PYTHON } from './paths.js';
import { makeTempDir, removeTempDir } from './temp-dirs.js';

export { PYTHON };
/** A cell (nbconvert's timeout) or notebook (plus 15 s for start-up) slower than this is left out. */
export const REFERENCE_TIMEOUT_MS = 60_000;
/** A notebook example's run (a gallery example's is `REFERENCE_TIMEOUT_MS`) slower than this is left out. */
export const NOTEBOOK_TIMEOUT_MS = 300_000;
/** Runs with errors allowed, each dropping the cells that raised, before a notebook is given up. */
export const ERROR_ROUNDS = 4;
/** Bump when notebook examples' references are made differently, so they are rebuilt. */
const NOTEBOOK_REFERENCE_VERSION = 2;
export const REFERENCE_CACHE_DIR = resolve(
  fileURLToPath(import.meta.url),
  '../../../.cache/fidelity/references',
);

/**
 * The environment of both the reference runs and the pipeline runs: one BLAS thread (results do
 * not depend on how many notebooks run side by side), a fixed hash seed. Matplotlib's backend is
 * left to each side, as on a user's machine: a Jupyter kernel takes the inline backend, which
 * closes each cell's figures, and a step its headless one (set from outside, `MPLBACKEND=Agg`
 * would keep figures open across a kernel's cells, as no user's Jupyter does).
 */
export function fidelityEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OMP_NUM_THREADS: '1',
    OPENBLAS_NUM_THREADS: '1',
    MKL_NUM_THREADS: '1',
    PYTHONHASHSEED: '0',
    PYDEVD_DISABLE_FILE_VALIDATION: '1',
  };
  delete env.MPLBACKEND;
  return env;
}

let fingerprint: string | undefined;

/** Python's and the scientific packages' versions, which the reference outputs depend on. */
export function pythonFingerprint(): string {
  fingerprint ??= execFileSync(
    PYTHON,
    [
      '-c',
      [
        'import sys, importlib.metadata as m',
        'names = ["numpy", "scipy", "scikit-learn", "matplotlib", "pandas", "joblib", "ipykernel", "nbconvert"]',
        'def v(n):',
        '    try: return m.version(n)',
        '    except Exception: return "-"',
        'print(sys.version.split()[0], *(n + "=" + v(n) for n in names))',
      ].join('\n'),
    ],
    { encoding: 'utf8' },
  ).trim();
  return fingerprint;
}

export type ReferenceStatus = 'kept' | 'failed' | 'timeout';

export interface Reference {
  readonly example: string;
  readonly key: string;
  readonly status: ReferenceStatus;
  /** Why a dropped example failed: the Python exception line nbconvert reported. */
  readonly reason?: string;
  /** Wall time of each nbconvert run (one when the first failed) on the notebook kept. */
  readonly runtimesMs: readonly number[];
  /** Stable stdout of each code cell, by notebook cell index. */
  readonly cells: Readonly<Record<string, string>>;
  /** Code cells whose stdout differed between the two runs. */
  readonly unstable: readonly number[];
  /**
   * Stable result of each code cell (the `text/plain` of its `execute_result`; null: it shows none),
   * by notebook cell index. Absent from references cached before results were compared.
   */
  readonly results?: Readonly<Record<string, string | null>>;
  /** Code cells whose result differed between the two runs. */
  readonly unstableResults?: readonly number[];
  /**
   * A notebook example's code cells that raised in Jupyter and were left out, as indices in the
   * notebook as found; the indices above are those of the notebook without them.
   */
  readonly dropped?: readonly number[];
  /** What each dropped cell raised (`ename: evalue`), by its index in the notebook as found. */
  readonly raised?: Readonly<Record<string, string>>;
  /** Runs with errors allowed that found cells to drop. */
  readonly errorRounds?: number;
}

/**
 * How a cell's result is read (2: every execute_result of it, see `resultText`; 3: with the
 * kernel's own matplotlib backend, see `fidelityEnv`).
 */
const RESULTS_VERSION = 3;

function referenceKey(example: FidelityExample): string {
  const inputs = isNotebookExample(example)
    ? [
        'notebook',
        RESULTS_VERSION,
        NOTEBOOK_REFERENCE_VERSION,
        REFERENCE_TIMEOUT_MS,
        NOTEBOOK_TIMEOUT_MS,
        ERROR_ROUNDS,
        pythonFingerprint(),
        example.source,
      ]
    : [
        CONVERTER_VERSION,
        RESULTS_VERSION,
        REFERENCE_TIMEOUT_MS,
        pythonFingerprint(),
        example.source,
      ];
  return createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, 16);
}

interface ExecutedCell {
  cell_type: string;
  outputs?: {
    output_type: string;
    name?: string;
    text?: string | string[];
    data?: Record<string, string | string[]>;
    ename?: string;
    evalue?: string;
  }[];
}

const joined = (text: string | string[] | undefined): string =>
  Array.isArray(text) ? text.join('') : (text ?? '');

/** Each code cell's stdout (its `stream` outputs named `stdout`, joined), by cell index. */
export function stdoutByCell(executed: { cells: ExecutedCell[] }): Map<number, string> {
  const byCell = new Map<number, string>();
  executed.cells.forEach((cell, index) => {
    if (cell.cell_type !== 'code') return;
    const text = (cell.outputs ?? [])
      .filter((o) => o.output_type === 'stream' && o.name === 'stdout')
      .map((o) => joined(o.text))
      .join('');
    byCell.set(index, text);
  });
  return byCell;
}

/** A cell's result as text: the `text/plain` of its `execute_result`, if it has one. */
export function resultText(outputs: ExecutedCell['outputs']): string | undefined {
  // One result, but every statement's with IPython's `ast_node_interactivity = "all"`.
  const results = (outputs ?? []).filter((o) => o.output_type === 'execute_result');
  return results.length === 0
    ? undefined
    : results.map((r) => joined(r.data?.['text/plain'])).join('\n');
}

/** Each code cell's result as text, by cell index. */
export function resultsByCell(executed: { cells: ExecutedCell[] }): Map<number, string> {
  const byCell = new Map<number, string>();
  executed.cells.forEach((cell, index) => {
    const text = cell.cell_type === 'code' ? resultText(cell.outputs) : undefined;
    if (text !== undefined) byCell.set(index, text);
  });
  return byCell;
}

/**
 * Code cells that raised: cell index -> `ename: evalue` (clipped). An error output, or IPython's
 * usage error (an unknown magic), which the kernel reports as an error but shows only on stderr.
 */
export function raisingCells(executed: { cells: ExecutedCell[] }): Map<number, string> {
  const raised = new Map<number, string>();
  executed.cells.forEach((cell, index) => {
    if (cell.cell_type !== 'code') return;
    const outputs = cell.outputs ?? [];
    const error = outputs.find((o) => o.output_type === 'error');
    const usage = outputs
      .filter((o) => o.output_type === 'stream' && o.name === 'stderr')
      .map((o) => /^UsageError: .*/m.exec(joined(o.text))?.[0])
      .find((line) => line !== undefined);
    const text = error === undefined ? usage : `${error.ename ?? ''}: ${error.evalue ?? ''}`;
    if (text !== undefined) raised.set(index, text.slice(0, 160));
  });
  return raised;
}

interface NbconvertRun {
  readonly code: number | null;
  readonly output: string;
  readonly timedOut: boolean;
  readonly ms: number;
}

/**
 * Writes `notebook` where the example runs, in the scratch folder `dir`, and returns its path: a
 * gallery example's beside nothing, a notebook example's in a copy of its folder's tree (without
 * other notebooks, `.ipynb_checkpoints` and `.git`), so that it reads its data files where it
 * expects them and what it writes stays in the copy.
 */
export function writeWorkCopy(example: FidelityExample, notebook: Notebook, dir: string): string {
  let path = join(dir, `${exampleSlug(example.name)}.ipynb`);
  if (isNotebookExample(example)) {
    const folder = join(dir, basename(example.folder));
    cpSync(example.folder, folder, {
      recursive: true,
      filter: (source) =>
        source === example.folder ||
        !(SKIPPED_FOLDERS.has(basename(source)) || source.endsWith('.ipynb')),
    });
    path = join(folder, basename(example.path));
  }
  writeFileSync(path, JSON.stringify(notebook, null, 1));
  return path;
}

/** The last Python exception line of a failed nbconvert run (`URLError: <urlopen error ...>`). */
function failureReason(run: NbconvertRun, timeoutMs: number): string {
  if (run.timedOut) return `timed out after ${timeoutMs / 1000}s`;
  // eslint-disable-next-line no-control-regex
  const lines = run.output.replace(/\x1b\[[0-9;]*m/g, '').split('\n');
  const errors = lines.filter((l) =>
    /^[A-Za-z_.]*(Error|Exception|Interrupt)\b.*:?/.test(l.trim()),
  );
  const last = errors.at(-1) ?? lines.filter((l) => l.trim() !== '').at(-1) ?? '';
  return last.trim().slice(0, 300);
}

/**
 * Runs a notebook top to bottom in Jupyter (`nbconvert --execute`, output beside it as
 * `NOTEBOOK.out.ipynb`, log in `work`); `stdout` is each code cell's printed output, `results` its
 * result, `raised` the cells that raised (with `allowErrors`), all absent when the run failed.
 */
export async function nbconvert(
  notebookPath: string,
  work: string,
  attempt: number,
  options: { allowErrors?: boolean; timeoutMs?: number } = {},
): Promise<{
  run: NbconvertRun;
  stdout?: Map<number, string>;
  results?: Map<number, string>;
  raised?: Map<number, string>;
}> {
  const out = `${notebookPath}.out.ipynb`;
  rmSync(out, { force: true });
  const run = await runManaged(
    'nbconvert',
    PYTHON,
    [
      '-m',
      'nbconvert',
      '--to',
      'notebook',
      '--execute',
      `--ExecutePreprocessor.timeout=${REFERENCE_TIMEOUT_MS / 1000}`,
      ...(options.allowErrors === true ? ['--allow-errors'] : []),
      '--output',
      out,
      notebookPath,
    ],
    {
      cwd: work,
      env: fidelityEnv(),
      logFile: join(work, `nbconvert-${attempt}.log`),
      timeoutMs: options.timeoutMs ?? REFERENCE_TIMEOUT_MS + 15_000,
    },
  );
  if (run.code !== 0 || run.timedOut) return { run };
  const executed = JSON.parse(readFileSync(out, 'utf8')) as { cells: ExecutedCell[] };
  return {
    run,
    stdout: stdoutByCell(executed),
    results: resultsByCell(executed),
    raised: raisingCells(executed),
  };
}

function readCached(cacheFile: string, key: string): Reference | undefined {
  try {
    const cached = JSON.parse(readFileSync(cacheFile, 'utf8')) as Reference;
    return cached.key === key ? cached : undefined;
  } catch {
    return undefined;
  }
}

/** Takes `lockFile` for this process; a lock left by a process that is gone is taken over. */
function takeLock(lockFile: string): boolean {
  try {
    writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
    return true;
  } catch {
    let holder = NaN;
    let age = 0;
    try {
      holder = Number(readFileSync(lockFile, 'utf8'));
      age = Date.now() - statSync(lockFile).mtimeMs;
    } catch {
      return false; // released meanwhile: try again on the next round
    }
    let alive = Number.isInteger(holder) && holder > 0;
    if (alive) {
      try {
        process.kill(holder, 0);
      } catch {
        alive = false;
      }
    } else alive = age < 10_000; // being written
    if (alive) return false;
    rmSync(lockFile, { force: true });
    return takeLock(lockFile);
  }
}

/**
 * The example's reference: from the cache, else run in Jupyter twice (one process at a time per
 * example, others sharing the cache wait for it) keeping the cells that print the same both times.
 */
export async function referenceFor(
  example: FidelityExample,
  cacheDir: string = REFERENCE_CACHE_DIR,
): Promise<Reference & { cached: boolean }> {
  const key = referenceKey(example);
  const cacheFile = join(cacheDir, `${exampleSlug(example.name)}.json`);
  const lockFile = `${cacheFile}.lock`;
  mkdirSync(cacheDir, { recursive: true });
  for (;;) {
    const cached = readCached(cacheFile, key);
    if (cached !== undefined) return { ...cached, cached: true };
    if (takeLock(lockFile)) break;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
  try {
    const reference = await buildReference(example, key);
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(reference, null, 1) + '\n');
    renameSync(tmp, cacheFile);
    return { ...reference, cached: false };
  } finally {
    rmSync(lockFile, { force: true });
  }
}

type Executed = Awaited<ReturnType<typeof nbconvert>>;

/** One nbconvert run of `notebook` in a fresh private copy, removed afterwards. */
async function runInCopy(
  example: FidelityExample,
  notebook: Notebook,
  attempt: number,
  allowErrors: boolean,
): Promise<Executed> {
  const work = makeTempDir('cellflow-fidelity-ref-');
  try {
    const timeoutMs = isNotebookExample(example)
      ? NOTEBOOK_TIMEOUT_MS
      : REFERENCE_TIMEOUT_MS + 15_000;
    return await nbconvert(writeWorkCopy(example, notebook, work), work, attempt, {
      allowErrors,
      timeoutMs,
    });
  } finally {
    removeTempDir(work);
  }
}

async function buildReference(example: FidelityExample, key: string): Promise<Reference> {
  const timeoutMs = isNotebookExample(example) ? NOTEBOOK_TIMEOUT_MS : REFERENCE_TIMEOUT_MS;
  const original = exampleNotebook(example);
  // A notebook example: drop the code cells that raise until a run raises nowhere.
  let notebook = original;
  let first: Executed | undefined;
  let errorRounds = 0;
  const dropped: number[] = [];
  const raised: Record<string, string> = {};
  let positions = original.cells.map((_, i) => i); // index in `notebook` -> index in `original`
  const extra = (): Partial<Reference> =>
    isNotebookExample(example)
      ? { dropped: [...dropped].sort((a, b) => a - b), raised, errorRounds }
      : {};
  const failed = (status: ReferenceStatus, reason: string, runtimesMs: number[]): Reference => ({
    example: example.name,
    key,
    status,
    reason,
    runtimesMs,
    cells: {},
    unstable: [],
    ...extra(),
  });
  if (isNotebookExample(example)) {
    for (let round = 1; round <= ERROR_ROUNDS + 1; round++) {
      const run = await runInCopy(example, notebook, round, true);
      if (run.raised === undefined || run.raised.size === 0) {
        first = run;
        break;
      }
      if (round > ERROR_ROUNDS) {
        const reason = `cells still raise after ${ERROR_ROUNDS} rounds of dropping them`;
        return failed('failed', reason, [run.run.ms]);
      }
      errorRounds++;
      for (const [i, error] of run.raised) {
        dropped.push(positions[i]!);
        raised[positions[i]!] = error;
      }
      notebook = withoutCells(notebook, [...run.raised.keys()]);
      positions = positions.filter((_, i) => !run.raised!.has(i));
    }
  } else first = await runInCopy(example, notebook, 1, false);

  const second =
    first?.stdout === undefined
      ? undefined
      : await runInCopy(example, notebook, errorRounds + 2, false);
  const runtimesMs = [first!.run.ms, ...(second === undefined ? [] : [second.run.ms])];
  const bad =
    first!.stdout === undefined ? first! : second?.stdout === undefined ? second : undefined;
  if (bad !== undefined) {
    const timedOut = bad.run.timedOut || bad.run.output.includes('CellTimeoutError');
    return failed(timedOut ? 'timeout' : 'failed', failureReason(bad.run, timeoutMs), runtimesMs);
  }
  const cells: Record<string, string> = {};
  const unstable: number[] = [];
  const results: Record<string, string | null> = {};
  const unstableResults: number[] = [];
  for (const [index, text] of first!.stdout!) {
    if (second!.stdout!.get(index) === text) cells[index] = text;
    else unstable.push(index);
    const result = first!.results!.get(index) ?? null;
    if ((second!.results!.get(index) ?? null) === result) results[index] = result;
    else unstableResults.push(index);
  }
  return {
    example: example.name,
    key,
    status: 'kept',
    runtimesMs,
    cells,
    unstable,
    results,
    unstableResults,
    ...extra(),
  };
}
