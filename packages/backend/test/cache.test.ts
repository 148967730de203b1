/**
 * Content-hash caching: an unchanged step is not run again; editing one cell re-runs that step and
 * the steps whose inputs changed as a result, nothing else.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LocalBackend } from '@cellflow/backend';
import {
  code,
  compileNotebook,
  PYTHON,
  readNotebook,
  repoRoot,
  runToEnd,
  sourceOf,
  stepStates,
  tempDir,
  type NotebookJson,
} from './support/notebooks.js';

const WORD_COUNT = join(repoRoot, 'examples', 'word-count.ipynb');

/** word-count with the cell whose id is `id` changed by `edit`. */
function edited(id: string, edit: (source: string) => string): NotebookJson {
  const nb = readNotebook(WORD_COUNT);
  const cell = (nb.cells as (NotebookJson['cells'][number] & { id?: string })[]).find(
    (c) => c.id === id,
  );
  assert.ok(cell !== undefined, `word-count has a cell ${id}`);
  const before = sourceOf(cell);
  cell.source = edit(before);
  assert.notEqual(cell.source, before, 'the edit changes the cell');
  return nb;
}

function ran(states: Record<string, string>): string[] {
  return Object.keys(states).filter((s) => states[s] === 'succeeded');
}

describe('step cache', () => {
  const work = tempDir('cache');
  after(work.remove);
  const backend = new LocalBackend({ workspace: work.dir, python: PYTHON });
  const original = compileNotebook(readNotebook(WORD_COUNT), work.dir, 'word-count.ipynb').pipeline;
  let first: Awaited<ReturnType<typeof runToEnd>>;

  it('a second run of the same notebook reuses every step', async () => {
    first = await runToEnd(backend, original);
    assert.equal(first.final.state, 'succeeded');
    assert.deepEqual(ran(stepStates(first)), [
      'load_text',
      'tokenize',
      'count_words',
      'count_letters',
      'report',
    ]);
    const second = await runToEnd(backend, original);
    assert.equal(second.final.state, 'succeeded');
    assert.ok(
      second.summary.steps.every((s) => s.state === 'cached' && s.cachedFrom === first.ref.id),
    );
    assert.deepEqual(
      second.final.metrics,
      first.final.metrics,
      'metrics of cached steps are reported again',
    );
    const reused = join(
      work.dir,
      '.cellflow/runs',
      second.ref.id,
      'steps/count_words/outputs/top_words/cellflow-value.json',
    );
    assert.ok(existsSync(reused), 'cached outputs are present in the new run');
    const log = readFileSync(
      join(work.dir, '.cellflow/runs', second.ref.id, 'steps/report/log.txt'),
      'utf8',
    );
    assert.match(
      log,
      /^\[cellflow\] cached: same code, inputs and parameters as step `report` of run /,
    );
    assert.match(log, /most common letters/, "the earlier run's log follows");
  });

  it('--no-cache runs every step', async () => {
    const run = await runToEnd(backend, original, { cache: false });
    assert.equal(ran(stepStates(run)).length, 5);
  });

  it('editing the last step re-runs only that step', async () => {
    const nb = edited('report', (s) => `${s}\nprint("edited")`);
    const run = await runToEnd(backend, compileNotebook(nb, work.dir, 'wc-last.ipynb').pipeline);
    assert.equal(run.final.state, 'succeeded');
    assert.deepEqual(ran(stepStates(run)), ['report']);
  });

  it('editing a middle step re-runs it and the steps whose inputs changed', async () => {
    const nb = edited('count-letters', (s) => s.replace('most_common(5)', 'most_common(3)'));
    const run = await runToEnd(backend, compileNotebook(nb, work.dir, 'wc-middle.ipynb').pipeline);
    assert.deepEqual(ran(stepStates(run)), ['count_letters', 'report']);
    assert.equal(stepStates(run).count_words, 'cached', 'a sibling branch is untouched');
  });

  it('an edit that leaves the outputs unchanged stops there: later steps stay cached', async () => {
    const nb = edited(
      'count-words',
      (s) => `# the ${s.split('\n').length} lines below count words\n${s}`,
    );
    const run = await runToEnd(backend, compileNotebook(nb, work.dir, 'wc-comment.ipynb').pipeline);
    assert.deepEqual(ran(stepStates(run)), ['count_words']);
    assert.equal(stepStates(run).report, 'cached');
  });

  it('a parameter re-runs the steps that read it, and those downstream', async () => {
    const run = await runToEnd(backend, original, { parameters: { TOP_N: 3 } });
    assert.deepEqual(ran(stepStates(run)), ['count_words', 'report']);
    assert.equal(run.final.metrics['top-count'], first.final.metrics['top-count']);
  });

  it('cells added above keep every step cached; a failure still names its cell where it is now', async () => {
    const nb = readNotebook(WORD_COUNT);
    const note = { cell_type: 'markdown', metadata: {}, source: '# A note added on top' };
    nb.cells.splice(0, 0, note as NotebookJson['cells'][number]);
    nb.cells.splice(3, 0, code('scratch = 1  # tried something', ['skip']));
    const shifted = compileNotebook(nb, work.dir, 'wc-shifted.ipynb').pipeline;
    const run = await runToEnd(backend, shifted);
    assert.equal(run.final.state, 'succeeded');
    assert.deepEqual(ran(stepStates(run)), [], 'nothing ran again');
    assert.deepEqual(run.final.metrics, first.final.metrics);

    // The report cell was at index 11; it is at 13 now (`<cell 14>` to a person), and the failure says so.
    const report = nb.cells.findIndex((c) => c.metadata.tags?.includes('step:report'));
    assert.equal(report, 13);
    const cell = nb.cells[report]!;
    cell.source = `${sourceOf(cell)}\nraise ValueError("report broke")`;
    const failing = compileNotebook(nb, work.dir, 'wc-shifted-failing.ipynb').pipeline;
    const failed = await runToEnd(backend, failing);
    assert.equal(failed.final.state, 'failed');
    assert.deepEqual(ran(stepStates(failed)), []);
    const failure = failed.events.find((e) => e.type === 'step' && e.state === 'failed');
    assert.ok(failure?.type === 'step' && failure.failure !== undefined);
    assert.equal(failure.failure.cell, 13);
    assert.match(failure.failure.message, /ValueError: report broke/);
  });

  it('a cache entry whose run was deleted is not used', async () => {
    const run = await runToEnd(backend, original, { parameters: { MIN_LENGTH: 5 } });
    rmSync(join(work.dir, '.cellflow/runs', run.ref.id), { recursive: true });
    const again = await runToEnd(backend, original, { parameters: { MIN_LENGTH: 5 } });
    assert.deepEqual(ran(stepStates(again)), [
      'tokenize',
      'count_words',
      'count_letters',
      'report',
    ]);
  });
});
