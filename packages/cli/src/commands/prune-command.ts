/**
 * `cellflow prune`: deletes older local runs, keeping the newest of each pipeline, and says what it
 * freed. Runs still going, behind a study's best trial, or served, stay.
 */
import { DEFAULT_KEEP, LocalBackend, type PruneResult } from '@cellflow/backend';
import { InvalidArgumentError, type Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { asCliError } from './cluster-commands.js';

interface PruneFlags {
  keep: number;
  olderThan?: number;
  pipeline?: string;
  dryRun?: boolean;
  json?: boolean;
  workspace?: string;
}

function wholeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError('expected a whole number (0 or more).');
  return n;
}

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `30m`, `12h`, `7d`, `2w` -> milliseconds. */
export function parseAge(value: string): number {
  const m = /^(\d+(?:\.\d+)?)([mhdw])$/.exec(value.trim());
  if (m === null)
    throw new InvalidArgumentError(
      'expected an age such as 30m, 12h, 7d or 2w (minutes, hours, days, weeks).',
    );
  return Number(m[1]) * UNITS[m[2]!]!;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

function report(ctx: CliContext, r: PruneResult): void {
  const verb = r.dryRun ? 'Would delete' : 'Deleted';
  const perPipeline = new Map<string, number>();
  for (const d of r.deleted) perPipeline.set(d.pipeline, (perPipeline.get(d.pipeline) ?? 0) + 1);
  const which = [...perPipeline].map(([p, n]) => `${p} ${n}`).join(', ');
  ctx.out(
    r.deleted.length === 0
      ? `Nothing to prune: kept ${r.kept} run${r.kept === 1 ? '' : 's'}.`
      : `${verb} ${r.deleted.length} run${r.deleted.length === 1 ? '' : 's'} (${formatBytes(r.bytesFreed)}): ${which}. Kept ${r.kept}.`,
  );
  if (r.dryRun) for (const d of r.deleted) ctx.out(`  ${d.id}  ${formatBytes(d.bytes)}`);
  for (const p of r.protected) ctx.out(`Kept ${p.id}: ${p.reason}.`);
  if (r.cacheEntriesMoved + r.cacheEntriesRemoved > 0) {
    const moved =
      r.cacheEntriesMoved > 0
        ? `${r.cacheEntriesMoved} step${r.cacheEntriesMoved === 1 ? '' : 's'} stay cached through later runs that reused them`
        : '';
    const removed =
      r.cacheEntriesRemoved > 0
        ? `${r.cacheEntriesRemoved} cached step${r.cacheEntriesRemoved === 1 ? '' : 's'} will run again when next needed`
        : '';
    ctx.out(`Cache: ${[moved, removed].filter((s) => s !== '').join('; ')}.`);
  }
  if (r.dryRun && r.deleted.length > 0) ctx.out('Nothing was deleted (--dry-run).');
}

export function registerPruneCommand(program: Command, ctx: CliContext): void {
  program
    .command('prune')
    .description(
      `Delete older local runs: the newest of each pipeline stay (--keep, default ${DEFAULT_KEEP}); runs still going, behind a study's best trial or served are never deleted.`,
    )
    .option('--keep <n>', 'runs of each pipeline to keep, newest first', wholeNumber, DEFAULT_KEEP)
    .option('--older-than <age>', 'only delete runs older than this (30m, 12h, 7d, 2w)', parseAge)
    .option('--pipeline <name>', "only this pipeline's runs")
    .option('--dry-run', 'list what would be deleted; delete nothing')
    .option('--json', 'print the result as JSON')
    .option('--workspace <dir>', 'folder whose .cellflow/ keeps run history (default: .)')
    .action(async (opts: PruneFlags) => {
      const backend = new LocalBackend(
        opts.workspace !== undefined ? { workspace: opts.workspace } : {},
      );
      let result: PruneResult;
      try {
        result = await backend.pruneRuns({
          keep: opts.keep,
          ...(opts.olderThan !== undefined ? { olderThanMs: opts.olderThan } : {}),
          ...(opts.pipeline !== undefined ? { pipeline: opts.pipeline } : {}),
          dryRun: opts.dryRun === true,
        });
      } catch (error) {
        throw asCliError(error);
      }
      if (opts.json === true) ctx.out(JSON.stringify(result, null, 2));
      else report(ctx, result);
    });
}
