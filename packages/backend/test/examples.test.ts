/**
 * The examples run on this machine with real Python and give what the notebook gives when run top
 * to bottom in Jupyter: the same metrics and the same printed output, step by step.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { compile } from '@cellflow/core';
import { LocalBackend } from '@cellflow/backend';
import {
  PYTHON,
  readNotebook,
  repoRoot,
  runToEnd,
  stepStates,
  tempDir,
} from './support/notebooks.js';
import { processesOfRun } from './support/processes.js';
import { runNotebookTopToBottom } from './support/reference-run.js';

describe('examples: a local run equals the notebook run top to bottom', () => {
  const work = tempDir('examples');
  after(work.remove);
  const backend = new LocalBackend({ workspace: work.dir, python: PYTHON });

  for (const name of ['digits', 'word-count']) {
    it(name, async () => {
      const path = join(repoRoot, 'examples', `${name}.ipynb`);
      const result = compile(readFileSync(path), { fileName: `${name}.ipynb` });
      assert.deepEqual(result.diagnostics, [], 'examples compile without any diagnostic');
      const pipeline = result.pipeline!;
      const reference = runNotebookTopToBottom(readNotebook(path), work.dir, pipeline.graph, name);

      const run = await runToEnd(backend, pipeline, { notebookPath: path });
      assert.equal(run.final.state, 'succeeded', JSON.stringify(run.summary, null, 2));
      assert.ok(Object.values(stepStates(run)).every((s) => s === 'succeeded'));
      assert.deepEqual(run.final.metrics, reference.metrics);
      assert.ok(Object.keys(reference.metrics).length >= 3);

      for (const step of pipeline.graph.steps) {
        const printed = step.cells.map((c) => reference.stdoutOf(c)).join('');
        const lines: string[] = [];
        for await (const line of backend.logs(run.ref, step.name)) lines.push(line);
        assert.ok(
          lines.join('\n').includes(printed.trimEnd()),
          `step ${step.name} prints what its cells print in Jupyter:\n${printed}\n--- got:\n${lines.join('\n')}`,
        );
      }
      const listed = await backend.listRuns({ pipeline: pipeline.graph.pipeline.name });
      assert.equal(listed[0]?.id, run.ref.id);
      assert.deepEqual(listed[0]?.metrics, reference.metrics);
      assert.deepEqual(processesOfRun(run.ref.id), []);
      const record = JSON.parse(
        readFileSync(join(work.dir, '.cellflow/runs', run.ref.id, 'run.json'), 'utf8'),
      );
      const cores = availableParallelism();
      assert.equal(
        record.options.threadsPerStep,
        Math.min(cores, 3) > 1
          ? Math.max(1, Math.floor(cores / Math.min(cores, name === 'digits' ? 3 : 2)))
          : null,
        'parallel steps share the cores instead of each starting a thread per core',
      );
    });
  }
});
