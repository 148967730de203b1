/** `cellflow tune` / `studies` / `--apply-best` as a user runs them (the built CLI, real Python). */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'cellflow-tune-cli-'));
const PY = ['--python', '/usr/bin/python3'];

/** A notebook as Jupyter writes it: one line per source entry, indent 1, a trailing newline. */
function notebookText(tuning: unknown): string {
  const cell = (tags: string[], source: string) => ({
    cell_type: 'code',
    execution_count: null,
    id: tags[0]!.replace(/[^a-z]/g, ''),
    metadata: { tags },
    outputs: [],
    source: source.split(/(?<=\n)/),
  });
  return `${JSON.stringify(
    {
      cells: [
        cell(['pipeline-parameters'], 'X = 1.0  # where the peak is searched\nN = 2\nLABEL = "é"'),
        cell(['step:evaluate'], 'score = 10 - (X - 3.5) ** 2 - (N - 4) ** 2\nprint(LABEL)'),
        cell(['pipeline-metrics'], 'print(score)'),
      ],
      metadata: { cellflow: { name: 'peak', ...(tuning !== undefined ? { tuning } : {}) } },
      nbformat: 4,
      nbformat_minor: 5,
    },
    null,
    1,
  )}\n`;
}

describe('cellflow tune', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the study with a table row per trial, names the best, and --apply-best writes only the values', () => {
    const path = join(dir, 'peak.ipynb');
    const text = notebookText({
      objective: 'score',
      algorithm: 'grid',
      maxTrials: 6,
      parallelTrials: 2,
      parameters: { X: { min: 2.5, max: 4.5, step: 1 }, N: { values: [3, 4] } },
    });
    writeFileSync(path, text);
    const tuned = runCli(['tune', path, ...PY], { cwd: dir });
    assert.equal(tuned.code, 0, tuned.stderr);
    assert.match(
      tuned.stdout,
      /^Study \S+-peak-study-\w+ on this machine: grid, up to 6 trials \(2 at once\), maximize score over X, N$/m,
    );
    assert.match(tuned.stdout, /^ {2}trial +state +X +N +score +time$/m);
    assert.equal(tuned.stdout.match(/^ {2}#\d+ +succeeded /gm)?.length, 6);
    assert.match(tuned.stdout, /^ {2}#\d+ +succeeded +3\.5 +4 +10 +\S+ +★ best so far$/m);
    assert.match(tuned.stdout, /^Study succeeded in .*: 6 succeeded, 0 failed\.$/m);
    assert.match(tuned.stdout, /^Best: trial #\d, score 10 with X=3\.5 N=4 \(run \S+\)$/m);

    const studies = runCli(['studies', '--json'], { cwd: dir });
    const [study] = JSON.parse(studies.stdout) as {
      best: { parameters: Record<string, number> };
    }[];
    assert.deepEqual(study?.best.parameters, { X: 3.5, N: 4 });

    const applied = runCli(['tune', path, '--apply-best'], { cwd: dir });
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /cell 1, line 1: X = 1\.0 -> 3\.5/);
    assert.match(applied.stdout, /cell 1, line 2: N = 2 -> 4/);
    const after = readFileSync(path, 'utf8');
    assert.equal(
      after,
      text.replace('"X = 1.0  # where', '"X = 3.5  # where').replace('"N = 2\\n"', '"N = 4\\n"'),
      'everything else byte-identical',
    );
    // applying again changes nothing
    runCli(['tune', path, '--apply-best'], { cwd: dir });
    assert.equal(readFileSync(path, 'utf8'), after);
  });

  it('a notebook without a study gets an example to paste; a bad study gets its problems', () => {
    const none = join(dir, 'none.ipynb');
    writeFileSync(none, notebookText(undefined));
    const r = runCli(['tune', none, ...PY], { cwd: dir });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /has no study\. Fix: add one to the notebook metadata under "cellflow" -> "tuning", for example:\n {2}"tuning": \{"objective":"score"/,
    );

    const bad = join(dir, 'bad.ipynb');
    writeFileSync(
      bad,
      notebookText({ objective: 'accuracy', parameters: { Y: { min: 1, max: 0 } } }),
    );
    const b = runCli(['tune', bad, ...PY], { cwd: dir });
    assert.equal(b.code, 1);
    assert.match(
      b.stderr,
      /the objective `accuracy` is not a pipeline metric\. Fix: use one of `score`/,
    );
    assert.match(b.stderr, /cell 1: error \[bad-study\] .*`Y` is not in the parameters cell/);
    assert.match(
      runCli(['tune', join(dir, 'peak.ipynb'), '--algorithm', 'magic'], { cwd: dir }).stderr,
      /--algorithm magic is not known/,
    );
  });
});
