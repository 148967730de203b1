/**
 * The failure line the step runtime writes (real Python, the runtime every local and cluster step
 * runs) read back by core's `readStepFailure`, the parser a cluster run uses on a pod's log: for a
 * cell that raises, a missing module and a refusal of the runtime's own (a value it cannot save), it finds what the local
 * backend recorded from the step's result.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { readStepFailure } from '@cellflow/core';
import { LocalBackend } from '@cellflow/backend';
import { code, compileNotebook, notebook, PYTHON, runToEnd, tempDir } from './support/notebooks.js';

describe("the runtime's failure line through core's parser", () => {
  const work = tempDir('failure-line');
  after(work.remove);
  const backend = new LocalBackend({ workspace: work.dir, python: PYTHON });

  it('gives the message, cell, line, type and traceback the step reported', async () => {
    const { pipeline } = compileNotebook(
      notebook([
        code('import os', ['imports']),
        code('print("working")\na = 1\nb = 0\nboom_value = a / b', ['step:boom']),
        code(
          'def make_lock():\n    import threading\n    return threading.Lock()\n\nlock = make_lock()',
          ['step:lock'],
        ),
        code('print(lock.locked())', ['step:uses']),
        code('# two lines\nimport no_such_module_for_cellflow_failure\nneeds_value = 1', [
          'step:needs',
        ]),
      ]),
      work.dir,
      'failing.ipynb',
    );
    const run = await runToEnd(backend, pipeline, { cache: false });
    const checked: string[] = [];
    for (const step of run.summary.steps) {
      const failure = step.failure;
      if (step.state !== 'failed' || failure === undefined) continue;
      const lines: string[] = [];
      for await (const line of backend.logs(run.ref, step.name)) lines.push(line);
      const report = readStepFailure(lines.join('\n'));
      assert.ok(report !== undefined, `${step.name}: no failure line in ${lines.join('\n')}`);
      if (failure.kind === 'exception') {
        assert.deepEqual(
          report,
          {
            message: failure.message,
            cell: failure.cell,
            line: failure.line,
            type: failure.type,
            traceback: failure.traceback?.trimEnd(),
          },
          step.name,
        );
      } else {
        assert.equal(report.message, failure.message, step.name);
        assert.equal(report.cell, null);
      }
      checked.push(`${step.name}:${failure.kind}`);
    }
    assert.deepEqual(checked.sort(), ['boom:exception', 'lock:unpicklable', 'needs:exception']);
    const boom = run.summary.steps.find((s) => s.name === 'boom')!.failure!;
    assert.equal(boom.cell, 1);
    assert.equal(boom.line, 4);
    assert.equal(boom.type, 'ZeroDivisionError');
  });

  it('has nothing to say about a log without a failure line', () => {
    assert.equal(readStepFailure('working\nCellflow-ish text\nall fine\n'), undefined);
  });
});
