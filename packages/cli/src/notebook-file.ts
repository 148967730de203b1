/** Reading notebooks for the CLI: clear errors, bounded reads. */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { describeLocation, type Diagnostic } from '@cellflow/core';

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

/** Largest notebook read (notebooks with embedded outputs run to tens of megabytes). */
export const MAX_NOTEBOOK_BYTES = 100 * 1024 * 1024;

/** A notebook's bytes: regular files only, at most `MAX_NOTEBOOK_BYTES`, read once. */
export async function readNotebookFile(path: string): Promise<Uint8Array> {
  let file;
  try {
    // Non-blocking, so that opening a named pipe does not wait for a writer.
    file = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new CliError(`${path}: no such file. Fix: check the path (run \`ls\` in its folder).`);
    throw new CliError(`Cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    const info = await file.stat();
    if (info.isDirectory())
      throw new CliError(`${path} is a folder; give the path of a .ipynb notebook.`);
    if (!info.isFile())
      throw new CliError(
        `${path} is not a regular file (a device, pipe or socket); give the path of a .ipynb notebook.`,
      );
    const tooLarge = (): CliError =>
      new CliError(
        `${path} is larger than ${MAX_NOTEBOOK_BYTES / 1024 / 1024} MiB, more than Cellflow reads as a notebook. Fix: clear its outputs (\`jupyter nbconvert --clear-output --inplace ${path}\`).`,
        1,
      );
    if (info.size > MAX_NOTEBOOK_BYTES) throw tooLarge();
    // Read at most one byte past the limit, in case the file grows while it is read.
    const buffer = Buffer.alloc(Math.min(info.size, MAX_NOTEBOOK_BYTES) + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await file.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length === buffer.length) {
        if (length > MAX_NOTEBOOK_BYTES) throw tooLarge();
        break;
      }
    }
    return buffer.subarray(0, length);
  } finally {
    await file.close();
  }
}

export function fileNameOf(path: string): string {
  return basename(path).replace(/\.ipynb$/i, '');
}

export function formatDiagnostic(file: string, d: Diagnostic): string {
  return `${file}: ${describeLocation(d.cell, d.line)}: ${d.severity} [${d.code}] ${d.message}`;
}
