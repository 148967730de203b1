/** Runs the built `cellflow` command as a user would (`npm test` builds it first). */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../golden/golden-cases.js';
import type { Cell } from '../support/executed-notebooks.js';
import { PYTHON } from '../support/paths.js';

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runCli(
  args: readonly string[],
  options: { cwd?: string; input?: string } = {},
): CliRun {
  const result = spawnSync(
    process.execPath,
    [join(repoRoot, 'packages/cli/bin/cellflow.js'), ...args],
    {
      cwd: options.cwd ?? repoRoot,
      encoding: 'utf8',
      input: options.input ?? '',
      timeout: 120_000,
    },
  );
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The same, without blocking this process (for tests whose servers run in-process). */
export async function runCliAsync(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliRun> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'packages/cli/bin/cellflow.js'), ...args],
      {
        cwd: options.cwd ?? repoRoot,
        timeout: 120_000,
        encoding: 'utf8',
        ...(options.env !== undefined ? { env: { ...process.env, ...options.env } } : {}),
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/**
 * Runs a notebook of one code cell per step (its tags, its code) in `dir`, with the executed one;
 * `args` go to `cellflow run` too (`-p NAME=VALUE`).
 */
export async function runCells(
  dir: string,
  steps: readonly (readonly [string[], string])[],
  env?: NodeJS.ProcessEnv,
  args: readonly string[] = [],
): Promise<{ run: CliRun; cells: Cell[] }> {
  const cells = steps.map(([tags, source]) => ({
    cell_type: 'code',
    metadata: { tags },
    source,
    outputs: [],
    execution_count: null,
  }));
  writeFileSync(
    join(dir, 'cells.ipynb'),
    JSON.stringify({ nbformat: 4, nbformat_minor: 4, metadata: {}, cells }),
  );
  const run = await runCliAsync(
    [
      'run',
      'cells.ipynb',
      '--python',
      PYTHON,
      '--workspace',
      dir,
      '--output-notebook',
      'out.ipynb',
      ...args,
    ],
    { cwd: dir, ...(env !== undefined ? { env } : {}) },
  );
  const executed = JSON.parse(readFileSync(join(dir, 'out.ipynb'), 'utf8')) as { cells: Cell[] };
  return { run, cells: executed.cells };
}
