/**
 * Which Python runs the steps: an explicit choice, else `CELLFLOW_PYTHON`, else the active virtual
 * environment, else Debian's `/usr/bin/python3` (where `apt-get install python3-sklearn` puts
 * packages), else `python3` on PATH. The `python3` first on PATH is often another interpreter (pyenv,
 * conda) without the scientific stack, so it comes last.
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { BackendError } from '../backend.js';

export interface PythonInterpreter {
  readonly path: string;
  /** `sys.version`, first line (`3.11.2 (main, ...)`). */
  readonly version: string;
  /** Where the choice came from (`--python`, `CELLFLOW_PYTHON`, `/usr/bin/python3`, ...). */
  readonly source: string;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function probe(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      path,
      ['-c', 'import sys; assert sys.version_info >= (3, 8), sys.version; print(sys.version)'],
      { timeout: 15_000 },
      (error, stdout, stderr) => {
        if (error !== null) reject(new Error(stderr.trim() || error.message));
        else resolve(stdout.trim().split('\n')[0] ?? '');
      },
    );
  });
}

async function onPath(name: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && (await isExecutable(join(dir, name)))) return join(dir, name);
  }
  return null;
}

/** The candidates in order, each with the reason it is considered. */
async function candidates(
  explicit: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<{ path: string; source: string }[]> {
  if (explicit !== undefined) {
    // a bare name (`python3.12`) is looked up on PATH, as a shell would
    const path = explicit.includes('/') ? explicit : ((await onPath(explicit, env)) ?? explicit);
    return [{ path, source: '--python' }];
  }
  const list: { path: string; source: string }[] = [];
  if (env.CELLFLOW_PYTHON) list.push({ path: env.CELLFLOW_PYTHON, source: 'CELLFLOW_PYTHON' });
  if (env.VIRTUAL_ENV)
    list.push({ path: join(env.VIRTUAL_ENV, 'bin', 'python'), source: 'VIRTUAL_ENV' });
  if (env.CONDA_PREFIX)
    list.push({ path: join(env.CONDA_PREFIX, 'bin', 'python'), source: 'CONDA_PREFIX' });
  list.push({ path: '/usr/bin/python3', source: '/usr/bin/python3' });
  const fromPath = await onPath('python3', env);
  if (fromPath !== null) list.push({ path: fromPath, source: 'python3 on PATH' });
  return list;
}

/** Finds a working Python 3.8+; throws a `BackendError` that says what was tried and how to fix it. */
export async function findPythonInterpreter(
  explicit?: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<PythonInterpreter> {
  const tried: string[] = [];
  for (const c of await candidates(explicit, env)) {
    if (!(await isExecutable(c.path))) {
      tried.push(`${c.path} (${c.source}): not found or not executable`);
      if (c.source === '--python' || c.source === 'CELLFLOW_PYTHON') break;
      continue;
    }
    try {
      return { path: c.path, version: await probe(c.path), source: c.source };
    } catch (error) {
      tried.push(
        `${c.path} (${c.source}): ${error instanceof Error ? error.message.split('\n').pop() : String(error)}`,
      );
      if (c.source === '--python' || c.source === 'CELLFLOW_PYTHON') break;
    }
  }
  throw new BackendError(
    'python-not-found',
    `No usable Python 3 interpreter to run the steps. Tried: ${tried.join('; ')}. ` +
      'Fix: install one with the packages your notebook imports (`sudo apt-get install python3 python3-sklearn`, ' +
      'or `bash scripts/setup-machine.sh` in the Cellflow repository), or choose one with --python PATH.',
  );
}
