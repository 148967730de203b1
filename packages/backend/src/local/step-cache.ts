/**
 * Content-hash caching of steps. A step's key hashes everything that decides its outputs: its entry
 * script (its cells and the prelude, numbered by position so that other cells may come and go),
 * the hashes of the outputs it loads, the values of the parameters it reads, its image and
 * environment, and the interpreter. Same key: the outputs of the earlier run are reused
 * (hard-linked into the new run, so history stays self-contained).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, link, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { MetricValues } from '../run-events.js';
import { writeFileAtomic, type OutputRecord } from './run-store.js';
import { CELL_OUTPUTS_FILE } from './run-outputs.js';

export interface StepKeyParts {
  readonly script: string;
  readonly image: string;
  readonly env: Readonly<Record<string, string>>;
  /** Parameter values as handed to `--param`. */
  readonly parameters: Readonly<Record<string, string>>;
  /** Hash of every loaded variable (`OutputRecord.hash` of its producer). */
  readonly inputs: Readonly<Record<string, string>>;
  readonly python: { readonly path: string; readonly version: string };
}

export interface CacheEntry {
  readonly key: string;
  readonly runId: string;
  readonly step: string;
  readonly createdAt: string;
  readonly outputs: Readonly<Record<string, OutputRecord>>;
  readonly metrics: MetricValues;
}

// 2: the script's cells are numbered by position (`buildCacheScriptForStep`), not by index.
const KEY_VERSION = 2;

function sortedObject<T>(o: Readonly<Record<string, T>>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function stepCacheKey(parts: StepKeyParts): string {
  const canonical = JSON.stringify({
    v: KEY_VERSION,
    script: parts.script,
    image: parts.image,
    env: sortedObject(parts.env),
    parameters: sortedObject(parts.parameters),
    inputs: sortedObject(parts.inputs),
    python: parts.python,
  });
  return createHash('sha256').update(canonical).digest('hex');
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

/** sha256 over the folder's file names and contents (a marshalled variable is a folder). */
export async function hashOutputFolder(dir: string): Promise<{ hash: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for (const file of await filesUnder(dir)) {
    const size = (await stat(join(dir, file))).size;
    bytes += size;
    hash.update(`${file}\0${size}\0`);
    for await (const chunk of createReadStream(join(dir, file))) hash.update(chunk as Buffer);
  }
  return { hash: hash.digest('hex'), bytes };
}

export class StepCache {
  constructor(
    private readonly cacheDir: string,
    /** A run's step folder: `(runId, step) -> folder` holding log.txt, result.json, outputs/. */
    private readonly stepDir: (runId: string, step: string) => string,
  ) {}

  private outputPath(runId: string, step: string, variable: string): string {
    return join(this.stepDir(runId, step), 'outputs', variable);
  }

  private entryPath(key: string): string {
    return join(this.cacheDir, `${key}.json`);
  }

  /** The entry for `key` whose step folder and outputs are still on disk, intact in size; else null. */
  async lookup(key: string): Promise<CacheEntry | null> {
    let entry: CacheEntry;
    try {
      entry = JSON.parse(await readFile(this.entryPath(key), 'utf8')) as CacheEntry;
    } catch {
      return null;
    }
    try {
      await stat(join(this.stepDir(entry.runId, entry.step), 'result.json'));
      for (const [variable, output] of Object.entries(entry.outputs)) {
        let bytes = 0;
        const dir = this.outputPath(entry.runId, entry.step, variable);
        for (const file of await filesUnder(dir)) bytes += (await stat(join(dir, file))).size;
        if (bytes !== output.bytes) throw new Error(`${dir} changed`);
      }
    } catch {
      await rm(this.entryPath(key), { force: true });
      return null;
    }
    return entry;
  }

  async store(entry: CacheEntry): Promise<void> {
    await mkdir(this.cacheDir, { recursive: true });
    await writeFileAtomic(this.entryPath(entry.key), `${JSON.stringify(entry, null, 2)}\n`);
  }

  /**
   * Gives the new run's step what the cached one left: its outputs (hard links, else copies),
   * result and metrics, and its log after a line saying where it came from.
   */
  async materialize(entry: CacheEntry, runId: string, step: string): Promise<void> {
    const from = this.stepDir(entry.runId, entry.step);
    const to = this.stepDir(runId, step);
    let log = '';
    try {
      log = await readFile(join(from, 'log.txt'), 'utf8');
      // A step that was itself reused (its entry moved there when its producer was pruned):
      // only the original log follows.
      if (log.startsWith('[cellflow] cached:')) log = log.slice(log.indexOf('\n') + 1);
    } catch {
      // the earlier log is gone; the outputs are what matter
    }
    await writeFile(
      join(to, 'log.txt'),
      `[cellflow] cached: same code, inputs and parameters as step \`${entry.step}\` of run ${entry.runId}; its outputs are reused. Its log:\n${log}`,
    );
    for (const file of ['result.json', 'metrics.json', CELL_OUTPUTS_FILE]) {
      await copyFile(join(from, file), join(to, file)).catch(() => undefined);
    }
    for (const variable of Object.keys(entry.outputs)) {
      const source = this.outputPath(entry.runId, entry.step, variable);
      const outputs = this.outputPath(runId, step, variable);
      for (const file of await filesUnder(source)) {
        const target = join(outputs, file);
        await mkdir(join(target, '..'), { recursive: true });
        try {
          await link(join(source, file), target);
        } catch {
          await copyFile(join(source, file), target);
        }
      }
    }
  }
}
