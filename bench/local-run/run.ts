/**
 * Local runs against Jupyter: `cellflow run examples/digits.ipynb` (the built CLI, as a user runs
 * it) against `jupyter nbconvert --to notebook --execute` of the same notebook, in the same run on
 * the same machine, rounds interleaved so both see the same load.
 *   (a) cold full run (empty cache)                       target ratio <= 1.0
 *   (b) re-run after editing the last step (warm cache)   target ratio <= 0.25
 *   (c) per-step overhead of the runner: a chain of empty steps, in-process through LocalBackend
 * Run with `npm run bench:local-run` (builds first). Not a test: prints numbers.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile, type CompiledPipeline } from '@cellflow/core';
import { LocalBackend } from '@cellflow/backend';
import { PYTHON } from '../../test/support/paths.js';
import { REPO_ROOT as repoRoot } from '../../test/support/paths.js';

const ROUNDS = 3;
const CHAIN = 30;
const cli = join(repoRoot, 'packages/cli/bin/cellflow.js');
const work = mkdtempSync(join(tmpdir(), 'cellflow-bench-local-'));

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timedMs(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

function nbconvert(notebook: string): number {
  return timedMs(() =>
    execFileSync(
      PYTHON,
      [
        '-m',
        'nbconvert',
        '--to',
        'notebook',
        '--execute',
        notebook,
        '--output',
        `${notebook}.out.ipynb`,
      ],
      { stdio: 'pipe', env: { ...process.env, PYDEVD_DISABLE_FILE_VALIDATION: '1' } },
    ),
  );
}

function cellflowRun(notebook: string, workspace: string): number {
  return timedMs(() =>
    execFileSync(
      process.execPath,
      [cli, 'run', notebook, '--workspace', workspace, '--python', PYTHON],
      {
        stdio: 'pipe',
      },
    ),
  );
}

/** digits with the last step's cell changed (a new line at its end). */
function editLastStep(source: string, path: string, round: number): void {
  const nb = JSON.parse(source) as { cells: { id?: string; source: string[] }[] };
  const cell = nb.cells.find((c) => c.id === 'pick-best');
  if (cell === undefined) throw new Error('digits has no cell `pick-best`');
  cell.source = [...cell.source, `\nprint("edit ${round}")`];
  writeFileSync(path, JSON.stringify(nb));
}

function emptyChain(steps: number): CompiledPipeline {
  const cells = Array.from({ length: steps }, (_, i) => ({
    cell_type: 'code',
    metadata: { tags: [`step:s${i}`, ...(i > 0 ? [`prev:s${i - 1}`] : [])] },
    source: 'pass',
    outputs: [],
    execution_count: null,
  }));
  const result = compile(JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells }));
  if (result.pipeline === undefined) throw new Error(JSON.stringify(result.diagnostics));
  return result.pipeline;
}

async function runMs(backend: LocalBackend, pipeline: CompiledPipeline): Promise<number> {
  const t0 = performance.now();
  const ref = await backend.submit(pipeline, { cache: false });
  for await (const event of backend.watch(ref)) {
    if (event.type === 'run' && event.state === 'failed') throw new Error(JSON.stringify(event));
  }
  return performance.now() - t0;
}

/** (total time of a chain of CHAIN empty steps - one empty step) / (CHAIN - 1). */
async function perStepOverheadMs(warm: boolean): Promise<number> {
  const backend = new LocalBackend({
    workspace: join(work, `chain-${warm}`),
    python: PYTHON,
    warm,
  });
  const one = emptyChain(1);
  const chain = emptyChain(CHAIN);
  await runMs(backend, chain); // warm-up: file cache, first interpreter start
  const single: number[] = [];
  const many: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    single.push(await runMs(backend, one));
    many.push(await runMs(backend, chain));
  }
  return (median(many) - median(single)) / (CHAIN - 1);
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

try {
  const digits = join(work, 'digits.ipynb');
  cpSync(join(repoRoot, 'examples/digits.ipynb'), digits);
  const original = readFileSync(digits, 'utf8');
  console.log(
    `Local run vs jupyter nbconvert --execute, examples/digits.ipynb; ${availableParallelism()} cores, ` +
      `load average ${loadavg()[0]!.toFixed(1)}; median of ${ROUNDS} interleaved rounds.`,
  );

  const coldLocal: number[] = [];
  const coldJupyter: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    coldJupyter.push(nbconvert(digits));
    coldLocal.push(cellflowRun(digits, join(work, `cold-${i}`)));
  }
  const a = median(coldLocal) / median(coldJupyter);
  console.log(
    `(a) cold full run:                 cellflow ${seconds(median(coldLocal))}, nbconvert ${seconds(median(coldJupyter))}, ratio ${a.toFixed(2)} (target <= 1.0)`,
  );

  const warmWorkspace = join(work, 'warm');
  cellflowRun(digits, warmWorkspace);
  const editLocal: number[] = [];
  const editJupyter: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    editLastStep(original, digits, i);
    editJupyter.push(nbconvert(digits));
    editLastStep(original, digits, i + ROUNDS);
    editLocal.push(cellflowRun(digits, warmWorkspace));
  }
  const b = median(editLocal) / median(editJupyter);
  console.log(
    `(b) re-run after editing the last step: cellflow ${seconds(median(editLocal))}, nbconvert ${seconds(median(editJupyter))}, ratio ${b.toFixed(2)} (target <= 0.25)`,
  );

  const warmOverhead = await perStepOverheadMs(true);
  const freshOverhead = await perStepOverheadMs(false);
  console.log(
    `(c) runner overhead per empty step: ${warmOverhead.toFixed(0)} ms forked from the warm interpreter, ` +
      `${freshOverhead.toFixed(0)} ms with a fresh interpreter per step (chain of ${CHAIN}, in-process LocalBackend)`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
