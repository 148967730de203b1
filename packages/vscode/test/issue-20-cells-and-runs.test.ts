/**
 * Issue 20, the pure parts of what a person meets in VS Code: the cell status bar's `after:` (from
 * the pipeline graph) and `serve:` items, the step name Set Step proposes, run rows short enough to
 * show their state, failure marks that go once they no longer hold, rounded metrics.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatMetricValue, withServe } from '@cellflow/core';
import type { StepStateEvent } from '@cellflow/backend';
import { describeCellTags, proposeStepName, RunTracker, shortRunLabel } from '@cellflow/vscode';

describe('issue 20: cell status items', () => {
  it('shows the steps a step runs after as the graph has them, and what it serves', () => {
    const items = describeCellTags(['step:train_svm', 'serve:svm'], {
      steps: ['split'],
      inputSources: { X_train: 'split', y_train: 'split' },
    });
    assert.deepEqual(
      items.map((i) => [i.text, i.action]),
      [
        ['step: train_svm', 'role'],
        ['after: split', 'dependency'],
        ['serve: svm', 'serve'],
      ],
    );
    assert.equal(items[1]?.tooltip, 'split: uses X_train, y_train');
  });

  it('without the graph, `after:` is the prev: tags', () => {
    assert.deepEqual(
      describeCellTags(['step:b', 'prev:a']).map((i) => i.text),
      ['step: b', 'after: a'],
    );
  });

  it('serve: tags are written through the formatter, other tags kept', () => {
    assert.deepEqual(withServe(['step:train', 'mine'], ['model']), [
      'step:train',
      'serve:model',
      'mine',
    ]);
    assert.deepEqual(withServe(['step:train', 'serve:model'], []), ['step:train']);
  });
});

describe('issue 20: Set Step proposes a name from the code, not a comment', () => {
  it('takes the first definition or assigned variable', () => {
    assert.equal(
      proposeStepName('# Hold out a test set\nX_train, X_test = split(X)', 7, []),
      'x_train',
    );
    assert.equal(proposeStepName('# train it\nsvm = SVC().fit(X, y)', 10, []), 'svm');
    assert.equal(proposeStepName('def load_images(path):\n    return 1', 3, []), 'load_images');
    assert.equal(proposeStepName('x: int = 3', 0, []), 'x');
  });

  it('falls back to the cell number a person sees, and avoids names in use', () => {
    assert.equal(proposeStepName('# only a comment\nprint(1)', 12, []), 'step_13');
    assert.equal(proposeStepName('svm = 1', 0, ['svm', 'svm_2']), 'svm_3');
  });
});

describe('issue 20: run rows', () => {
  it('name a local run by its start time and a cluster run by its id prefix', () => {
    const now = new Date(2026, 11, 5, 20, 0, 0);
    assert.equal(shortRunLabel('20261205-185628-digits-14d7', now), '18:56:28');
    assert.equal(shortRunLabel('20261121-185628-digits-14d7', now), '2026-11-21 18:56:28');
    assert.equal(shortRunLabel('3fa9c0d1-2b4e-4c1a-9d3e-0123456789ab', now), '3fa9c0d1');
    assert.equal(shortRunLabel('odd-id', now), 'odd-id');
  });

  it('show metrics rounded', () => {
    assert.equal(formatMetricValue(0.9622222222222222), '0.9622');
    assert.equal(formatMetricValue(12), '12');
    assert.equal(formatMetricValue(0.000012345), '0.00001234');
  });
});

describe('issue 20: failures that no longer hold', () => {
  const failedRun = (): RunTracker => {
    const tracker = new RunTracker();
    tracker.start({ id: 'r1', pipeline: 'p' }, 'nb', [
      { name: 'a', cells: [1] },
      { name: 'b', cells: [2, 3] },
    ]);
    const time = '2026-01-01T00:00:00.000Z';
    const step = (seq: number, name: string, state: 'succeeded' | 'failed'): StepStateEvent => ({
      runId: 'r1',
      time,
      seq,
      type: 'step',
      step: name,
      state,
      attempt: 1,
      maxAttempts: 1,
      startedAt: time,
      finishedAt: time,
      durationMs: 560,
      ...(state === 'failed'
        ? { failure: { kind: 'exception', message: 'boom', cell: 3, line: 1 } }
        : {}),
    });
    tracker.apply(step(1, 'a', 'succeeded'));
    tracker.apply(step(2, 'b', 'failed'));
    tracker.apply({
      runId: 'r1',
      time,
      seq: 3,
      type: 'run',
      state: 'failed',
      startedAt: time,
      finishedAt: time,
      durationMs: 600,
      metrics: {},
    });
    return tracker;
  };

  it('a change to one of the failed step cells dismisses its failure only', () => {
    const tracker = failedRun();
    assert.equal(tracker.stepAt('nb', 3)?.state, 'failed');
    assert.deepEqual(
      tracker.dismissFailures('nb', (s) => s.cells.includes(1)),
      [],
    );
    assert.deepEqual(
      tracker.dismissFailures('nb', (s) => s.cells.includes(2)),
      ['b'],
    );
    assert.equal(tracker.stepAt('nb', 3), undefined, 'the cell no longer says failed');
    assert.equal(tracker.stepAt('nb', 1)?.state, 'succeeded');
  });

  it('a later successful run of the whole pipeline (a trial) dismisses every failure', () => {
    const tracker = failedRun();
    assert.deepEqual(tracker.dismissFailures('nb'), ['b']);
    assert.deepEqual(tracker.dismissFailures('nb'), []);
  });
});
