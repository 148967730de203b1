/**
 * Faults: a step that raises, exits with os._exit, is killed by SIGKILL, hangs past its timeout,
 * or is cancelled. Each ends with the right statuses, nothing left in the process table, the
 * outputs of earlier steps intact, and history that says what happened.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LocalBackend, type RunRef } from '@cellflow/backend';
import {
  code,
  compileNotebook,
  notebook,
  PYTHON,
  runToEnd,
  savedJsonValue,
  stepStates,
  tempDir,
  type FinishedRun,
} from './support/notebooks.js';
import { processesOfRun } from './support/processes.js';
import { waitFor } from '../../../test/support/wait-for.js';

const IMPORTS = code('import os\nimport signal\nimport subprocess\nimport sys\nimport time', [
  'imports',
]);
const PREPARE = code('base = 21', ['step:prepare']);
/** Starts grandchildren: one in the step's group that ignores SIGTERM, one in a new session. */
const GRANDCHILDREN =
  'subprocess.Popen(["sh", "-c", "trap \\"\\" TERM; sleep 300"])\n' +
  'subprocess.Popen(["sleep", "301"], start_new_session=True)\n';

function faulty(step: string, body: string, extraTags: string[] = []): ReturnType<typeof notebook> {
  return notebook([
    IMPORTS,
    PREPARE,
    code(body, [`step:${step}`, 'prev:prepare', ...extraTags]),
    code(`after = ${step}_value + base`, ['step:downstream']),
    code('other = base + 1', ['step:independent', 'prev:prepare']),
    code('print(other)', ['pipeline-metrics']),
  ]);
}

