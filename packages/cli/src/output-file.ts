/**
 * Writing a file the user named (`compile -o`, `tune --apply-best`): regular files only, never an
 * input of the command, through a symlink to its target, keeping an existing file's mode, and
 * atomically (a temporary file beside the target, renamed over it), so a failure leaves the old
 * file whole and no partial one.
 */
import { randomBytes } from 'node:crypto';
import { chmod, lstat, readlink, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CliError } from './notebook-file.js';

export interface WrittenFile {
  /** The regular file written: `path` itself, or the target of the symlink at `path`. */
  readonly file: string;
  /** True when `path` was a symlink and its target was written. */
  readonly throughSymlink: boolean;
}

/** What a non-regular file is, for messages. */
function kindOf(info: Stats): string {
  if (info.isDirectory()) return 'a folder';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  if (info.isFIFO()) return 'a named pipe';
  if (info.isSocket()) return 'a socket';
  return 'not a regular file';
}

async function statOrNull(path: string): Promise<Stats | null> {
  try {
    return await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Follows `path` through symlinks (a dangling one to where its target would be). */
async function targetOf(path: string): Promise<{ file: string; throughSymlink: boolean }> {
  let current = resolve(path);
  let throughSymlink = false;
  for (let hops = 0; hops < 40; hops++) {
    let info;
    try {
      info = await lstat(current);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        return { file: join(await realpath(dirname(current)), basename(current)), throughSymlink };
      throw error;
    }
    if (!info.isSymbolicLink()) return { file: await realpath(current), throughSymlink };
    throughSymlink = true;
    current = resolve(dirname(current), await readlink(current));
  }
  throw new CliError(`${path}: too many levels of symbolic links.`);
}

export async function writeOutputFile(
  path: string,
  content: string,
  options: { readonly inputs?: readonly string[] } = {},
): Promise<WrittenFile> {
  let target;
  try {
    target = await targetOf(path);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`Cannot write ${path}: ${(error as Error).message}`);
  }
  const existing = await statOrNull(target.file);
  const shown = target.throughSymlink ? `${path} (a symlink to ${target.file})` : path;
  if (existing !== null && !existing.isFile())
    throw new CliError(
      `Refusing to write ${shown}: it is ${kindOf(existing)}, and Cellflow writes regular files only. Fix: give the path of a file.`,
    );
  for (const input of options.inputs ?? []) {
    const inputInfo = await statOrNull(input);
    if (
      existing !== null &&
      inputInfo !== null &&
      inputInfo.dev === existing.dev &&
      inputInfo.ino === existing.ino
    )
      throw new CliError(
        `Refusing to write ${shown}: it is the input notebook ${input}. Fix: write the output to another file.`,
      );
  }
  const tmp = join(
    dirname(target.file),
    `.${basename(target.file)}.${randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    await writeFile(tmp, content, { flag: 'wx' });
    if (existing !== null) await chmod(tmp, existing.mode & 0o7777);
    await rename(tmp, target.file);
  } catch (error) {
    await rm(tmp, { force: true });
    throw new CliError(
      `Cannot write ${shown}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return target;
}
