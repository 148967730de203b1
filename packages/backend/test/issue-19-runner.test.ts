/**
 * Issue 19, the local runner: long timers, bounded logs, private history, no orphans after the
 * supervisor dies, parameters that look secret stored redacted, runs whose runner is gone.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { LocalBackend } from '@cellflow/backend';
import {
  code,
  compileNotebook,
  notebook,
  PYTHON,
  runToEnd,
  stepStates,
  tempDir,
} from './support/notebooks.js';

describe('issue 19: the local runner under hostile input and faults', () => {
  const work = tempDir('issue-19-runner');
  after(work.remove);
  const backend = new LocalBackend({ workspace: work.dir, python: PYTHON });

  it('a `timeout:25d` step runs to its end (no 32-bit timer overflow)', async () => {
    const { pipeline } = compileNotebook(
      notebook(
        [code('import time\ntime.sleep(0.5)\nx = 1', ['step:slow', 'timeout:25d'])],
        'long-timeout',
      ),
      work.dir,
      'long-timeout.ipynb',
    );
    const run = await runToEnd(backend, pipeline);
    assert.deepEqual(stepStates(run), { slow: 'succeeded' });
  });
});