/** What every faulty run must show besides the fault itself. */
function assertAftermath(work: string, run: FinishedRun, faultState: string): void {
  assert.deepEqual(stepStates(run), {
    prepare: 'succeeded',
    [run.summary.steps[1]!.name]: faultState,
    downstream: 'cancelled',
    independent: 'succeeded',
  });
  assert.equal(run.final.state, faultState === 'cancelled' ? 'cancelled' : 'failed');
  assert.deepEqual(processesOfRun(run.ref.id), [], 'no process of the run is left');
  assert.equal(
    savedJsonValue(work, run.ref.id, 'prepare', 'base'),
    21,
    'earlier outputs are intact',
  );
  const record = JSON.parse(
    readFileSync(join(work, '.cellflow/runs', run.ref.id, 'run.json'), 'utf8'),
  );
  assert.equal(record.state, run.final.state, 'run.json holds the final state');
  assert.deepEqual(
    Object.fromEntries(record.steps.map((s: { name: string; state: string }) => [s.name, s.state])),
    stepStates(run),
  );
  const replayed = readFileSync(join(work, '.cellflow/runs', run.ref.id, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(replayed, run.events, 'events.jsonl replays exactly what watch() showed');
  const downstream = run.summary.steps.find((s) => s.name === 'downstream')!;
  assert.equal(downstream.attempts, 0, 'a step after a failed one never starts');
}

for (const warm of [true, false]) {
  describe(`faults (${warm ? 'warm forks' : 'fresh interpreters'})`, () => {
    const work = tempDir(`faults-${warm ? 'warm' : 'fresh'}`);
    after(work.remove);
    const backend = new LocalBackend({ workspace: work.dir, python: PYTHON, warm });
    /** Every step really runs: the fault steps' neighbours are not taken from the cache. */
    const fresh = { cache: false };

    it('a step that raises: failed at its cell and line, with the traceback', async () => {
      const nb = faulty(
        'boom',
        'boom_value = base * 2\nprint("dividing")\nboom_value = boom_value / 0',
      );
      const { pipeline } = compileNotebook(nb, work.dir, 'raises.ipynb');
      const run = await runToEnd(backend, pipeline, fresh);
      assertAftermath(work.dir, run, 'failed');
      const failure = run.summary.steps[1]!.failure!;
      assert.equal(failure.kind, 'exception');
      assert.equal(failure.type, 'ZeroDivisionError');
      assert.equal(failure.cell, 2);
      assert.equal(failure.line, 3);
      assert.match(failure.message, /Step `boom` failed at cell 3, line 3: ZeroDivisionError/);
      assert.match(failure.traceback!, /File "<cell 3>", line 3/);
      const log: string[] = [];
      for await (const line of backend.logs(run.ref, 'boom')) log.push(line);
      assert.ok(log.includes('dividing'), 'output printed before the failure is in the log');
    });

    it('a step that calls os._exit(3): failed with its exit code', async () => {
      const nb = faulty('quit', 'quit_value = 1\nprint("leaving", flush=True)\nos._exit(3)');
      const { pipeline } = compileNotebook(nb, work.dir, 'exits.ipynb');
      const run = await runToEnd(backend, pipeline, fresh);
      assertAftermath(work.dir, run, 'failed');
      const failure = run.summary.steps[1]!.failure!;
      assert.equal(failure.kind, 'exit');
      assert.equal(failure.exitCode, 3);
      assert.match(failure.message, /exited with code 3 before it finished/);
    });

    it('a step killed by SIGKILL from outside: failed, saying so', async () => {
      const nb = faulty(
        'victim',
        'victim_value = 1\nopen("victim.pid", "w").write(str(os.getpid()))\n' +
          GRANDCHILDREN +
          'time.sleep(300)',
      );
      const { pipeline } = compileNotebook(nb, work.dir, 'killed.ipynb');
      const pidFile = join(work.dir, 'victim.pid');
      const run = await runToEnd(backend, pipeline, fresh, (event) => {
        if (event.type === 'step' && event.step === 'victim' && event.state === 'running') {
          void waitFor(
            'the pid file',
            () => existsSync(pidFile) && readFileSync(pidFile, 'utf8') !== '',
            20_000,
          ).then(() => process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL'));
        }
      });
      assertAftermath(work.dir, run, 'failed');
      const failure = run.summary.steps[1]!.failure!;
      assert.equal(failure.signal, 'SIGKILL');
      assert.match(failure.message, /killed by SIGKILL/);
    });

    it('a step that hangs past `timeout:`: stopped with its whole process tree', async () => {
      const nb = faulty('hang', 'hang_value = 1\n' + GRANDCHILDREN + 'time.sleep(300)', [
        'timeout:2s',
      ]);
      const { pipeline } = compileNotebook(nb, work.dir, 'hangs.ipynb');
      const run = await runToEnd(backend, pipeline, fresh);
      assertAftermath(work.dir, run, 'failed');
      const failure = run.summary.steps[1]!.failure!;
      assert.equal(failure.kind, 'timeout');
      assert.match(failure.message, /did not finish within 2s/);
      assert.ok(run.elapsedMs < 20_000, `stopped promptly (${run.elapsedMs} ms)`);
    });

    it('cancel mid-run: running and waiting steps cancelled, finished ones intact', async () => {
      const nb = faulty('slow', 'slow_value = 1\n' + GRANDCHILDREN + 'time.sleep(300)');
      const { pipeline } = compileNotebook(nb, work.dir, 'cancelled.ipynb');
      let cancelled: Promise<void> | undefined;
      let cancelMs = 0;
      const run = await runToEnd(
        backend,
        pipeline,
        { ...fresh, concurrency: 1 },
        (event, ref: RunRef) => {
          if (event.type === 'step' && event.step === 'slow' && event.state === 'running') {
            const started = Date.now();
            cancelled = new Promise((r) => setTimeout(r, 500))
              .then(() => backend.cancel(ref))
              .then(() => void (cancelMs = Date.now() - started - 500));
          }
        },
      );
      await cancelled;
      const states = stepStates(run);
      // with one slot, `independent` may still have been waiting when the cancel came
      assert.ok(['succeeded', 'cancelled'].includes(states.independent!));
      assert.equal(states.slow, 'cancelled');
      assert.equal(states.downstream, 'cancelled');
      assert.equal(run.final.state, 'cancelled');
      assert.deepEqual(processesOfRun(run.ref.id), []);
      assert.equal(savedJsonValue(work.dir, run.ref.id, 'prepare', 'base'), 21);
      assert.ok(cancelMs < 10_000, `cancel() returned once everything was gone (${cancelMs} ms)`);
      const listed = (await backend.listRuns()).find((r) => r.id === run.ref.id)!;
      assert.equal(listed.state, 'cancelled');
    });
  });
}

describe('failures that name their cause', () => {
  const work = tempDir('failures');
  after(work.remove);
  const backend = new LocalBackend({ workspace: work.dir, python: PYTHON });

  it('retries: a flaky step succeeds on its second attempt', async () => {
    const flaky =
      'n = int(open("tries.txt").read()) + 1 if os.path.exists("tries.txt") else 1\n' +
      'open("tries.txt", "w").write(str(n))\n' +
      'if n < 2:\n    raise RuntimeError("flaky")\nflaky_value = n';
    const { pipeline } = compileNotebook(
      faulty('flaky', flaky, ['retries:2']),
      work.dir,
      'flaky.ipynb',
    );
    const run = await runToEnd(backend, pipeline);
    assert.equal(run.final.state, 'succeeded');
    const step = run.summary.steps.find((s) => s.name === 'flaky')!;
    assert.equal(step.attempts, 2);
    const seen = run.events
      .filter((e) => e.type === 'step' && e.step === 'flaky')
      .map((e) => e.type === 'step' && `${e.state}:${e.attempt}`);
    assert.deepEqual(seen, ['queued:0', 'running:1', 'failed:1', 'running:2', 'succeeded:2']);
  });

  it('a missing module names the step, the cell and how to install it', async () => {
    const nb = faulty('needs', 'import no_such_module_for_cellflow\nneeds_value = 1');
    const { pipeline } = compileNotebook(nb, work.dir, 'missing.ipynb');
    const run = await runToEnd(backend, pipeline);
    const failure = run.summary.steps.find((s) => s.name === 'needs')!.failure!;
    assert.match(
      failure.message,
      /Step `needs` failed at cell 3, line 1: ModuleNotFoundError: No module named 'no_such_module_for_cellflow'/,
    );
    assert.match(failure.message, /Fix: install it .*--python/);
  });

  it('an unpicklable variable names the variable, its type, the cell that made it and a fix for it', async () => {
    // Made by a function, so the origin does not show it: `inspect` reports `x = threading.Lock()`.
    const nb = faulty(
      'lock',
      'def make_lock():\n    import threading\n    return threading.Lock()\n\nlock_value = make_lock()',
    );
    const { pipeline } = compileNotebook(nb, work.dir, 'unpicklable.ipynb');
    const run = await runToEnd(backend, pipeline);
    const failure = run.summary.steps.find((s) => s.name === 'lock')!.failure!;
    assert.equal(failure.kind, 'unpicklable');
    assert.match(
      failure.message,
      /Cannot save variable `lock_value` \(a _thread\.lock, made by step `lock`, cell 3\)/,
    );
    assert.match(failure.message, /Fix: create it in the step that uses it/);
  });

  it('issue 13: inspect reports a value that cannot cross a step when its origin shows it', () => {
    // (A generator expression is no longer refused: the step that uses it runs its statement.)
    const nb = faulty('gen', 'import socket\ngen_value = socket.socket()');
    assert.throws(
      () => compileNotebook(nb, work.dir, 'unsavable.ipynb'),
      /"code": "unsavable-value",\s*"cell": 2,\s*"line": 2,\s*"message": "`gen_value` is a network socket/,
    );
  });
});
