/**
 * Pruning local run history: the newest runs of each pipeline stay, older finished ones go, with
 * their cache entries moved to a kept run that reused the step, or removed. Runs still going, runs behind a study's best trial and
 * runs a live endpoint serves from are never deleted.
 */
import { lstat, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunSummary } from '../backend.js';
import { writeFileAtomic, type RunStore } from './run-store.js';

export interface PruneOptions {
  /** Runs of each pipeline kept, newest first (default 10). */
  readonly keep?: number;
  /** Only runs created longer ago than this are deleted. */
  readonly olderThanMs?: number;
  /** Only this pipeline's runs are considered. */
  readonly pipeline?: string;
  /** Say what would go, delete nothing. */
  readonly dryRun?: boolean;
  readonly now?: Date;
}

export interface PrunedRun {
  readonly id: string;
  readonly pipeline: string;
  readonly createdAt: string;
  /** Bytes only this run held (files hard-linked into other runs are not counted). */
  readonly bytes: number;
}

export interface PruneResult {
  readonly deleted: readonly PrunedRun[];
  /** Runs that were old enough but are protected, and why. */
  readonly protected: readonly { readonly id: string; readonly reason: string }[];
  readonly kept: number;
  readonly bytesFreed: number;
  /** Entries moved to a kept run that reused the step: it stays cached. */
  readonly cacheEntriesMoved: number;
  readonly cacheEntriesRemoved: number;
  readonly dryRun: boolean;
}

export const DEFAULT_KEEP = 10;

/** Size of the files under `dir` that no other run shares (a link count of 1). */
async function ownBytes(dir: string): Promise<number> {
  let total = 0;
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    if (!e.isFile()) continue;
    const s = await lstat(join(e.parentPath, e.name)).catch(() => null);
    if (s !== null && s.nlink === 1) total += s.size;
  }
  return total;
}

/**
 * Cache entries that point into deleted runs. When a kept run reused that step (its outputs are
 * hard links of the same files), the entry is moved to that run and the step stays cached;
 * otherwise the entry is removed, as it could never be used again.
 */
async function updateCacheEntries(
  store: RunStore,
  dryRun: boolean,
  gone: ReadonlySet<string>,
  reusedBy: ReadonlyMap<string, string>,
): Promise<{ moved: number; removed: number }> {
  let moved = 0;
  let removed = 0;
  const files = await readdir(store.cacheDir).catch(() => [] as string[]);
  for (const file of files) {
    if (!file.endsWith('.json')) continue;
    const path = join(store.cacheDir, file);
    const entry = await readFile(path, 'utf8')
      .then((t) => JSON.parse(t) as { runId?: unknown; step?: unknown })
      .catch(() => null);
    const runId = typeof entry?.runId === 'string' ? entry.runId : null;
    if (runId !== null && !gone.has(runId)) {
      const there = await lstat(store.runDir(runId)).then(
        () => true,
        () => false,
      );
      if (there) continue;
    }
    const successor =
      runId !== null && typeof entry?.step === 'string'
        ? reusedBy.get(`${runId}/${entry.step}`)
        : undefined;
    if (successor !== undefined) {
      moved++;
      if (!dryRun)
        await writeFileAtomic(path, `${JSON.stringify({ ...entry, runId: successor }, null, 2)}\n`);
    } else {
      removed++;
      if (!dryRun) await rm(path, { force: true });
    }
  }
  return { moved, removed };
}

export async function pruneRuns(
  store: RunStore,
  runs: readonly RunSummary[],
  protectedRuns: ReadonlyMap<string, string>,
  options: PruneOptions = {},
): Promise<PruneResult> {
  const keep = options.keep ?? DEFAULT_KEEP;
  const now = (options.now ?? new Date()).getTime();
  const dryRun = options.dryRun === true;
  const byPipeline = new Map<string, RunSummary[]>();
  for (const r of runs) {
    if (options.pipeline !== undefined && r.pipeline !== options.pipeline) continue;
    byPipeline.set(r.pipeline, [...(byPipeline.get(r.pipeline) ?? []), r]);
  }
  const deleted: PrunedRun[] = [];
  const kept: string[] = [];
  const skipped: { id: string; reason: string }[] = [];
  for (const list of byPipeline.values()) {
    const newestFirst = [...list].sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
    for (const [i, r] of newestFirst.entries()) {
      const oldEnough =
        options.olderThanMs === undefined || now - Date.parse(r.createdAt) > options.olderThanMs;
      if (i < keep || !oldEnough) {
        kept.push(r.id);
        continue;
      }
      const reason =
        r.state === 'running' ? 'still running' : (protectedRuns.get(r.id) ?? undefined);
      if (reason !== undefined) {
        kept.push(r.id);
        skipped.push({ id: r.id, reason });
        continue;
      }
      const dir = store.runDir(r.id);
      deleted.push({
        id: r.id,
        pipeline: r.pipeline,
        createdAt: r.createdAt,
        bytes: await ownBytes(dir),
      });
      if (!dryRun) await rm(dir, { recursive: true, force: true });
    }
  }
  // `<producer run>/<step>` -> the newest kept run that reused that step's outputs.
  const keptIds = new Set(kept);
  const reusedBy = new Map<string, string>();
  for (const r of runs) {
    if (!keptIds.has(r.id)) continue;
    for (const step of r.steps) {
      const key = `${step.cachedFrom}/${step.name}`;
      if (step.state === 'cached' && step.cachedFrom !== undefined && !reusedBy.has(key))
        reusedBy.set(key, r.id);
    }
  }
  const cache = await updateCacheEntries(
    store,
    dryRun,
    new Set(deleted.map((d) => d.id)),
    reusedBy,
  );
  return {
    deleted,
    protected: skipped,
    kept: kept.length,
    bytesFreed: deleted.reduce((n, d) => n + d.bytes, 0),
    cacheEntriesMoved: cache.moved,
    cacheEntriesRemoved: cache.removed,
    dryRun,
  };
}
