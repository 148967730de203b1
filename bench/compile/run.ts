/**
 * Compile speed: a 1,000-cell / 200-step notebook through the whole Cellflow compiler, against
 * pyflakes (Kale's analysis engine) analysing the same step code in-process, in the same run.
 * Prints times and the ratio; targets: compile < 300 ms, >= 5x faster than pyflakes.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile, hasErrors } from '@cellflow/core';
import { syntheticNotebook } from './synthetic-notebook.js';

const STEPS = 200;
const CELLS_PER_STEP = 5;
const ROUNDS = 7;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const notebook = syntheticNotebook(STEPS, CELLS_PER_STEP);
const cellCount = (JSON.parse(notebook) as { cells: unknown[] }).cells.length;
const first = compile(notebook);
if (hasErrors(first.diagnostics) || first.pipeline === undefined) {
  throw new Error(
    `synthetic notebook does not compile: ${JSON.stringify(first.diagnostics.slice(0, 3))}`,
  );
}
const times: number[] = [];
for (let i = 0; i < ROUNDS; i++) {
  const t0 = performance.now();
  compile(notebook);
  times.push(performance.now() - t0);
}
const cellflowMs = median(times);

// The same step code, as pyflakes sees it: one module per step (imports and functions prepended).
const { graph, code } = first.pipeline;
const modules = graph.steps.map((s) =>
  [...graph.preludeCells, ...s.cells].map((c) => code.get(c) ?? '').join('\n'),
);
const dir = mkdtempSync(join(tmpdir(), 'cellflow-bench-'));
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
for _ in range(${ROUNDS}):
    t0 = time.perf_counter()
    for i, m in enumerate(modules):
        api.check(m, "step%d" % i, Quiet())
    times.append((time.perf_counter() - t0) * 1000)
times.sort()
print(times[len(times) // 2])
`;
  const pyflakesMs = Number(
    execFileSync('/usr/bin/python3', ['-c', script, join(dir, 'modules.json')], {
      encoding: 'utf8',
    }).trim(),
  );
  const yamlKb = Math.round((first.yaml?.length ?? 0) / 1024);
  console.log(`notebook: ${cellCount} cells, ${graph.steps.length} steps`);
  console.log(
    `cellflow compile (parse, analyse, graph, KFP IR ${yamlKb} KiB): median ${cellflowMs.toFixed(1)} ms (target < 300 ms)`,
  );
  console.log(
    `pyflakes analysing the same step code in-process:      median ${pyflakesMs.toFixed(1)} ms`,
  );
  console.log(`ratio pyflakes / cellflow: ${(pyflakesMs / cellflowMs).toFixed(2)}x (target >= 5x)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
