/**
 * Issue 19, the local runner: long timers, bounded logs, private history, no orphans after the
 * supervisor dies, parameters that look secret stored redacted, runs whose runner is gone.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
import { processesOfRun } from './support/processes.js';

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

  it('a 50 MB line of progress bars: logs() reads it in linear time, the tail is short', async () => {
    const { pipeline } = compileNotebook(
      notebook(
        [
          code(
            'import sys\nfor i in range(50):\n    sys.stdout.write(("%07d " % i) * 131072 + "\\r")\nraise ValueError("boom")',
            ['step:bars'],
          ),
        ],
        'progress-bars',
      ),
      work.dir,
      'progress-bars.ipynb',
    );
    const run = await runToEnd(backend, pipeline);
    assert.equal(run.final.state, 'failed');
    const started = Date.now();
    let characters = 0;
    for await (const line of backend.logs(run.ref, 'bars')) characters += line.length;
    const readMs = Date.now() - started;
    assert.ok(characters > 50_000_000, `read ${characters} characters`);
    assert.ok(readMs < 15_000, `logs() took ${readMs} ms`);
    const tail = await backend.logTail(run.ref, 'bars', 12);
    assert.ok(
      tail.every((l) => l.length < 600),
      'every tail line is shortened',
    );
    assert.match(tail.join('\n'), /ValueError: boom/);
  });

  it('a step log is capped (CELLFLOW_MAX_LOG_BYTES), with a note of what was cut', async () => {
    const capped = new LocalBackend({ workspace: work.dir, python: PYTHON, maxLogBytes: 1 << 20 });
    const { pipeline } = compileNotebook(
      notebook(
        [
          code(
            'import sys, time\nfor i in range(40):\n    sys.stdout.write(("line %d\\n" % i) * 100000)\n    sys.stdout.flush()\n    time.sleep(0.02)\nprint("last line")',
            ['step:loud'],
          ),
        ],
        'loud',
      ),
      work.dir,
      'loud.ipynb',
    );
    const run = await runToEnd(capped, pipeline);
    assert.equal(run.final.state, 'succeeded');
    const log = join(work.dir, '.cellflow/runs', run.ref.id, 'steps/loud/log.txt');
    const size = statSync(log).size;
    assert.ok(size < 8 << 20, `the log holds ${size} bytes, the step printed about 30 MB`);
    const text = readFileSync(log, 'utf8');
    assert.match(text, /^line 0\n/);
    assert.match(text, /The log reached its cap of 1048576 bytes/);
    assert.match(text, /last line\n/);
    assert.match(text, /\d+ bytes of this step's output were cut/);
  });

  it('a run whose recorded runner pid now belongs to another process is shown interrupted', async () => {
    const { pipeline } = compileNotebook(
      notebook([code('x = 1', ['step:a'])], 'pid-reuse'),
      work.dir,
      'pid-reuse.ipynb',
    );
    const run = await runToEnd(backend, pipeline);
    const path = join(work.dir, '.cellflow/runs', run.ref.id, 'run.json');
    const record = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    // As a runner that died mid-run left it, with its pid since given to a live process (pid 1).
    writeFileSync(
      path,
      JSON.stringify({ ...record, state: 'running', runnerPid: 1, runnerStartTicks: '1' }),
    );
    const fresh = new LocalBackend({ workspace: work.dir, python: PYTHON });
    const summary = (await fresh.listRuns()).find((r) => r.id === run.ref.id);
    assert.equal(summary?.state, 'cancelled');
    const pruned = await fresh.pruneRuns({ keep: 0, dryRun: true });
    assert.ok(
      pruned.deleted.some((r) => r.id === run.ref.id),
      'prune no longer keeps it as still running',
    );
  });

  it('no process outlives its run when the step supervisor is SIGKILLed', async () => {
    const { pipeline } = compileNotebook(
      notebook(
        [
          code('import os, signal, subprocess, time', ['imports']),
          code(
            'subprocess.Popen(["sleep", "300"], start_new_session=True)\n' +
              'subprocess.Popen(["sh", "-c", "trap \\"\\" TERM; sleep 301"], start_new_session=True)\n' +
              'time.sleep(0.3)\n' +
              'os.kill(os.getppid(), signal.SIGKILL)  # the supervisor, as the OOM killer would\n' +
              'time.sleep(0.5)\nx = 1',
            ['step:first'],
          ),
          code('subprocess.Popen(["sleep", "302"], start_new_session=True)\ny = 2', [
            'step:second',
          ]),
        ],
        'supervisor-killed',
      ),
      work.dir,
      'supervisor-killed.ipynb',
    );
    const run = await runToEnd(backend, pipeline);
    assert.ok(run.final.state === 'succeeded' || run.final.state === 'failed');
    assert.deepEqual(processesOfRun(run.ref.id), [], 'no process of the run is left');
  });
});
