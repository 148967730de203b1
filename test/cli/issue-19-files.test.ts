/**
 * Issue 19: `compile -o` writes regular files only (never a device, pipe, folder or the input
 * notebook), writes a symlink's target and says so, keeps a file's mode; notebooks are read from
 * regular files of bounded size.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { repoRoot } from '../golden/golden-cases.js';
import { runCli } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'cellflow-issue-19-files-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const input = join(dir, 'word-count.ipynb');
copyFileSync(join(repoRoot, 'examples/word-count.ipynb'), input);
const inputBytes = readFileSync(input);

function compileTo(output: string): ReturnType<typeof runCli> {
  return runCli(['compile', input, '-o', output]);
}

function noTemporaryFiles(folder: string): void {
  assert.deepEqual(
    readdirSync(folder).filter((f) => f.endsWith('.tmp')),
    [],
    'no temporary file is left',
  );
}

describe('issue 19: compile -o writes regular files only', () => {
  it('refuses a device, a named pipe and a folder, leaving them as they were', () => {
    const devNull = statSync('/dev/null');
    const run = compileTo('/dev/null');
    assert.equal(run.code, 2);
    assert.match(run.stderr, /Refusing to write \/dev\/null: it is a device/);
    const after = statSync('/dev/null');
    assert.ok(after.isCharacterDevice() && after.ino === devNull.ino, '/dev/null is untouched');

    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    assert.match(compileTo(fifo).stderr, /it is a named pipe/);
    assert.ok(lstatSync(fifo).isFIFO());

    const folder = join(dir, 'folder');
    mkdirSync(folder);
    assert.match(compileTo(folder).stderr, /it is a folder/);
    assert.ok(lstatSync(folder).isDirectory());
    noTemporaryFiles(dir);
  });

  it('never overwrites the input notebook, by its name or through a symlink', () => {
    assert.match(compileTo(input).stderr, /it is the input notebook/);
    const link = join(dir, 'to-input.yaml');
    symlinkSync(input, link);
    const run = compileTo(link);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /a symlink to .*word-count\.ipynb\): it is the input notebook/);
    assert.deepEqual(readFileSync(input), inputBytes);
    assert.ok(lstatSync(link).isSymbolicLink());
  });

  it("writes a symlink's target, keeps the link and the file's mode, and says which file", () => {
    const target = join(dir, 'pipeline.yaml');
    writeFileSync(target, 'old\n');
    chmodSync(target, 0o640);
    const link = join(dir, 'latest.yaml');
    symlinkSync('pipeline.yaml', link);
    const run = compileTo(link);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /Wrote .*pipeline\.yaml \(the target of the symlink .*latest\.yaml\)/);
    assert.ok(lstatSync(link).isSymbolicLink(), 'the link is still a link');
    assert.match(readFileSync(target, 'utf8'), /^# PIPELINE DEFINITION/);
    assert.equal(statSync(target).mode & 0o777, 0o640, "the file's mode is kept");
    noTemporaryFiles(dir);
  });
});

describe('issue 19: notebooks are read from regular files of bounded size', () => {
  it('refuses /dev/zero and a named pipe at once, without reading them', () => {
    for (const path of ['/dev/zero', join(dir, 'pipe')]) {
      const started = Date.now();
      const run = runCli(['inspect', path]);
      assert.equal(run.code, 2);
      assert.match(run.stderr, /is not a regular file/);
      assert.ok(Date.now() - started < 20_000);
    }
  });

  it('refuses a notebook over 100 MiB with the size and a fix', () => {
    const big = join(dir, 'big.ipynb');
    writeFileSync(big, '');
    truncateSync(big, 100 * 1024 * 1024 + 1);
    const run = runCli(['compile', big]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /larger than 100 MiB.*Fix: clear its outputs/);
  });
});
