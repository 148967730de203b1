/** Scratch folders for tests and benches, never left behind. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const tempDirs = new Set<string>();
let removeOnExit = false;

/** A temporary folder, removed by `removeTempDir` or, at the latest, when this process exits. */
export function makeTempDir(prefix: string): string {
  if (!removeOnExit) process.on('exit', () => tempDirs.forEach((d) => removeTempDir(d)));
  removeOnExit = true;
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** Runs `use` in a fresh temporary folder and removes the folder after, however `use` ends. */
export async function withTempDir<T>(prefix: string, use: (dir: string) => Promise<T>): Promise<T> {
  const dir = makeTempDir(prefix);
  try {
    return await use(dir);
  } finally {
    removeTempDir(dir);
  }
}
