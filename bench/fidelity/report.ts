/** The fidelity bench's breakdown: corpus, per-tagging totals, failure causes, the summary line. */
import { TAGGINGS, type Tagging } from '../../test/support/fidelity-corpus.js';
import {
  differences,
  normalizeFailureMessage,
  type CellVerdict,
  type PipelineOutcome,
  type RunFailure,
} from '../../test/support/fidelity-pipeline.js';
import type { Reference } from '../../test/support/fidelity-reference.js';

export interface ExampleResult {
  readonly example: string;
  readonly reference: Reference;
  readonly runs: readonly PipelineOutcome[];
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;
const clip = (text: string, width: number): string =>
  text.length <= width ? text : `${text.slice(0, width - 1)}…`;

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    groups.set(k, [...(groups.get(k) ?? []), item]);
  }
  return new Map([...groups].sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1)));
}

/** What the corpus is: `gallery examples`, or `notebooks under lectures, handbook`. */
export interface CorpusLabel {
  readonly found: number;
  readonly label: string;
}

/** The corpus: examples kept, their cells and times, one line per reason others were left out. */
export function formatCorpus(results: readonly ExampleResult[], corpus: CorpusLabel): string {
  return corpusLines(results, corpus).join('\n');
}

const sum = <T>(items: readonly T[], count: (item: T) => number): number =>
  items.reduce((n, item) => n + count(item), 0);

function corpusLines(results: readonly ExampleResult[], corpus: CorpusLabel): string[] {
  const references = results.map((r) => r.reference);
  const kept = references.filter((r) => r.status === 'kept');
  const dropped = references.filter((r) => r.status !== 'kept');
  const stable = sum(kept, (r) => Object.keys(r.cells).length);
  const printing = sum(kept, (r) => Object.values(r.cells).filter((t) => t !== '').length);
  const showing = sum(kept, (r) => Object.values(r.results ?? {}).filter((t) => t !== null).length);
  const unstable = sum(kept, (r) => r.unstable.length);
  const unstableResults = sum(kept, (r) => r.unstableResults?.length ?? 0);
  const withoutResults = kept.filter((r) => r.results === undefined).length;
  const raising = kept.filter((r) => (r.dropped?.length ?? 0) > 0);
  const empty = kept.filter((r) => !isComparable(r)).length;
  const run = results.filter((r) => r.runs.length > 0).length;
  const lines = [
    `Corpus: ${corpus.found} ${corpus.label}, ${references.length} run in Jupyter (nbconvert, twice): ` +
      `${kept.length} kept, ${dropped.length} dropped.`,
    `  kept: ${stable} stable code cells (${printing} print something), ${unstable} unstable cells left out; ` +
      `${showing} stable results, ${unstableResults} unstable left out; ` +
      `nbconvert time per notebook ${seconds(kept.length === 0 ? 0 : Math.min(...kept.map(slowest)))}–${seconds(Math.max(0, ...kept.map(slowest)))}, ` +
      `total ${seconds(kept.reduce((n, r) => n + slowest(r), 0))}`,
    ...(raising.length > 0
      ? [
          `  kept notebooks with cells that raised in Jupyter, left out: ${raising.length} notebooks, ` +
            `${sum(raising, (r) => r.dropped!.length)} code cells (${raisedKinds(raising)})`,
        ]
      : []),
    ...(empty > 0
      ? [`  ${empty} kept notebooks have no code cells left: not run as pipelines`]
      : []),
    ...(withoutResults > 0
      ? [
          `  ${withoutResults} kept references cached before results were compared: stdout only ` +
            `(delete their files in .cache/fidelity/references/ to rebuild them)`,
        ]
      : []),
    ...(run > 0 && run < kept.length - empty
      ? [
          `  run as pipelines: ${run} of the ${kept.length - empty} kept (--limit, --max-seconds; ` +
            `--taggings kale alone runs only notebooks with tags)`,
        ]
      : []),
  ];
  for (const [reason, group] of groupBy(dropped, (r) => `${r.status}: ${r.reason ?? ''}`)) {
    lines.push(
      `  dropped ${String(group.length).padStart(3)}  ${clip(reason, 90)}  (e.g. ${group[0]!.example})`,
    );
  }
  return lines;
}

/** The exceptions dropped cells raised, most frequent first: `NameError 12, ImportError 2`. */
function raisedKinds(references: readonly Reference[]): string {
  const names = references.flatMap((r) =>
    Object.values(r.raised ?? {}).map((e) => e.split(':')[0] || '?'),
  );
  return [...groupBy(names, (n) => n)].map(([name, group]) => `${name} ${group.length}`).join(', ');
}

/** A kept reference with cells to compare (a notebook of markdown alone has none). */
export function isComparable(reference: Reference): boolean {
  return (
    reference.status === 'kept' &&
    Object.keys(reference.cells).length + Object.keys(reference.results ?? {}).length > 0
  );
}

