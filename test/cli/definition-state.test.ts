/**
 * What steps change on a notebook class crosses to later steps as its attributes (see
 * `_definition_state` in the step runtime): an attribute that cannot be saved (a lock) keeps the
 * value its definition makes, and the run goes on.
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
