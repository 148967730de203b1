/**
 * `cellflow tune`'s live table as a terminal shows it: the CLI runs in-process (a real local
 * study, real Python) and writes into a headless xterm.js terminal, whose screen is then read.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import xterm from '@xterm/headless';
import type { StudySpec } from '@cellflow/core';
import type { TrialSummary } from '@cellflow/backend';
import { main, type CliContext } from '@cellflow/cli';
import { StudyProgress } from '../src/study-progress.js';

const work = mkdtempSync(join(tmpdir(), 'cellflow-tune-table-'));
after(() => rmSync(work, { recursive: true, force: true }));

interface Screen {
  readonly ctx: CliContext;
  /** The terminal's lines, top to bottom, without trailing blanks. */
  lines(): Promise<string[]>;
}

function screen(columns: number, isTTY = true): Screen {
  const term = new xterm.Terminal({
    cols: columns,
    rows: 60,
    convertEol: true,
    allowProposedApi: true,
  });
  let pending = Promise.resolve();
  const write = (text: string): void => {
    pending = pending.then(() => new Promise<void>((r) => term.write(text, r)));
  };
  return {
    ctx: {
      exitCode: 0,
      isTTY,
      columns,
      out: (line) => write(`${line}\n`),
      err: (line) => write(`${line}\n`),
      write,
    },
    async lines() {
      await pending;
      const buffer = term.buffer.active;
      const out: string[] = [];
      for (let i = 0; i < buffer.length; i++)
        out.push(buffer.getLine(i)?.translateToString(true) ?? '');
      while (out.length > 0 && out.at(-1) === '') out.pop();
      return out;
    },
  };
}

const peak = (): string =>
  JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      cellflow: {
        name: 'peak',
        tuning: {
          objective: 'score',
          algorithm: 'grid',
          maxTrials: 4,
          parallelTrials: 2,
          parameters: { X: { min: 2.5, max: 3.5, step: 1 }, N: { values: [3, 4] } },
        },
      },
    },
    cells: [
      ['pipeline-parameters', 'X = 1.0\nN = 2'],
      ['step:evaluate', 'score = 10 - (X - 3.5) ** 2 - (N - 4) ** 2'],
      ['pipeline-metrics', 'print(score)'],
    ].map(([tag, source]) => ({
      cell_type: 'code',
      execution_count: null,
      metadata: { tags: [tag] },
      outputs: [],
      source,
    })),
  });

describe('cellflow tune: the live table', () => {
  it('on a terminal, leaves the header, one row per trial and the summary; nothing of the redrawn part', async () => {
    const path = join(work, 'peak.ipynb');
    writeFileSync(path, peak());
    const term = screen(100);
    const code = await main(
      ['tune', path, '--python', '/usr/bin/python3', '--workspace', work],
      term.ctx,
    );
    const lines = await term.lines();
    const text = lines.join('\n');
    assert.equal(code, 0, text);
    const header = lines.findIndex((l) => /^ {2}trial +state +X +N +score +time$/.test(l));
    assert.ok(header > 0, text);
    const rows = lines.slice(header + 1, header + 5);
    assert.deepEqual(
      rows.map((r) => /^ {2}#(\d) /.exec(r)?.[1]).sort(),
      ['0', '1', '2', '3'],
      `one row per trial, right under the header:\n${text}`,
    );
    assert.equal(lines.filter((l) => /^ {2}#\d /.test(l)).length, 4, text);
    assert.ok(!/running|░|█/.test(text), `no running rows or progress bar left:\n${text}`);
    assert.match(text, /^ {2}#\d +succeeded +3\.5 +4 +10 +\S+ +★ best so far$/m);
    assert.equal(lines[header + 5], '', text);
    assert.match(lines[header + 6] ?? '', /^Study succeeded in .*: 4 succeeded, 0 failed\.$/);
  });

  it('while trials run, redraws their rows and the progress line below the finished rows', async () => {
    const spec = {
      objective: 'score',
      goal: 'maximize',
      maxTrials: 3,
      parameters: [{ name: 'X' }],
    } as unknown as StudySpec;
    const trial = (
      index: number,
      state: TrialSummary['state'],
      objective: number | null,
    ): TrialSummary => ({
      id: `t${index}`,
      index,
      parameters: { X: index + 0.5 },
      state,
      metrics: {},
      objective,
      startedAt: new Date(Date.now() - 1500).toISOString(),
      finishedAt: state === 'running' ? null : new Date().toISOString(),
    });
    // A terminal narrower than the progress line: the line is cut, never wrapped, so the
    // redraw still clears it.
    const term = screen(70);
    const progress = new StudyProgress(term.ctx, spec);
    progress.onTrial(trial(0, 'running', null));
    progress.onTrial(trial(1, 'running', null));
    progress.onTrial(trial(0, 'succeeded', 7));
    progress.onTrial(trial(2, 'running', null));
    let lines = await term.lines();
    assert.deepEqual(
      lines.map((l) => l.replace(/ +/g, ' ')),
      [
        ' trial state X score time',
        ' #0 succeeded 0.5 7 1.5s ★ best so far',
        ' #1 running 1.5 1.5s',
        ' #2 running 2.5 1.5s',
        lines[4]!.replace(/ +/g, ' '),
      ],
    );
    assert.match(lines[4]!, /^ {2}█+░+ 1\/3 trials · 2 running · best score/);
    assert.ok(lines[4]!.length < 70, lines[4]);
    progress.onTrial(trial(1, 'failed', null));
    progress.onTrial(trial(2, 'succeeded', 9));
    progress.stop();
    lines = await term.lines();
    assert.deepEqual(
      lines.map((l) => l.replace(/ +/g, ' ')),
      [
        ' trial state X score time',
        ' #0 succeeded 0.5 7 1.5s ★ best so far',
        ' #1 failed 1.5 1.5s',
        ' #2 succeeded 2.5 9 1.5s ★ best so far',
      ],
    );
  });

  it('into a log (not a terminal), prints a row when a trial starts and when it ends', async () => {
    const spec = {
      objective: 'score',
      goal: 'minimize',
      maxTrials: 1,
      parameters: [{ name: 'X' }],
    } as unknown as StudySpec;
    const term = screen(120, false);
    const progress = new StudyProgress(term.ctx, spec);
    const base = {
      id: 't0',
      index: 0,
      parameters: { X: 2 },
      metrics: {},
      startedAt: null,
      finishedAt: null,
    };
    progress.onTrial({ ...base, state: 'pending', objective: null });
    progress.onTrial({ ...base, state: 'running', objective: null });
    progress.onTrial({
      ...base,
      state: 'failed',
      objective: null,
      reason: 'Step `evaluate` failed: ValueError\nmore',
    });
    progress.stop();
    assert.deepEqual(
      (await term.lines()).map((l) => l.replace(/ +/g, ' ')),
      [
        ' trial state X score time',
        ' #0 running 2',
        ' #0 failed 2 Step `evaluate` failed: ValueError',
      ],
    );
  });
});
