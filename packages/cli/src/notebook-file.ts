/** Reading notebooks and writing results for the CLI: clear errors, atomic writes. */
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { describeLocation, type Diagnostic } from '@cellflow/core';

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

export async function readNotebookFile(path: string): Promise<Uint8Array> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new CliError(`${path}: no such file. Fix: check the path (run \`ls\` in its folder).`);
  }
  if (info.isDirectory())
    throw new CliError(`${path} is a folder; give the path of a .ipynb notebook.`);
  return readFile(path);
}

/** Writes via a temporary file and a rename, so a failure never leaves a partial file. */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, content);
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw new CliError(
      `Cannot write ${path}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

export function fileNameOf(path: string): string {
  return basename(path).replace(/\.ipynb$/i, '');
}

export function formatDiagnostic(file: string, d: Diagnostic): string {
  return `${file}: ${describeLocation(d.cell, d.line)}: ${d.severity} [${d.code}] ${d.message}`;
}
