/**
 * History outlives the process that ran it: another LocalBackend on the same workspace (a new
 * `cellflow` process, an editor restarted) lists the run, replays its events and its logs.
 * Logs also stream while a step runs.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BackendError, LocalBackend, type RunEvent } from '@cellflow/backend';
import { code, compileNotebook, notebook, PYTHON, runToEnd, tempDir } from './support/notebooks.js';

describe('run history', () => {
  const work = tempDir('history');
  after(work.remove);
  const backend = new LocalBackend({ workspace: work.dir, python: PYTHON });
  const { pipeline } = compileNotebook(
    notebook([
      code('import time', ['imports']),
      code(
        'for i in range(3):\n    print(f"tick {i}", flush=True)\n    time.sleep(0.4)\nticks = 3',
        ['step:ticking'],
      ),
      code('print(ticks)', ['pipeline-metrics']),
    ]),
    work.dir,
    'ticking.ipynb',
  );

  it('logs() streams a running step line by line', async () => {
    const ref = await backend.submit(pipeline);
    const seen: { line: string; running: boolean }[] = [];
    let state = 'queued';
    const watching = (async () => {
      for await (const e of backend.watch(ref)) if (e.type === 'step') state = e.state;
    })();
    for await (const line of backend.logs(ref, 'ticking'))
      seen.push({ line, running: state === 'running' });
    await watching;
    assert.deepEqual(
      seen.map((s) => s.line),
      // The metrics cell's own print, then the metric as the step reports it.
      ['tick 0', 'tick 1', 'tick 2', '3', 'ticks=3'],
    );
    assert.ok(seen[0]!.running, 'the first line arrived while the step was still running');
  });

  it('another backend on the workspace lists, replays and shows the logs of past runs', async () => {
    const run = await runToEnd(backend, pipeline, { cache: false });
    const later = new LocalBackend({ workspace: work.dir });
    const listed = await later.listRuns();
    assert.equal(listed[0]?.id, run.ref.id);
    assert.deepEqual(listed[0]?.metrics, { ticks: 3 });
    const replayed: RunEvent[] = [];
    for await (const e of later.watch(run.ref)) replayed.push(e);
    assert.deepEqual(replayed, run.events);
    const lines: string[] = [];
    for await (const l of later.logs(run.ref, 'ticking')) lines.push(l);
    assert.deepEqual(lines.slice(0, 3), ['tick 0', 'tick 1', 'tick 2']);
    await later.cancel(run.ref); // a finished run: nothing to do
    assert.equal((await later.listRuns())[0]?.state, 'succeeded');
  });

  it('unknown runs and steps are clear errors', async () => {
    const ghost = { id: 'no-such-run', pipeline: 'x' };
    await assert.rejects(
      backend.cancel(ghost),
      (e: unknown) => e instanceof BackendError && e.code === 'run-not-found',
    );
    await assert.rejects(
      (async () => {
        for await (const _ of backend.watch(ghost));
      })(),
      (e: unknown) => e instanceof BackendError && e.code === 'run-not-found',
    );
    const [last] = await backend.listRuns({ limit: 1 });
    await assert.rejects(
      (async () => {
        for await (const _ of backend.logs(last!, 'nope'));
      })(),
      (e: unknown) =>
        e instanceof BackendError &&
        e.code === 'step-not-found' &&
        /has no step `nope`/.test(e.message),
    );
  });

  it('a run whose runner died is listed as interrupted, not running forever', async () => {
    const [last] = await backend.listRuns({ limit: 1 });
    const dir = join(work.dir, '.cellflow/runs', 'interrupted-run');
    mkdirSync(dir);
    const record = JSON.parse(
      readFileSync(join(work.dir, '.cellflow/runs', last!.id, 'run.json'), 'utf8'),
    );
    const deadPid = 2 ** 22 + 1; // above pid_max on Linux: never a live process
    writeFileSync(
      join(dir, 'run.json'),
      JSON.stringify({
        ...record,
        id: 'interrupted-run',
        state: 'running',
        runnerPid: deadPid,
        steps: record.steps.map((s: object) => ({ ...s, state: 'running' })),
      }),
    );
    const listed = (await backend.listRuns()).find((r) => r.id === 'interrupted-run')!;
    assert.equal(listed.state, 'cancelled');
    assert.match(
      listed.reason!,
      /Interrupted: the process that ran it \(pid \d+\) ended before the run finished/,
    );
    assert.ok(listed.steps.every((s) => s.state === 'cancelled'));
  });

  it('an unknown study or run says which', async () => {
    await assert.rejects(
      backend.cancelStudy({ id: 'no-such-study' }),
      (e: unknown) => e instanceof BackendError && e.code === 'study-not-found',
    );
    await assert.rejects(
      backend.serve({ runId: 'no-such-run', step: 'train', variable: 'model' }),
      (e: unknown) => e instanceof BackendError && e.code === 'run-not-found',
    );
    assert.deepEqual(await backend.listEndpoints(), []);
  });
});
