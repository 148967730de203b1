/**
 * The one fold of run events (`applyRunEvent`, `@cellflow/protocol`) over a real run's events ends
 * where the backend's own record of the run ends: a retried step, a failing step and the step it
 * cancels, replayed event by event, give the states, attempts, failures and metrics `listRuns` has.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { LocalBackend } from '@cellflow/backend';
import { applyRunEvent, queuedRun } from '@cellflow/protocol';
import { code, compileNotebook, notebook, PYTHON, runToEnd, tempDir } from './support/notebooks.js';

describe('applyRunEvent over a local run', () => {
  const work = tempDir('run-progress');
  after(work.remove);
  const backend = new LocalBackend({ workspace: work.dir, python: PYTHON });

  it("folds the run's events into what listRuns reports", async () => {
    const { pipeline } = compileNotebook(
      notebook([
        code('import os', ['imports']),
        code(
          'n = int(open("tries.txt").read()) + 1 if os.path.exists("tries.txt") else 1\n' +
            'open("tries.txt", "w").write(str(n))\n' +
            'if n < 2:\n    raise RuntimeError("flaky")\nflaky_value = n',
          ['step:flaky', 'retries:2'],
        ),
        code('broken_value = 1 / 0', ['step:broken']),
        code('after_value = broken_value + flaky_value', ['step:after']),
      ]),
      work.dir,
      'replay.ipynb',
    );
    const run = await runToEnd(backend, pipeline, { cache: false });
    const folded = run.events.reduce(
      applyRunEvent,
      queuedRun(
        run.ref.id,
        pipeline.graph.steps.map((s) => s.name),
      ),
    );
    assert.equal(run.summary.state, 'failed');
    assert.equal(folded.state, run.summary.state);
    assert.equal(folded.durationMs, run.summary.durationMs);
    assert.deepEqual(folded.metrics, run.summary.metrics);
    const byName = new Map(folded.steps.map((s) => [s.name, s]));
    for (const step of run.summary.steps) {
      const mine = byName.get(step.name);
      assert.ok(mine !== undefined, step.name);
      assert.deepEqual(
        {
          state: mine.state,
          attempt: mine.attempt,
          startedAt: mine.startedAt,
          finishedAt: mine.finishedAt,
          durationMs: mine.durationMs,
          failure: mine.failure,
        },
        {
          state: step.state,
          attempt: step.attempts,
          startedAt: step.startedAt,
          finishedAt: step.finishedAt,
          durationMs: step.durationMs,
          failure: step.state === 'failed' ? step.failure : undefined,
        },
        step.name,
      );
    }
    assert.deepEqual(
      folded.steps.map((s) => [s.name, s.state, s.attempt]),
      [
        ['flaky', 'succeeded', 2],
        ['broken', 'failed', 1],
        ['after', 'cancelled', 0],
      ],
    );
    assert.equal(byName.get('broken')?.failure?.type, 'ZeroDivisionError');
  });
});