export function slowest(reference: Reference): number {
  return Math.max(0, ...reference.runtimesMs);
}

function causeKey(failure: RunFailure): string {
  const kind = failure.codes === undefined ? failure.kind : `diagnostic ${failure.codes.join(',')}`;
  return `${kind}: ${normalizeFailureMessage(failure.message)}`;
}

/**
 * The report, its last line `fidelity: R/N runs succeed, C/M cells match`: a cell matches when its
 * stdout and its result both do (each where Jupyter's two runs agreed). `taggings` are the ones
 * run; `untagged` the kept notebooks not run with `kale` because they carry no pipeline tags.
 */
export function formatReport(
  results: readonly ExampleResult[],
  corpus: CorpusLabel,
  taggings: readonly Tagging[] = TAGGINGS,
  untagged = 0,
): string {
  const lines = corpusLines(results, corpus);
  const runs = results.flatMap((r) => r.runs.map((run) => ({ example: r.example, run })));
  if (taggings.includes('kale')) {
    const leftOut = sum(runs, (r) => (r.run.tagging === 'kale' ? (r.run.leftOut?.length ?? 0) : 0));
    lines.push(
      `  kale (the notebooks' own tags): ${untagged} kept notebooks carry no Kale or Cellflow tags, ` +
        `not run so; ${leftOut} code cells their tags leave out (\`skip\`), not compared`,
    );
  }
  lines.push('', 'tagging       runs succeeded    cells matched     cell verdicts');
  let succeeded = 0;
  let matched = 0;
  let cells = 0;
  for (const tagging of taggings) {
    const mine = runs.filter((r) => r.run.tagging === tagging).map((r) => r.run);
    const ok = mine.filter((r) => r.succeeded).length;
    const verdicts = new Map<CellVerdict, number>();
    for (const c of mine.flatMap((r) => r.cells))
      verdicts.set(c.verdict, (verdicts.get(c.verdict) ?? 0) + 1);
    const all = mine.reduce((n, r) => n + r.cells.length, 0);
    const match = verdicts.get('match') ?? 0;
    succeeded += ok;
    matched += match;
    cells += all;
    lines.push(
      `${tagging.padEnd(13)} ${`${ok}/${mine.length}`.padEnd(17)} ${`${match}/${all}`.padEnd(17)} ` +
        [...verdicts]
          .sort()
          .map(([v, n]) => `${v} ${n}`)
          .join(', '),
    );
  }

  const failed = runs.filter((r) => r.run.failure !== undefined);
  lines.push(
    '',
    `Failure causes (${failed.length} failed runs; the first failing step's error, or the refusal):`,
  );
  if (failed.length > 0)
    lines.push(`count ${taggings.map((t) => t.padStart(11)).join(' ')}  cause`);
  for (const [cause, group] of groupBy(failed, (r) => causeKey(r.run.failure!))) {
    const per = taggings.map((t) =>
      String(group.filter((g) => g.run.tagging === t).length).padStart(11),
    );
    lines.push(`${String(group.length).padStart(5)} ${per.join(' ')}  ${clip(cause, 160)}`);
    lines.push(
      `${' '.repeat(6 + 12 * taggings.length)}  e.g. ${group[0]!.example} [${group[0]!.run.tagging}]`,
    );
  }

  const notMatching = runs.flatMap((r) =>
    r.run.succeeded ? r.run.cells.flatMap((c) => differences(c).map((d) => ({ ...r, c, d }))) : [],
  );
  if (notMatching.length > 0) {
    lines.push('', `Cells that differ in runs that succeeded (${notMatching.length} outputs):`);
    for (const { example, run, c, d } of notMatching.slice(0, 15)) {
      lines.push(
        `  ${example} [${run.tagging}] cell ${c.cell} ${d.part} ${d.verdict}: expected ${clip(JSON.stringify(d.expected), 60)}, got ${clip(JSON.stringify(d.actual ?? null), 60)}`,
      );
    }
    if (notMatching.length > 15) lines.push(`  … ${notMatching.length - 15} more (see --json)`);
  }
  const compared = runs.flatMap((r) => r.run.cells);
  const withResult = compared.filter((c) => c.result !== undefined && c.result.expected !== null);
  lines.push(
    '',
    `Compared: ${cells} cells, ${compared.filter((c) => c.stdout !== undefined).length} by stdout, ` +
      `${compared.filter((c) => c.result !== undefined).length} by result ` +
      `(${withResult.length} show one in Jupyter, ${withResult.filter((c) => c.result!.verdict === 'match').length} of them match)`,
    `fidelity: ${succeeded}/${runs.length} runs succeed, ${matched}/${cells} cells match`,
  );
  return lines.join('\n');
}
