/**
 * The fidelity corpus's reference: what each code cell prints (its stream stdout) when Jupyter runs
 * the example's notebook top to bottom (`nbconvert --execute`), twice; cells that print something
 * different in the two runs are left out. Results are cached under `.cache/fidelity/` (gitignored),
 * keyed by the example's source, this converter and the Python packages' versions.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CONVERTER_VERSION,
  exampleSlug,
  galleryNotebook,
  type GalleryExample,
} from './fidelity-corpus.js';
import { runManaged } from '../cluster/processes.js';
import { PYTHON } from './paths.js';

export { PYTHON };
/** A cell (nbconvert's timeout) or notebook (plus 15 s for start-up) slower than this is left out. */
export const REFERENCE_TIMEOUT_MS = 60_000;
export const REFERENCE_CACHE_DIR = resolve(
  fileURLToPath(import.meta.url),
  '../../../.cache/fidelity/references',
);

/**
 * The environment of both the reference runs and the pipeline runs: headless matplotlib, one BLAS
 * thread (results do not depend on how many notebooks run side by side), a fixed hash seed.
 */
export function fidelityEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    MPLBACKEND: 'Agg',
    OMP_NUM_THREADS: '1',
    OPENBLAS_NUM_THREADS: '1',
    MKL_NUM_THREADS: '1',
    PYTHONHASHSEED: '0',
    PYDEVD_DISABLE_FILE_VALIDATION: '1',
  };
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
  /** Wall time of each nbconvert run (one when the first failed). */
  readonly runtimesMs: readonly number[];
  /** Stable stdout of each code cell, by notebook cell index. */
  readonly cells: Readonly<Record<string, string>>;
  /** Code cells whose stdout differed between the two runs. */
  readonly unstable: readonly number[];
}

function referenceKey(example: GalleryExample): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        CONVERTER_VERSION,
        REFERENCE_TIMEOUT_MS,
        pythonFingerprint(),
        example.source,
      ]),
    )
    .digest('hex')
    .slice(0, 16);
}

interface ExecutedCell {
  cell_type: string;
  outputs?: {
    output_type: string;
    name?: string;
    text?: string | string[];
    data?: Record<string, string | string[]>;
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
  const result = (outputs ?? []).find((o) => o.output_type === 'execute_result');
  return result && joined(result.data?.['text/plain']);
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

/** The last Python exception line of a failed nbconvert run (`URLError: <urlopen error ...>`). */
interface NbconvertRun {
  readonly code: number | null;
  readonly output: string;
  readonly timedOut: boolean;
  readonly ms: number;
}

const tempDirs = new Set<string>();

/** A temporary folder, removed by `removeTempDir` or, at the latest, when this process exits. */
export function makeTempDir(prefix: string): string {
  if (tempDirs.size === 0) process.on('exit', () => tempDirs.forEach((d) => removeTempDir(d)));
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

function failureReason(run: NbconvertRun): string {
  if (run.timedOut) return `timed out after ${REFERENCE_TIMEOUT_MS / 1000}s`;
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
 * `NOTEBOOK.out.ipynb`); `stdout` is each code cell's printed output, absent when the run failed.
 */
export async function nbconvert(
  notebookPath: string,
  work: string,
  attempt: number,
): Promise<{ run: NbconvertRun; stdout?: Map<number, string>; results?: Map<number, string> }> {
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
      '--output',
      out,
      notebookPath,
    ],
    {
      cwd: work,
      env: fidelityEnv(),
      logFile: join(work, `nbconvert-${attempt}.log`),
      timeoutMs: REFERENCE_TIMEOUT_MS + 15_000,
    },
  );
  if (run.code !== 0 || run.timedOut) return { run };
  const executed = JSON.parse(readFileSync(out, 'utf8')) as { cells: ExecutedCell[] };
  return { run, stdout: stdoutByCell(executed), results: resultsByCell(executed) };
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
  example: GalleryExample,
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

async function buildReference(example: GalleryExample, key: string): Promise<Reference> {
  const work = makeTempDir('cellflow-fidelity-ref-');
  try {
    const notebookPath = join(work, `${exampleSlug(example.name)}.ipynb`);
    writeFileSync(notebookPath, JSON.stringify(galleryNotebook(example.source), null, 1));
    const first = await nbconvert(notebookPath, work, 1);
    const second = first.stdout === undefined ? undefined : await nbconvert(notebookPath, work, 2);
    const failed =
      first.stdout === undefined ? first : second?.stdout === undefined ? second : undefined;
    const runtimesMs = [first.run.ms, ...(second === undefined ? [] : [second.run.ms])];
    if (failed !== undefined) {
      return {
        example: example.name,
        key,
        status:
          failed.run.timedOut || failed.run.output.includes('CellTimeoutError')
            ? 'timeout'
            : 'failed',
        reason: failureReason(failed.run),
        runtimesMs,
        cells: {},
        unstable: [],
      };
    }
    const cells: Record<string, string> = {};
    const unstable: number[] = [];
    for (const [index, text] of first.stdout!) {
      if (second!.stdout!.get(index) === text) cells[index] = text;
      else unstable.push(index);
    }
    return { example: example.name, key, status: 'kept', runtimesMs, cells, unstable };
  } finally {
    removeTempDir(work);
  }
}
