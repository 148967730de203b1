import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  applyRunEvent,
  applyStepEvent,
  queuedRun,
  stepOf,
  type RunEvent,
  type RunStateEvent,
  type StepFailure,
  type StepStateEvent,
} from '@cellflow/protocol';

let seq = 0;
const step = (
  name: string,
  fields: Partial<StepStateEvent> & Pick<StepStateEvent, 'state'>,
  runId = 'r1',
): StepStateEvent => ({
  type: 'step',
  runId,
  seq: seq++,
  time: '2026-12-05T12:00:00.000Z',
  step: name,
  attempt: 1,
  maxAttempts: 2,
  startedAt: null,
  finishedAt: null,
  durationMs: null,
  ...fields,
});
const run = (fields: Partial<RunStateEvent> & Pick<RunStateEvent, 'state'>): RunStateEvent => ({
  type: 'run',
  runId: 'r1',
  seq: seq++,
  time: '2026-12-05T12:00:00.000Z',
  startedAt: '2026-12-05T12:00:00.000Z',
  finishedAt: null,
  durationMs: null,
  metrics: {},
  ...fields,
});
const failure: StepFailure = {
  kind: 'exception',
  message: 'ZeroDivisionError in cell 3, line 2',
  cell: 3,
  line: 2,
  type: 'ZeroDivisionError',
};

describe('applyRunEvent', () => {
  it('folds a run with a retried step, a cached step and metrics into the final state', () => {
    const events: RunEvent[] = [
      run({ state: 'running' }),
      step('load', { state: 'cached', attempt: 0, cachedFrom: 'r0', metrics: { rows: 10 } }),
      step('train', { state: 'running', startedAt: 't1' }),
      step('train', { state: 'failed', retrying: true, failure, durationMs: 5 }),
      step('train', { state: 'running', attempt: 2, startedAt: 't2' }),
      step('train', {
        state: 'succeeded',
        attempt: 2,
        startedAt: 't2',
        finishedAt: 't3',
        durationMs: 40,
        metrics: { accuracy: 0.97 },
        outputs: { model: { uri: 'minio://b/model', type: 'sklearn.svm.SVC' } },
      }),
      run({ state: 'succeeded', finishedAt: 't3', durationMs: 50, metrics: { accuracy: 0.97 } }),
    ];
    const final = events.reduce(applyRunEvent, queuedRun('r1', ['load', 'train']));
    assert.equal(final.state, 'succeeded');
    assert.equal(final.durationMs, 50);
    assert.deepEqual(final.metrics, { accuracy: 0.97 });
    assert.deepEqual(stepOf(final, 'load'), {
      name: 'load',
      state: 'cached',
      attempt: 0,
      startedAt: null,
      finishedAt: null,
      durationMs: null,
      cachedFrom: 'r0',
      metrics: { rows: 10 },
    });
    const train = stepOf(final, 'train');
    assert.equal(train?.state, 'succeeded');
    assert.equal(train?.attempt, 2);
    // The first attempt's failure went once the second attempt started.
    assert.equal(train?.failure, undefined);
    assert.deepEqual(train?.outputs, {
      model: { uri: 'minio://b/model', type: 'sklearn.svm.SVC' },
    });
  });

  it('keeps a failure while the step is failed and the run reason once given', () => {
    let state = queuedRun('r1', ['a', 'b']);
    state = applyRunEvent(state, step('a', { state: 'failed', failure }));
    state = applyRunEvent(state, step('b', { state: 'cancelled', attempt: 0, reason: 'a failed' }));
    state = applyRunEvent(state, run({ state: 'failed', reason: 'Step a failed.' }));
    state = applyRunEvent(state, run({ state: 'failed', durationMs: 9 }));
    assert.deepEqual(stepOf(state, 'a')?.failure, failure);
    assert.equal(stepOf(state, 'b')?.reason, 'a failed');
    assert.equal(state.reason, 'Step a failed.');
    assert.equal(state.durationMs, 9);
  });

  it("ignores another run's events, adds a step it did not list, and changes nothing in place", () => {
    const before = queuedRun('r1', ['a']);
    const frozen = JSON.stringify(before);
    assert.equal(applyRunEvent(before, step('a', { state: 'running' }, 'r2')), before);
    const after = applyRunEvent(before, step('extra', { state: 'running' }));
    assert.deepEqual(
      after.steps.map((s) => [s.name, s.state]),
      [
        ['a', 'queued'],
        ['extra', 'running'],
      ],
    );
    assert.equal(JSON.stringify(before), frozen);
  });

  it('applyStepEvent keeps the fields a shell adds to its steps', () => {
    const tracked = { ...queuedRun('r1', ['a']).steps[0]!, cells: [1, 2] };
    const next = applyStepEvent(tracked, step('a', { state: 'running', startedAt: 't1' }));
    assert.deepEqual(next.cells, [1, 2]);
    assert.equal(next.state, 'running');
    assert.equal(tracked.state, 'queued');
  });
});
