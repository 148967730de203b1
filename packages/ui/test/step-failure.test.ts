/** The failure view both editors show on the failing cell: exception, where, the line, the traceback. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JSDOM } from 'jsdom';
import { renderStepFailure, stepFailureView } from '@cellflow/ui';

const { window } = new JSDOM('<!doctype html><body></body>');
(globalThis as { document?: Document }).document = window.document;

const TRACEBACK =
  'Traceback (most recent call last):\n  File "<cell 2>", line 2, in <module>\n    z = y / 0\n        ~~^~~\nZeroDivisionError: division by zero\n';

describe('step failure view', () => {
  it('names the exception, the cell as a person counts it, the failing line and the traceback', () => {
    const view = stepFailureView(
      'train',
      {
        kind: 'exception',
        message: 'Step `train` failed at cell 3, line 2: ZeroDivisionError: division by zero',
        cell: 2,
        line: 2,
        type: 'ZeroDivisionError',
        traceback: TRACEBACK,
      },
      'y = sum(x)\n  z = y / 0\n',
    );
    assert.equal(view.headline, 'ZeroDivisionError: division by zero');
    assert.equal(view.where, 'cell 3, line 2');
    assert.equal(view.lineText, 'z = y / 0');
    assert.equal(view.detail, '');
    assert.match(view.traceback ?? '', /File "<cell 2>", line 2/);
  });

  it("keeps the backend's fix when it says more than the exception", () => {
    const view = stepFailureView('load', {
      kind: 'exception',
      message:
        "Step `load` failed at cell 1, line 1: ModuleNotFoundError: No module named 'torch'. Fix: install it",
      cell: 0,
      line: 1,
      traceback:
        "Traceback (most recent call last):\nModuleNotFoundError: No module named 'torch'\n",
    });
    assert.equal(view.headline, "ModuleNotFoundError: No module named 'torch'");
    assert.equal(view.detail, 'Fix: install it');
    assert.equal(view.lineText, undefined, 'no source given: no line text');
  });

  it('shows a failure outside any cell by its message', () => {
    const view = stepFailureView('train', {
      kind: 'exit',
      message: 'Step `train` ended with exit code -9 (killed: out of memory?).',
      cell: null,
      line: null,
    });
    assert.equal(view.headline, 'Step `train` ended with exit code -9 (killed: out of memory?).');
    assert.equal(view.where, '');
    assert.equal(view.traceback, undefined);
  });

  it('renders the box with Show log wired to the caller', () => {
    const box = document.createElement('div');
    let shown = 0;
    renderStepFailure(
      box,
      stepFailureView(
        'train',
        {
          kind: 'exception',
          message: 'x',
          cell: 2,
          line: 2,
          traceback: TRACEBACK,
        },
        'y = 1\nz = y / 0',
      ),
      { onShowLog: () => shown++ },
    );
    assert.equal(
      box.querySelector('.cf-failure-title')?.textContent,
      'Step train failed at cell 3, line 2',
    );
    assert.equal(box.querySelector('.cf-failure-line')?.textContent, 'z = y / 0');
    assert.match(box.querySelector('.cf-failure-traceback pre')?.textContent ?? '', /~~\^~~/);
    assert.equal(box.querySelector('.cf-failure-show-cell'), null, 'no reveal action given');
    (box.querySelector('.cf-failure-show-log') as HTMLButtonElement).click();
    assert.equal(shown, 1);
  });
});
