/**
 * Pass 7: files are shared state the data flow does not see. A step that reads or writes files
 * (or runs a shell command, or loads a value that crosses as its file: an open file, a memmap)
 * runs after every step above it that may write them, and a step that may write them after every
 * step above it that reads them, as in the notebook. A module the notebook writes (`%%writefile helper.py`) is a file its importers read.
 */
import type { FileAccess } from '../python/analyze-python.js';
import type { ResolvedStep } from './resolve-data-flow.js';
import { SharingGroups } from './sharing-groups.js';

/** `%%writefile name.py` as the runtime call it becomes: the module name it writes. */
const WRITTEN_MODULE = /__cellflow__\.write_file\((['"])(\w+)\.py\1/g;
/** The top-level module of each `import a.b` / `from a.b import c` at a line's start. */
const IMPORTED_MODULE = /^[ \t]*(?:from[ \t]+(\w+)|import[ \t]+(\w+))/gm;

/** `after` (the steps each step runs after) with the edges that keep files in notebook order. */
export function orderFileAccess(
  steps: readonly ResolvedStep[],
  after: ReadonlyMap<string, ReadonlySet<string>>,
  code: ReadonlyMap<number, string>,
): ReadonlyMap<string, ReadonlySet<string>> {
  const plain = (cell: number): string => code.get(cell) ?? '';
  const writtenModules = new Set<string>();
  for (const cellCode of code.values())
    for (const m of cellCode.matchAll(WRITTEN_MODULE)) writtenModules.add(m[2]!);
  const importsWritten = (text: string): boolean =>
    writtenModules.size > 0 &&
    [...text.matchAll(IMPORTED_MODULE)].some((m) => writtenModules.has(m[1] ?? m[2]!));
  const fileBacked = fileBackedNames(steps);
  const touchesFiles = (d: ResolvedStep): FileAccess => {
    // A value that crosses as its file (an open file, a memmap and its views) is the file.
    if ([...d.inputs.keys()].some((n) => fileBacked.has(n))) return { reads: true, writes: true };
    const eager = d.units.filter((u) => u.eager).map((u) => u.ref.unit);
    const units = eager.map((u) => u.fileAccess);
    return {
      reads:
        d.analysis.fileAccess.reads ||
        units.some((u) => u.reads) ||
        eager.some((u) => u.kind === 'import' && importsWritten(u.code)) ||
        d.cells.some((c) => importsWritten(plain(c))),
      writes: d.analysis.fileAccess.writes || units.some((u) => u.writes),
    };
  };
  const ordered = new Map([...after].map(([name, steps]) => [name, new Set(steps)]));
  const writers: ResolvedStep[] = [];
  const readers: ResolvedStep[] = [];
  for (const d of steps) {
    const access = touchesFiles(d);
    if (!access.reads && !access.writes) continue;
    const before = ordered.get(d.name)!;
    for (const w of writers) if (w !== d) before.add(w.name);
    // A step that may write files waits for the steps above that read them, too.
    if (access.writes) for (const r of readers) if (r !== d) before.add(r.name);
    if (access.writes) writers.push(d);
    else readers.push(d);
  }
  return ordered;
}

/**
 * The names any step binds to a value that crosses as its file, and the names that may share
 * objects with one (`section = mm[:5]`, a view of a memmap).
 */
function fileBackedNames(steps: readonly ResolvedStep[]): ReadonlySet<string> {
  const backed = steps.flatMap((d) => [...d.analysis.fileBacked]);
  if (backed.length === 0) return new Set();
  const sharing = new SharingGroups();
  for (const d of steps) for (const [a, b] of d.analysis.aliases) sharing.union(a, b);
  return new Set(backed.flatMap((n) => sharing.members(n)));
}
