/**
 * Compile speed: a 1,000-cell / 200-step notebook through the whole Cellflow compiler, against
 * pyflakes (Kale's analysis engine) analysing the same step code in-process, in the same run.
 * Cold: every cell's text is new (nothing cached). Re-check: the editors' NotebookAnalyzer on the
 * same notebook with one cell (in the middle) edited, as after a keystroke: an edit that keeps the
 * cell's names (a literal, a comment), and one that binds a new name (the graph resolved again).
 * Prints last `compile: pyflakes/cellflow cold X.XXx, re-check Y.Y ms` (the whole compile, KFP IR
 * included; the re-check after an edit that keeps the names). Targets: >= 5x, < 16 ms.
 * Each side's CPU time is printed too (Node's own, its GC threads included; Python's
 * `process_time`): on a machine other work keeps busy it moves less than the wall time.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeNotebook, compile, hasErrors, NotebookAnalyzer } from '@cellflow/core';
import { syntheticNotebook } from './synthetic-notebook.js';

const STEPS = 200;
const CELLS_PER_STEP = 5;
const ROUNDS = 7;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timed(fn: () => unknown): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

/** `fn`'s wall time, with the process's CPU time for it pushed onto `cpu`. */
function timedWithCpu(fn: () => unknown, cpu: number[]): number {
  const c0 = process.cpuUsage();
  const wall = timed(fn);
  const { user, system } = process.cpuUsage(c0);
  cpu.push((user + system) / 1000);
  return wall;
}

const notebook = syntheticNotebook(STEPS, CELLS_PER_STEP);
const first = compile(notebook);
if (hasErrors(first.diagnostics) || first.pipeline === undefined) {
  throw new Error(
    `synthetic notebook does not compile: ${JSON.stringify(first.diagnostics.slice(0, 3))}`,
  );
}
/** The notebook with cell `cell`'s source changed by `change`. */
function editCell(text: string, cell: number, change: (source: string) => string): string {
  const json = JSON.parse(text) as { cells: { source: string }[] };
  json.cells[cell]!.source = change(json.cells[cell]!.source);
  return JSON.stringify(json);
}

const cold: number[] = [];
const coldCpu: number[] = [];
const analysis: number[] = [];
const edit: number[] = [];
const recheck: number[] = [];
const recheckNewName: number[] = [];
// The first cell of the middle step: `data_N = normalise(data_M, scale=... + K)` and more.
const middle = 3 + Math.floor(STEPS / 2) * CELLS_PER_STEP;
for (let i = 1; i <= ROUNDS; i++) {
  analysis.push(timed(() => analyzeNotebook(syntheticNotebook(STEPS, CELLS_PER_STEP, 1000 + i))));
  const fresh = syntheticNotebook(STEPS, CELLS_PER_STEP, i);
  cold.push(timedWithCpu(() => compile(fresh), coldCpu));
  const edited = fresh.replace('# variant', '# edited variant');
  edit.push(timed(() => compile(edited)));
  // Each kind of edit in its own editor, one after another, as while typing.
  const editor = new NotebookAnalyzer();
  editor.analyze(fresh);
  for (let k = 1; k <= 5; k++) {
    const literal = editCell(
      fresh,
      middle,
      (s) => `${s.replace(/\+ \d+\)/, `+ ${k})`)}  # try ${k}`,
    );
    recheck.push(timed(() => editor.analyze(literal)));
  }
  const renaming = new NotebookAnalyzer();
  renaming.analyze(fresh);
  for (let k = 1; k <= 5; k++) {
    const named = editCell(fresh, middle, (s) => `${s}\nextra_${i}_${k} = len(str(${k}))`);
    recheckNewName.push(timed(() => renaming.analyze(named)));
  }
}

// The same step code, as pyflakes sees it: one module per step (imports and functions prepended).
const { graph, code } = first.pipeline;
const modules = graph.steps.map((s) =>
  [...graph.preludeCells, ...s.cells].map((c) => code.get(c) ?? '').join('\n'),
);
const dir = mkdtempSync(join(tmpdir(), 'cellflow-bench-'));
let pyflakesMs: number;
let pyflakesCpuMs: number;
try {
  writeFileSync(join(dir, 'modules.json'), JSON.stringify(modules));
  const script = `
import json, sys, time
from pyflakes import api, reporter
modules = json.load(open(sys.argv[1]))
class Quiet(reporter.Reporter):
    def __init__(self): pass
    def unexpectedError(self, *a): pass
    def syntaxError(self, *a): pass
    def flake(self, *a): pass
times = []
cpu = []
for _ in range(${ROUNDS}):
    t0, c0 = time.perf_counter(), time.process_time()
    for i, m in enumerate(modules):
        api.check(m, "step%d" % i, Quiet())
    times.append((time.perf_counter() - t0) * 1000)
    cpu.append((time.process_time() - c0) * 1000)
times.sort()
cpu.sort()
print(times[len(times) // 2], cpu[len(cpu) // 2])
`;
  [pyflakesMs, pyflakesCpuMs] = execFileSync(
    '/usr/bin/python3',
    ['-c', script, join(dir, 'modules.json')],
    { encoding: 'utf8' },
  )
    .trim()
    .split(' ')
    .map(Number) as [number, number];
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const row = (label: string, ms: number): string =>
  `${label.padEnd(52)} ${ms.toFixed(1).padStart(7)} ms   pyflakes/cellflow ${(pyflakesMs / ms).toFixed(2)}x`;
const cells = (JSON.parse(notebook) as { cells: unknown[] }).cells.length;
const yamlKiB = Math.round((first.yaml?.length ?? 0) / 1024);
console.log(`notebook: ${cells} cells, ${graph.steps.length} steps; medians of ${ROUNDS} rounds`);
console.log(
  `${'pyflakes, the same step code, in-process'.padEnd(52)} ${pyflakesMs.toFixed(1).padStart(7)} ms`,
);
console.log(row('cellflow analysis (parse, names, graph), cold', median(analysis)));
console.log(row(`cellflow whole compile (+ KFP IR, ${yamlKiB} KiB), cold`, median(cold)));
console.log(row('cellflow whole compile after a one-cell edit', median(edit)));
console.log(
  `editor re-check after a one-cell edit (NotebookAnalyzer): names kept ${median(recheck).toFixed(1)} ms, a new name bound ${median(recheckNewName).toFixed(1)} ms`,
);
console.log(
  `CPU time: pyflakes ${pyflakesCpuMs.toFixed(1)} ms, cellflow whole compile cold ${median(coldCpu).toFixed(1)} ms, pyflakes/cellflow ${(pyflakesCpuMs / median(coldCpu)).toFixed(2)}x`,
);
console.log('targets: pyflakes/cellflow cold >= 5x; re-check < 16 ms');
console.log(
  `compile: pyflakes/cellflow cold ${(pyflakesMs / median(cold)).toFixed(2)}x, re-check ${median(recheck).toFixed(1)} ms`,
);
