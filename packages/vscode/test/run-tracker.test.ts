import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StepStateEvent } from '@cellflow/backend';
import {
  formatDuration,
  formatState,
  formatStateText,
  RunTracker,
  stateCodicon,
} from '@cellflow/vscode';

const base = { runId: 'r1', time: '2026-01-01T00:00:00.000Z' };

function stepEvent(
  seq: number,
  step: string,
  state: 'running' | 'succeeded' | 'failed',
): StepStateEvent {
  return {
    ...base,
    seq,
    type: 'step',
    step,
    state,
    attempt: 1,
    maxAttempts: 1,
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: state === 'running' ? null : '2026-01-01T00:00:02.500Z',
    durationMs: state === 'running' ? null : 2500,
    ...(state === 'failed'
      ? { failure: { kind: 'exception', message: 'boom', cell: 4, line: 2 } }
      : {}),
  };
}

describe('RunTracker', () => {
  it('follows step events and finds the step of a cell', () => {
    const tracker = new RunTracker();
    let changes = 0;
    tracker.onDidChange(() => changes++);
    tracker.start({ id: 'r1', pipeline: 'p' }, 'file:///nb.ipynb', [
      { name: 'load', cells: [1, 2] },
      { name: 'train', cells: [4] },
    ]);
    assert.equal(tracker.stepAt('file:///nb.ipynb', 2)?.state, 'queued');
    tracker.apply(stepEvent(0, 'load', 'running'));
    tracker.apply(stepEvent(1, 'load', 'succeeded'));
    tracker.apply(stepEvent(2, 'train', 'failed'));
    tracker.apply({ ...stepEvent(3, 'nope', 'running'), runId: 'other' });
    assert.equal(changes, 4);
    assert.equal(tracker.stepAt('file:///nb.ipynb', 1)?.state, 'succeeded');
    assert.equal(tracker.stepAt('file:///nb.ipynb', 4)?.failure?.line, 2);
    assert.equal(tracker.stepAt('file:///nb.ipynb', 3), undefined);
    assert.equal(tracker.active().length, 1);
    tracker.apply({
      ...base,
      seq: 4,
      type: 'run',
      state: 'failed',
      startedAt: base.time,
      finishedAt: base.time,
      durationMs: 3000,
      metrics: {},
    });
    assert.equal(tracker.active().length, 0);
    assert.equal(tracker.latestFor('file:///nb.ipynb')?.state, 'failed');
  });

  it("keeps what a cluster step reported: its metrics and saved outputs' URIs and types", () => {
    const tracker = new RunTracker();
    tracker.start({ id: 'r1', pipeline: 'p' }, 'file:///nb.ipynb', [{ name: 'train', cells: [4] }]);
    const svm = {
      uri: 'minio://mlpipeline/v2/artifacts/p/r1/train/svm',
      type: 'sklearn.svm._classes.SVC',
    };
    tracker.apply({
      ...stepEvent(0, 'train', 'succeeded'),
      metrics: { accuracy: 0.95 },
      outputs: { svm },
    });
    const step = tracker.stepAt('file:///nb.ipynb', 4);
    assert.deepEqual(step?.metrics, { accuracy: 0.95 });
    assert.deepEqual(step?.outputs, { svm });
  });

  it('formats states with durations, live ones counted from their start', () => {
    assert.equal(formatDuration(850), '850ms');
    assert.equal(formatDuration(2300), '2.3s');
    assert.equal(formatDuration(65_000), '1m 05s');
    const startedAt = '2026-01-01T00:00:00.000Z';
    const now = Date.parse(startedAt) + 3200;
    assert.equal(
      formatState({ state: 'running', startedAt, durationMs: null }, now),
      '$(sync~spin) running 3.2s',
    );
    assert.equal(
      formatState({ state: 'succeeded', startedAt, durationMs: 2100 }, now),
      '$(pass) succeeded 2.1s',
    );
    assert.equal(
      formatState({ state: 'cached', startedAt: null, durationMs: 0 }, now),
      '$(history) cached',
    );
  });
});

describe('state words for tree items', () => {
  it('gives the codicon id and the text without it', () => {
    const item = { state: 'failed' as const, startedAt: null, durationMs: 1500 };
    assert.equal(stateCodicon('running'), 'sync~spin');
    assert.equal(formatStateText(item, 0), 'failed 1.5s');
  });
});
