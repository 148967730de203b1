/** `cellflow run` and `cellflow runs`, driven in-process through `main()`. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { main, type CliContext } from '@cellflow/cli';
import { REPO_ROOT as repoRoot } from '../../../test/support/paths.js';

const work = mkdtempSync(join(tmpdir(), 'cellflow-cli-run-'));
after(() => rmSync(work, { recursive: true, force: true }));
const wordCount = join(work, 'word-count.ipynb');
cpSync(join(repoRoot, 'examples/word-count.ipynb'), wordCount);

interface Captured extends CliContext {
  readonly stdout: string[];
  readonly stderr: string[];
  readonly raw: string[];
}

function context(isTTY = false): Captured {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const raw: string[] = [];
  return {
    stdout,
    stderr,
    raw,
    exitCode: 0,
    isTTY,
    out: (l) => stdout.push(l),
    err: (l) => stderr.push(l),
    write: (t) => raw.push(t),
  };
}

async function cellflow(
  args: string[],
  isTTY = false,
): Promise<{ code: number; out: string; err: string; raw: string }> {
  const ctx = context(isTTY);
  const python = args[0] === 'run' ? ['--python', '/usr/bin/python3'] : [];
  const code = await main([...args, '--workspace', work, ...python], ctx);
  return { code, out: ctx.stdout.join('\n'), err: ctx.stderr.join('\n'), raw: ctx.raw.join('') };
}

function notebook(cells: { source: string; tags: string[] }[]): string {
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: cells.map((c) => ({
      cell_type: 'code',
      metadata: { tags: c.tags },
      source: c.source,
      outputs: [],
      execution_count: null,
    })),
  });
}

describe('cellflow run', () => {
  it('prints a line per step state change, the metrics and where the history is', async () => {
    const run = await cellflow(['run', wordCount]);
    assert.equal(run.code, 0, run.err);
    assert.match(
      run.out,
      /^Run \S+-word-count-\w+: 5 steps of word-count, Python \/usr\/bin\/python3$/m,
    );
    for (const step of ['load_text', 'tokenize', 'count_words', 'count_letters', 'report']) {
      assert.match(run.out, new RegExp(`▶ ${step} +running`));
      assert.match(run.out, new RegExp(`✓ ${step} +succeeded in `));
    }
    assert.match(run.out, /^Run succeeded in .*: 5 succeeded\.$/m);
    assert.match(run.out, /^Metrics: total-words 115, distinct-words 85, top-count 6$/m);
    assert.match(run.out, /^History: .*\.cellflow\/runs\/.*word-count/m);
  });

  it('a second run is all cached; -p changes what it reads; --no-cache runs all', async () => {
    assert.match((await cellflow(['run', wordCount])).out, /: 5 cached\.$/m);
    const top3 = await cellflow(['run', wordCount, '-p', 'TOP_N=3']);
    assert.match(top3.out, /: 2 succeeded, 3 cached\.$/m);
    assert.match((await cellflow(['run', wordCount, '--no-cache'])).out, /: 5 succeeded\.$/m);
  });

  it('on a terminal, keeps a progress bar under the lines', async () => {
    const run = await cellflow(['run', wordCount, '--no-cache'], true);
    assert.equal(run.code, 0);
    assert.match(run.raw, /[█░]{24} \d\/5 steps/);
  });

  it('a failing step: exit 1, the traceback at its cell, the rest of its log, the log path', async () => {
    const path = join(work, 'fails.ipynb');
    writeFileSync(
      path,
      notebook([
        { source: 'x = 1', tags: ['step:first'] },
        { source: 'print("about to fail")\ny = x / 0', tags: ['step:second'] },
      ]),
    );
    const run = await cellflow(['run', path]);
    assert.equal(run.code, 1);
    assert.match(
      run.out,
      /✗ second +failed: Step `second` failed at cell 2, line 2: ZeroDivisionError: division by zero/,
    );
    assert.match(run.err, /^Step second failed:$/m);
    assert.match(run.err, /File "<cell 2>", line 2/);
    assert.match(run.err, /Full log: .*steps\/second\/log\.txt/);
    assert.match(run.out, /^Run failed in .*: 1 succeeded, 1 failed\.$/m);
  });

  it('a bad parameter is a usage error (exit 2) that says how to fix it', async () => {
    const run = await cellflow(['run', wordCount, '-p', 'TOP_N=many']);
    assert.equal(run.code, 2);
    assert.match(run.err, /Parameter `TOP_N` is an int .* Fix: pass e\.g\. -p TOP_N=42/);
  });

  it('GPUs the machine lacks: refused (exit 1) unless --cpu-only', async () => {
    const path = join(work, 'gpu.ipynb');
    writeFileSync(path, notebook([{ source: 'x = 1', tags: ['step:train', 'gpu:2'] }]));
    const refused = await cellflow(['run', path]);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /Not started: Step `train` asks for 2 × nvidia\.com\/gpu/);
    // The command line's way out is its flag (an editor's refusal names its Run without GPUs).
    assert.match(refused.err, /Or run those steps here without GPUs: pass --cpu-only\./);
    assert.doesNotMatch(refused.err, /Run without GPUs/);
    assert.equal((await cellflow(['run', path, '--cpu-only'])).code, 0);
  });
});

describe('cellflow runs', () => {
  it('lists the runs, newest first, as a table and as JSON', async () => {
    const table = await cellflow(['runs']);
    assert.equal(table.code, 0);
    const lines = table.out.split('\n');
    assert.match(lines[0]!, /^RUN +STATUS +STARTED +DURATION +STEPS +METRICS$/);
    assert.match(lines[1]!, /-gpu-\w+ +succeeded /);
    assert.ok(lines.some((l) => /-word-count-\w+ +succeeded .* 5 cached +total-words 115/.test(l)));
    assert.ok(lines.some((l) => /-fails-\w+ +failed .* failed: second/.test(l)));
    const json = JSON.parse((await cellflow(['runs', '--json', '--pipeline', 'word-count'])).out);
    assert.ok(json.length >= 5);
    assert.ok(json.every((r: { pipeline: string }) => r.pipeline === 'word-count'));
    assert.deepEqual(json[0].parameters, { TOP_N: 8, MIN_LENGTH: 4 });
  });
});

describe('cellflow prune', () => {
  it('--dry-run lists what would go; then it deletes older runs and says what it freed', async () => {
    const before = JSON.parse((await cellflow(['runs', '--json'])).out) as { id: string }[];
    const wordCountRuns = JSON.parse(
      (await cellflow(['runs', '--json', '--pipeline', 'word-count'])).out,
    ) as { id: string }[];
    assert.ok(wordCountRuns.length >= 3);
    const preview = await cellflow([
      'prune',
      '--keep',
      '1',
      '--pipeline',
      'word-count',
      '--dry-run',
    ]);
    assert.equal(preview.code, 0, preview.err);
    assert.match(
      preview.out,
      new RegExp(
        `^Would delete ${wordCountRuns.length - 1} runs \\([\\d.]+ (B|KiB|MiB)\\): word-count ${wordCountRuns.length - 1}\\. Kept 1\\.$`,
        'm',
      ),
    );
    assert.match(preview.out, /^Nothing was deleted \(--dry-run\)\.$/m);
    assert.equal(JSON.parse((await cellflow(['runs', '--json'])).out).length, before.length);

    const pruned = await cellflow(['prune', '--keep', '1', '--pipeline', 'word-count']);
    assert.equal(pruned.code, 0, pruned.err);
    assert.match(pruned.out, /^Deleted \d+ runs \(/m);
    const after = JSON.parse((await cellflow(['runs', '--json'])).out) as {
      id: string;
      pipeline: string;
    }[];
    assert.equal(after.filter((r) => r.pipeline === 'word-count').length, 1);
    assert.equal(
      after.length,
      before.length - wordCountRuns.length + 1,
      'other pipelines untouched',
    );
    assert.equal(after.find((r) => r.pipeline === 'word-count')?.id, wordCountRuns[0]!.id);
  });

  it('a bad age is a usage error that shows the form', async () => {
    const bad = await cellflow(['prune', '--older-than', '7 days']);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /expected an age such as 30m, 12h, 7d or 2w/);
  });
});

describe('cellflow status and logs of local runs', () => {
  it('show a finished run and a step log from the history', async () => {
    const runs = JSON.parse(
      (await cellflow(['runs', '--json', '--pipeline', 'word-count'])).out,
    ) as { id: string; state: string }[];
    const run = runs.find((r) => r.state === 'succeeded')!;
    const status = await cellflow(['status', run.id]);
    assert.equal(status.code, 0, status.err);
    assert.match(status.out, new RegExp(`^Run ${run.id} \\(word-count\\): succeeded$`, 'm'));
    assert.match(status.out, /^ {2}count_words +(succeeded|cached) /m);
    const logs = await cellflow(['logs', run.id, 'report']);
    assert.equal(logs.code, 0, logs.err);
    assert.match(logs.out, /most common letters/);
    const missing = await cellflow(['logs', run.id, 'nosuch']);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /has no step `nosuch`/);
  });

  it('status --watch follows a run another process is running, to its end', async () => {
    const path = join(work, 'slow.ipynb');
    writeFileSync(
      path,
      notebook([
        { source: 'x = 2', tags: ['step:first'] },
        { source: 'import time\ntime.sleep(2)\ny = x * 2', tags: ['step:second'] },
      ]),
    );
    const runsDir = join(work, '.cellflow', 'runs');
    const before = new Set(readdirSync(runsDir));
    const child = spawn(
      process.execPath,
      [
        join(repoRoot, 'packages/cli/bin/cellflow.js'),
        'run',
        path,
        '--workspace',
        work,
        '--python',
        '/usr/bin/python3',
      ],
      { stdio: 'ignore' },
    );
    try {
      let id: string | undefined;
      for (let i = 0; i < 200 && id === undefined; i++) {
        id = readdirSync(runsDir).find((d) => !before.has(d) && d.includes('-slow-'));
        if (id === undefined || !existsSync(join(runsDir, id, 'run.json'))) {
          id = undefined;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      assert.ok(id !== undefined, 'the other process started a run');
      const watched = await cellflow(['status', id, '--watch']);
      assert.equal(watched.code, 0, watched.err);
      assert.match(watched.out, /\] second +running$/m);
      assert.match(watched.out, /\] second +succeeded in \d/m);
      assert.match(watched.out, /\] run succeeded in /);
    } finally {
      child.kill();
    }
  });
});
