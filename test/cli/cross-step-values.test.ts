/**
 * Values that cross to later steps in ways pickle alone does not give (see the step runtime's
 * `_SharingPickler`): what steps change on a notebook class crosses as its attributes, and an
 * attribute that cannot be saved (a lock) keeps the value its definition makes; an array of a
 * type that refuses pickling (patsy's DesignMatrix) crosses as its data. The run goes on.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Cell } from '../support/executed-notebooks.js';
import { runCells } from './run-cli.js';

const text = (cell: Cell | undefined): string =>
  (cell?.outputs ?? []).map((o) => o.text ?? '').join('');

describe('a notebook class changed by a step, in later steps', () => {
  it('carries what can be saved; a lock it holds is its definition again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cellflow-definition-state-'));
    try {
      const { run, cells } = await runCells(dir, [
        [
          ['step:define'],
          'import threading\n\nclass Jobs:\n    lock = threading.Lock()\n    done = []\n\n' +
            '    @classmethod\n    def finish(cls, name):\n        with cls.lock:\n' +
            '            cls.done.append(name)',
        ],
        [['step:first'], "Jobs.finish('a')"],
        [['step:second'], "Jobs.finish('b')"],
        [['step:report'], 'print(Jobs.done, type(Jobs.lock).__name__, Jobs.lock.locked())'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[3]), "['a', 'b'] lock False\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('an array whose type refuses pickling, in a later step', () => {
  it('crosses as its data', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cellflow-array-data-'));
    try {
      const { run, cells } = await runCells(dir, [
        [
          ['step:make'],
          'import numpy as np\n\nclass Locked(np.ndarray):\n    def __reduce_ex__(self, protocol):\n' +
            '        raise NotImplementedError("no pickling")\n\nwide = np.arange(4.0).view(Locked)',
        ],
        [['step:use'], 'print(type(wide).__name__, wide.sum(), wide.shape)'],
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(text(cells[1]), 'ndarray 6.0 (4,)\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
