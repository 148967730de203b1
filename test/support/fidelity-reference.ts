/**
 * The fidelity corpus's reference: what each code cell prints (its stream stdout) when Jupyter runs
 * the example's notebook top to bottom (`nbconvert --execute`), twice; cells that print something
 * different in the two runs are left out. Results are cached under `.cache/fidelity/` (gitignored),
 * keyed by the example's source, this converter and the Python packages' versions.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CONVERTER_VERSION,
  exampleSlug,
  galleryNotebook,
  type GalleryExample,
} from './fidelity-corpus.js';
import { runProcessGroup, type ProcessResult } from './process-group.js';

export const PYTHON = '/usr/bin/python3';
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
  outputs?: { output_type: string; name?: string; text?: string | string[] }[];
}

/** Each code cell's stdout (its `stream` outputs named `stdout`, joined), by cell index. */
export function stdoutByCell(executed: { cells: ExecutedCell[] }): Map<number, string> {
  const byCell = new Map<number, string>();
  executed.cells.forEach((cell, index) => {
    if (cell.cell_type !== 'code') return;
    const text = (cell.outputs ?? [])
      .filter((o) => o.output_type === 'stream' && o.name === 'stdout')
      .map((o) => (Array.isArray(o.text) ? o.text.join('') : (o.text ?? '')))
      .join('');
    byCell.set(index, text);
  });
  return byCell;
}

/** The last Python exception line of a failed nbconvert run (`URLError: <urlopen error ...>`). */
function failureReason(run: ProcessResult): string {
  if (run.timedOut) return `timed out after ${REFERENCE_TIMEOUT_MS / 1000}s`;
  // eslint-disable-next-line no-control-regex
  const lines = run.stderr.replace(/\x1b\[[0-9;]*m/g, '').split('\n');
  const errors = lines.filter((l) =>
    /^[A-Za-z_.]*(Error|Exception|Interrupt)\b.*:?/.test(l.trim()),
  );
  const last = errors.at(-1) ?? lines.filter((l) => l.trim() !== '').at(-1) ?? '';
  return last.trim().slice(0, 300);
}

async function nbconvert(
  notebookPath: string,
  work: string,
): Promise<{ run: ProcessResult; stdout?: Map<number, string> }> {
  const out = `${notebookPath}.out.ipynb`;
  rmSync(out, { force: true });
  const run = await runProcessGroup(
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
    { cwd: work, env: fidelityEnv(), timeoutMs: REFERENCE_TIMEOUT_MS + 15_000 },
  );
  if (run.code !== 0 || run.timedOut) return { run };
  return { run, stdout: stdoutByCell(JSON.parse(readFileSync(out, 'utf8'))) };
}

/** Runs the example in Jupyter twice (or reads the cached result) and keeps its stable cells. */
export async function referenceFor(
  example: GalleryExample,
  cacheDir: string = REFERENCE_CACHE_DIR,
): Promise<Reference & { cached: boolean }> {
  const key = referenceKey(example);
  const cacheFile = join(cacheDir, `${exampleSlug(example.name)}.json`);
  try {
    const cached = JSON.parse(readFileSync(cacheFile, 'utf8')) as Reference;
    if (cached.key === key) return { ...cached, cached: true };
  } catch {
    // not cached yet
  }
  const work = mkdtempSync(join(tmpdir(), 'cellflow-fidelity-ref-'));
  let reference: Reference;
  try {
    const notebookPath = join(work, `${exampleSlug(example.name)}.ipynb`);
    writeFileSync(notebookPath, JSON.stringify(galleryNotebook(example.source), null, 1));
    const first = await nbconvert(notebookPath, work);
    const second = first.stdout === undefined ? undefined : await nbconvert(notebookPath, work);
    const failed =
      first.stdout === undefined ? first : second?.stdout === undefined ? second : undefined;
    const runtimesMs = [first.run.ms, ...(second === undefined ? [] : [second.run.ms])];
    if (failed !== undefined) {
      reference = {
        example: example.name,
        key,
        status:
          failed.run.timedOut || failed.run.stderr.includes('CellTimeoutError')
            ? 'timeout'
            : 'failed',
        reason: failureReason(failed.run),
        runtimesMs,
        cells: {},
        unstable: [],
      };
    } else {
      const cells: Record<string, string> = {};
      const unstable: number[] = [];
      for (const [index, text] of first.stdout!) {
        if (second!.stdout!.get(index) === text) cells[index] = text;
        else unstable.push(index);
      }
      reference = { example: example.name, key, status: 'kept', runtimesMs, cells, unstable };
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(cacheFile, JSON.stringify(reference, null, 1) + '\n');
  return { ...reference, cached: false };
}
