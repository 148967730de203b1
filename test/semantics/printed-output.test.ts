/**
 * Issue 13's contract on its reproducers: every cell of a pipeline run prints exactly what the
 * same cell prints when Jupyter runs the notebook top to bottom (`jupyter nbconvert --execute`).
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
import { fidelityEnv, nbconvert, PYTHON } from '../support/fidelity-reference.js';

const run = promisify(execFile);

const FIXTURES = [
  'issue-13-reproducers',
  'issue-13-kale-blocks',
  'kale-seed-in-imports',
  'kale-alias-partner-load',
  'kale-rebound-alias',
  'process-state',
];
const work = mkdtempSync(join(tmpdir(), 'cellflow-printed-'));
after(() => rmSync(work, { recursive: true, force: true }));

async function jupyterStdout(notebook: string, name: string): Promise<Map<number, string>> {
  // Jupyter writes its executed copy beside the notebook: run a copy in the scratch folder.
  const copy = join(work, `${name}.ipynb`);
  copyFileSync(notebook, copy);
  const { run, stdout } = await nbconvert(copy, work, 0);
  assert.ok(stdout, `Jupyter runs ${name}:\n${run.output}`);
  return stdout;
}

async function pipelineStdout(notebook: string, name: string): Promise<Map<number, string>> {
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
  for (const step of readdirSync(join(runDir, 'steps'))) {
    const result = JSON.parse(readFileSync(join(runDir, 'steps', step, 'result.json'), 'utf8'));
    for (const c of result.cells as { cell: number; stdout: string }[])
      printed.set(c.cell, (printed.get(c.cell) ?? '') + c.stdout);
  }
  return printed;
}

/** `%%time`'s durations differ from run to run; its lines must not. */
function withoutTimes(text: string): string {
  return text.replace(/\d[\d.]*\s?(?:ns|µs|ms|s|min|h|d)\b/g, 'T');
}

describe('issue 13: a pipeline run prints what the notebook prints, cell by cell', () => {
  for (const name of FIXTURES) {
    it(name, async () => {
      const notebook = join(repoRoot, 'test/fixtures/notebooks', `${name}.ipynb`);
      const [expected, actual] = await Promise.all([
        jupyterStdout(notebook, name),
        pipelineStdout(notebook, name),
      ]);
      assert.ok([...expected.values()].filter((t) => t !== '').length >= 2, 'the notebook prints');
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
    });
  }
});
