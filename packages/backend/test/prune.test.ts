/**
 * Pruning run history: older runs go, the newest of each pipeline stay, and steps that kept runs
 * reused stay cached after the run that first produced them is deleted.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LocalBackend } from '@cellflow/backend';
import {
  compileNotebook,
  PYTHON,
  readNotebook,
  repoRoot,
  runToEnd,
  stepStates,
  tempDir,
} from './support/notebooks.js';

const ran = (states: Record<string, string>): string[] =>
  Object.keys(states).filter((s) => states[s] === 'succeeded');

describe('pruning run history', () => {
  const work = tempDir('prune');
  after(work.remove);
  const backend = new LocalBackend({ workspace: work.dir, python: PYTHON });
  const nb = readNotebook(join(repoRoot, 'examples', 'word-count.ipynb'));
  const { pipeline } = compileNotebook(nb, work.dir, 'word-count.ipynb');
  const runsDir = join(work.dir, '.cellflow', 'runs');

  it('keeps the newest runs; a kept run that reused a step keeps it cached', async () => {
    const a = await runToEnd(backend, pipeline);
    const b = await runToEnd(backend, pipeline);
    const c = await runToEnd(backend, pipeline, { parameters: { TOP_N: 3 } });
    assert.equal(ran(stepStates(a)).length, 5);
    assert.deepEqual(ran(stepStates(b)), []);
    assert.deepEqual(ran(stepStates(c)), ['count_words', 'report']);

    const preview = await backend.pruneRuns({ keep: 1, dryRun: true });
    assert.deepEqual(preview.deleted.map((d) => d.id).sort(), [a.ref.id, b.ref.id].sort());
    assert.ok(preview.bytesFreed > 0, 'run A holds files no other run shares (its logs)');
    assert.equal(readdirSync(runsDir).length, 3, 'a dry run deletes nothing');

    const pruned = await backend.pruneRuns({ keep: 1 });
    assert.deepEqual(pruned.deleted.map((d) => d.id).sort(), [a.ref.id, b.ref.id].sort());
    assert.equal(pruned.kept, 1);
    assert.deepEqual(readdirSync(runsDir), [c.ref.id]);
    // C reused load_text, tokenize and count_letters from A: their entries now point at C.
    assert.equal(pruned.cacheEntriesMoved, 3);
    // A's count_words and report (TOP_N 8) were reused only by B, which is gone too.
    assert.equal(pruned.cacheEntriesRemoved, 2);
    assert.deepEqual(
      (await backend.listRuns()).map((r) => r.id),
      [c.ref.id],
    );

    const again = await runToEnd(backend, pipeline);
    assert.equal(again.final.state, 'succeeded');
    assert.deepEqual(ran(stepStates(again)), ['count_words', 'report']);
    const cached = again.summary.steps.filter((s) => s.state === 'cached');
    assert.deepEqual(
      cached.map((s) => [s.name, s.cachedFrom]),
      [
        ['load_text', c.ref.id],
        ['tokenize', c.ref.id],
        ['count_letters', c.ref.id],
      ],
    );
    assert.deepEqual(again.final.metrics, a.final.metrics, 'same results as before the prune');
    const log = readFileSync(join(runsDir, again.ref.id, 'steps/tokenize/log.txt'), 'utf8');
    assert.equal(log.match(/\[cellflow\] cached:/g)?.length, 1, log);
  });

  it('--older-than spares recent runs; --pipeline spares other pipelines', async () => {
    const recent = await backend.pruneRuns({ keep: 0, olderThanMs: 3_600_000 });
    assert.deepEqual(recent.deleted, []);
    assert.equal(recent.kept, 2);
    const other = await backend.pruneRuns({ keep: 0, pipeline: 'digits' });
    assert.deepEqual(other.deleted, []);
    const all = await backend.pruneRuns({ keep: 0 });
    assert.equal(all.deleted.length, 2);
    assert.ok(!existsSync(join(runsDir, all.deleted[0]!.id)));
    assert.deepEqual(readdirSync(join(work.dir, '.cellflow', 'cache')), []);
  });
});
