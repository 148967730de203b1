/** The run details webview's content for a cluster run: metrics, step metrics and saved outputs. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JSDOM } from 'jsdom';
import { renderRunDetails, type RunDetails } from '@cellflow/ui';

const { window } = new JSDOM('<!doctype html><body></body>');
(globalThis as { document?: Document }).document = window.document;

const clusterRun: RunDetails = {
  id: 'b1c2',
  pipeline: 'digits',
  target: 'cluster',
  state: 'succeeded',
  startedAt: '2026-12-05T10:00:00Z',
  durationMs: 61_000,
  parameters: { TEST_SIZE: 0.25 },
  metrics: { 'best-accuracy': 0.9666666 },
  steps: [
    {
      name: 'train_svm',
      state: 'succeeded',
      attempts: 1,
      startedAt: null,
      durationMs: 3000,
      metrics: {},
      outputs: {
        svm: {
          uri: 'minio://mlpipeline/v2/artifacts/digits/b1c2/train-svm/svm',
          type: 'sklearn.svm._classes.SVC',
        },
      },
    },
    {
      name: 'pick_best',
      state: 'succeeded',
      attempts: 1,
      startedAt: null,
      durationMs: 900,
      metrics: { 'best-accuracy': 0.9666666 },
    },
  ],
};

describe('run details', () => {
  it("shows a cluster run's metrics, step metrics and every saved output with its URI and type", () => {
    const root = document.createElement('div');
    renderRunDetails(root, clusterRun);
    const text = (selector: string): string[] =>
      [...root.querySelectorAll(selector)].map((e) => e.textContent ?? '');
    assert.deepEqual(text('.cf-values dt'), ['best-accuracy', 'TEST_SIZE']);
    assert.equal(text('.cf-values dd')[0], '0.9667');
    assert.match(text('tr.cf-step[data-step="pick_best"]')[0]!, /best-accuracy 0\.9667/);
    assert.deepEqual(
      [...root.querySelectorAll('tr.cf-output')].map((row) =>
        [...row.querySelectorAll('td')].map((td) => td.textContent),
      ),
      [
        [
          'train_svm',
          'svm',
          'sklearn.svm._classes.SVC',
          'minio://mlpipeline/v2/artifacts/digits/b1c2/train-svm/svm',
        ],
      ],
    );
  });

  it('shows a failed step as the editors do: the exception, the cell as a person counts it, the traceback', () => {
    const root = document.createElement('div');
    let revealed = '';
    renderRunDetails(
      root,
      {
        ...clusterRun,
        state: 'failed',
        steps: [
          {
            name: 'train_svm',
            state: 'failed',
            attempts: 1,
            startedAt: null,
            durationMs: 300,
            metrics: {},
            failure: {
              kind: 'exception',
              message: 'Step `train_svm` failed at cell 11, line 2: ValueError: bad C',
              cell: 10,
              line: 2,
              type: 'ValueError',
              traceback:
                'Traceback (most recent call last):\n  File "<cell 11>", line 2, in <module>\nValueError: bad C\n',
            },
          },
        ],
      },
      { onRevealFailure: (step) => (revealed = step) },
    );
    const row = root.querySelector('tr.cf-failure')!;
    assert.equal(row.querySelector('.cf-problem')?.textContent, 'ValueError: bad C');
    assert.match(row.querySelector('.cf-failure-traceback pre')?.textContent ?? '', /<cell 11>/);
    const reveal = row.querySelector('button.cf-link') as HTMLButtonElement;
    assert.equal(reveal.textContent, 'cell 11, line 2');
    reveal.click();
    assert.equal(revealed, 'train_svm');
  });

  it('shows no outputs table for a run without outputs', () => {
    const root = document.createElement('div');
    renderRunDetails(root, { ...clusterRun, steps: [clusterRun.steps[1]!] });
    assert.equal(root.querySelector('.cf-outputs'), null);
  });
});
