import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'cellflow-bad-input-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function notebook(cells: unknown[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells, ...extra });
}

function code(source: string, tags: string[] = []): unknown {
  return { cell_type: 'code', metadata: { tags }, source, outputs: [], execution_count: null };
}

/** Compiles `content` with `-o`; the output file must not appear when compilation fails. */
function compileBad(
  name: string,
  content: string | Buffer,
): { stderr: string; code: number | null } {
  const input = join(dir, `${name}.ipynb`);
  const output = join(dir, `${name}.yaml`);
  writeFileSync(input, content);
  const run = runCli(['compile', input, '-o', output]);
  assert.equal(existsSync(output), false, `${name}: no output file may be written`);
  assert.doesNotMatch(run.stderr, /^\s+at /m, `${name}: no stack trace`);
  assert.equal(
    readdirSync(dir).filter((f) => f.endsWith('.tmp')).length,
    0,
    `${name}: no temporary files left`,
  );
  return run;
}

describe('bad input gets a clear error, never a crash or a partial file', () => {
  it('malformed JSON names the position and a fix', () => {
    const run = compileBad(
      'malformed',
      '{"nbformat": 4, "cells": [\n  {"cell_type": "code",,}\n]}',
    );
    assert.equal(run.code, 1);
    assert.match(run.stderr, /not valid JSON at line 2, column \d+/);
    assert.match(run.stderr, /Fix:/);
  });

  it('nbformat 3 asks for an upgrade', () => {
    const run = compileBad(
      'v3',
      JSON.stringify({ nbformat: 3, nbformat_minor: 0, metadata: {}, worksheets: [{ cells: [] }] }),
    );
    assert.equal(run.code, 1);
    assert.match(run.stderr, /nbformat 3; Cellflow reads nbformat 4/);
    assert.match(run.stderr, /nbconvert --to notebook --nbformat 4/);
  });

  it('an empty notebook and an empty file', () => {
    assert.match(compileBad('no-cells', notebook([])).stderr, /no-steps.*has no steps/);
    assert.match(compileBad('zero-bytes', '').stderr, /empty, not a notebook/);
  });

  it('non-UTF-8 text and binary garbage', () => {
    const latin1 = Buffer.from(notebook([code('name = "caf\u00e9"', ['step:a'])]), 'latin1');
    assert.match(compileBad('latin1', latin1).stderr, /not valid UTF-8/);
    const garbage = compileBad(
      'garbage',
      Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47]), randomBytes(4096)]),
    );
    assert.equal(garbage.code, 1);
    assert.match(garbage.stderr, /(not valid UTF-8|not valid JSON)/);
  });

  it('JSON that is not a notebook, and cells of the wrong shape', () => {
    assert.match(compileBad('array', '[1, 2, 3]').stderr, /no `cells` list/);
    const run = compileBad(
      'odd-cells',
      notebook([42, { cell_type: 'code', source: 7, metadata: { tags: ['step:a', 5] } }]),
    );
    assert.match(run.stderr, /cell 1: error \[malformed-cell\]/);
    assert.match(run.stderr, /cell 2: error \[malformed-cell\]/);
    assert.match(
      run.stderr,
      /cell 2: warning \[non-string-tag\] The cell has tags that are not strings/,
    );
  });

  it('a missing file and a folder', () => {
    const missing = runCli(['compile', join(dir, 'nope.ipynb')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no such file/);
    assert.match(runCli(['inspect', dir]).stderr, /is a folder/);
  });

  it('a failed compile leaves an existing output file untouched', () => {
    const input = join(dir, 'broken.ipynb');
    const output = join(dir, 'kept.yaml');
    writeFileSync(input, notebook([code('x = missing_name', ['step:a'])]));
    writeFileSync(output, 'previous content\n');
    const run = runCli(['compile', input, '-o', output]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /cell 1, line 1: error \[undefined-name\]/);
    assert.equal(readFileSync(output, 'utf8'), 'previous content\n');
  });

  it('huge cells compile', () => {
    const lines = Array.from({ length: 50_000 }, (_, i) => `v${i} = ${i} * 2`).join('\n');
    const input = join(dir, 'huge.ipynb');
    writeFileSync(
      input,
      notebook([code(lines, ['step:big']), code('total = v49999 + v0', ['step:use'])]),
    );
    const run = runCli(['inspect', input, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const json = JSON.parse(run.stdout);
    assert.deepEqual(json.steps[1].inputs, ['v0', 'v49999']);
  });
});
