/**
 * Issue 13's contract on its reproducers: every cell of a pipeline run prints exactly what the
 * same cell prints when Jupyter runs the notebook top to bottom (`jupyter nbconvert --execute`),
 * and shows the same result (its `text/plain`, memory addresses aside).
 * Each fixture runs with `cellflow run` (real step processes, data only through saved outputs).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot } from '../golden/golden-cases.js';
import { cellflowCli } from '../support/fidelity-pipeline.js';
import { fidelityEnv, nbconvert, PYTHON, resultText } from '../support/fidelity-reference.js';

const run = promisify(execFile);

const FIXTURES = [
  'issue-13-reproducers',
  'issue-13-kale-blocks',
  'kale-seed-in-imports',
  'kale-alias-partner-load',
  'kale-rebound-alias',
  'process-state',
  'results-display',
  'open-resources',
  'module-state',
  'run-magic',
  'shown-history',
  'capture-magic',
  'cleared-output',
  'ipython-input',
  'shell-settings',
];
const work = mkdtempSync(join(tmpdir(), 'cellflow-printed-'));
after(() => rmSync(work, { recursive: true, force: true }));

interface Shown {
  readonly stdout: Map<number, string>;
  readonly results: Map<number, string>;
}

async function jupyterShows(notebook: string, name: string): Promise<Shown> {
  // Jupyter writes its executed copy beside the notebook: run a copy in the scratch folder.
  const copy = join(work, `${name}.ipynb`);
  copyFileSync(notebook, copy);
  const { run, stdout, results } = await nbconvert(copy, work, 0);
  assert.ok(stdout && results, `Jupyter runs ${name}:\n${run.output}`);
  return { stdout, results };
}

async function pipelineShows(notebook: string, name: string): Promise<Shown> {
  // Steps run in the notebook's folder, as Jupyter does, and may write files there: run a copy.
  const workspace = join(work, name);
  mkdirSync(workspace);
  const copy = join(workspace, `${name}.ipynb`);
  copyFileSync(notebook, copy);
  await run(
    process.execPath,
    [cellflowCli(), 'run', copy, '--python', PYTHON, '--no-cache', '--workspace', workspace],
    { cwd: work, env: fidelityEnv(), timeout: 120_000 },
  );
  const runs = join(workspace, '.cellflow', 'runs');
  const runDir = join(runs, readdirSync(runs)[0]!);
  const printed = new Map<number, string>();
  const results = new Map<number, string>();
  for (const step of readdirSync(join(runDir, 'steps'))) {
    const stepDir = join(runDir, 'steps', step);
    const result = JSON.parse(readFileSync(join(stepDir, 'result.json'), 'utf8'));
    for (const c of result.cells as { cell: number; stdout: string }[])
      printed.set(c.cell, (printed.get(c.cell) ?? '') + c.stdout);
    const executed = JSON.parse(readFileSync(join(stepDir, 'cell-outputs.json'), 'utf8'));
    for (const c of executed.cells as {
      cell: number;
      outputs: Parameters<typeof resultText>[0];
    }[]) {
      const text = resultText(c.outputs);
      if (text !== undefined) results.set(c.cell, text);
    }
  }
  return { stdout: printed, results };
}

/** Objects without a repr of their own show their address, which differs from run to run. */
function withoutAddresses(text: string): string {
  return text.replace(/ at 0x[0-9a-f]+/g, ' at 0x…');
}

/** `%%time`'s durations differ from run to run (`1e+03 ns` too); its lines must not. */
function withoutTimes(text: string): string {
  return text.replace(/\d[\d.]*(?:e[+-]?\d+)?\s?(?:ns|µs|ms|s|min|h|d)\b/g, 'T');
}

describe('issue 13: a pipeline run prints what the notebook prints, cell by cell', () => {
  for (const name of FIXTURES) {
    it(name, async () => {
      const notebook = join(repoRoot, 'test/fixtures/notebooks', `${name}.ipynb`);
      const [jupyter, pipeline] = await Promise.all([
        jupyterShows(notebook, name),
        pipelineShows(notebook, name),
      ]);
      const expected = jupyter.stdout;
      const actual = pipeline.stdout;
      const shown = [...expected.values(), ...jupyter.results.values()];
      assert.ok(shown.filter((t) => t !== '').length >= 2, 'the notebook prints or shows results');
      // Cells tagged `skip` are not part of the pipeline.
      const cells = JSON.parse(readFileSync(notebook, 'utf8')).cells as {
        metadata: { tags?: string[] };
      }[];
      for (const [cell, text] of expected) {
        if (cells[cell]?.metadata.tags?.includes('skip')) continue;
        assert.equal(
          withoutTimes(actual.get(cell) ?? ''),
          withoutTimes(text),
          `cell ${cell} prints what Jupyter prints`,
        );
      }
      for (const [cell, text] of jupyter.results) {
        if (cells[cell]?.metadata.tags?.includes('skip')) continue;
        assert.equal(
          withoutAddresses(pipeline.results.get(cell) ?? '<no result>'),
          withoutAddresses(text),
          `cell ${cell} shows the result Jupyter shows`,
        );
      }
      for (const cell of pipeline.results.keys())
        assert.ok(jupyter.results.has(cell), `cell ${cell} shows no result, as in Jupyter`);
    });
  }
});
