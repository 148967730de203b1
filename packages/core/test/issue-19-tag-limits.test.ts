/** Issue 19: tag values are checked against what Kubernetes and Kubeflow Pipelines accept. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compile, parseCellTags } from '@cellflow/core';

function problemCodes(tags: string[]): string[] {
  return parseCellTags(['step:a', ...tags]).problems.map((p) => p.code);
}

describe('issue 19: tag values within what Kubernetes and KFP accept', () => {
  it('refuses absurd counts, quantities and retries instead of compiling invalid specs', () => {
    assert.deepEqual(problemCodes(['gpu:99999999999999999999999']), ['bad-gpu-count']);
    assert.deepEqual(problemCodes(['limit:nvidia.com/gpu:99999999999']), ['bad-gpu-count']);
    assert.deepEqual(problemCodes(['memory:1e999']), ['bad-quantity']);
    assert.deepEqual(problemCodes(['cpu:99999999999999999999999']), ['bad-quantity']);
    assert.deepEqual(problemCodes(['limit:ephemeral-storage:1e30Ei']), ['bad-quantity']);
    assert.deepEqual(problemCodes(['retries:99999999999999999999']), ['bad-retries']);
    assert.deepEqual(problemCodes(['gpu:8', 'memory:512Gi', 'cpu:64', 'retries:3']), []);
  });

  it('timeouts are from 1 s to 2^31-1 s: `timeout:0s` is refused, `timeout:25d` kept', () => {
    assert.deepEqual(problemCodes(['timeout:0s']), ['bad-timeout']);
    assert.deepEqual(problemCodes(['timeout:99999999999d']), ['bad-timeout']);
    assert.equal(parseCellTags(['step:a', 'timeout:25d']).tags.timeout, '25d');
  });

  it('image references follow the OCI reference grammar', () => {
    assert.deepEqual(problemCodes(['image:x;touch${IFS}/tmp/y']), ['bad-image']);
    assert.deepEqual(problemCodes(['image:Python:3.11']), ['bad-image']);
    assert.deepEqual(problemCodes(['image:python:3.11 slim']), ['bad-image']);
    for (const ok of [
      'python:3.11-slim',
      'ghcr.io/org/team/img:v1.2',
      'localhost:5000/img',
      `registry.example.com/img@sha256:${'ab'.repeat(32)}`,
    ])
      assert.deepEqual(problemCodes([`image:${ok}`]), [], ok);
  });

  it('a notebook image that is not a reference is an error', () => {
    const text = JSON.stringify({
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { cellflow: { image: 'x;rm -rf /' } },
      cells: [{ cell_type: 'code', metadata: { tags: ['step:a'] }, source: 'x = 1', outputs: [] }],
    });
    const { diagnostics } = compile(text, { fileName: 'image.ipynb' });
    assert.ok(diagnostics.some((d) => d.code === 'bad-image' && d.severity === 'error'));
  });

  it('step names fit a Kubernetes name (63 characters); huge tags are refused unread', () => {
    const long = 'a'.repeat(300);
    const parsed = parseCellTags([`step:${long}`]);
    assert.deepEqual(
      parsed.problems.map((p) => p.code),
      ['bad-step-name'],
    );
    assert.equal(parsed.problems[0]!.replacement, `step:${'a'.repeat(63)}`);
    assert.deepEqual(problemCodes([`prev:${long}`]), ['bad-step-name']);
    const huge = parseCellTags([`step:${'a'.repeat(5_000_000)}`]);
    assert.deepEqual(
      huge.problems.map((p) => p.code),
      ['tag-too-long'],
    );
    assert.ok(huge.problems[0]!.message.length < 300, 'the message quotes an excerpt only');
  });

  it('compile of a 5 MB step name is a diagnostic, not a crash', () => {
    const text = JSON.stringify({
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {},
      cells: [
        {
          cell_type: 'code',
          metadata: { tags: [`step:${'a'.repeat(5_000_000)}`] },
          source: 'x = 1',
          outputs: [],
        },
      ],
    });
    const { diagnostics, pipeline } = compile(text, { fileName: 'long.ipynb' });
    assert.equal(pipeline, undefined);
    assert.ok(diagnostics.some((d) => d.code === 'tag-too-long'));
  });

  it('`"tags": "step:a"` (a string) is an error with the list to write; markdown tags are warned', () => {
    const text = JSON.stringify({
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {},
      cells: [
        { cell_type: 'code', metadata: { tags: 'step:a' }, source: 'x = 1', outputs: [] },
        { cell_type: 'markdown', metadata: { tags: ['step:b'] }, source: '# B' },
        { cell_type: 'code', metadata: { tags: ['step:c'] }, source: 'y = 2', outputs: [] },
      ],
    });
    const { diagnostics } = compile(text, { fileName: 'tags.ipynb' });
    const malformed = diagnostics.find((d) => d.code === 'malformed-tag');
    assert.equal(malformed?.severity, 'error');
    assert.equal(malformed?.cell, 0);
    assert.match(malformed.message, /not a list.*\["step:a"\]/);
    const markdown = diagnostics.find((d) => d.code === 'tag-on-markdown');
    assert.equal(markdown?.cell, 1);
    assert.match(markdown.message, /markdown cell.*`step:b`/);
  });

  it('a syntax error quotes an excerpt of a long line, not all of it', () => {
    const line = `x = (${'1, '.repeat(2_000_000)}`;
    const text = JSON.stringify({
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {},
      cells: [{ cell_type: 'code', metadata: { tags: ['step:a'] }, source: line, outputs: [] }],
    });
    const { diagnostics } = compile(text, { fileName: 'long-line.ipynb' });
    const syntax = diagnostics.find((d) => d.code === 'syntax-error');
    assert.ok(syntax !== undefined);
    assert.ok(syntax.message.length < 400, `${syntax.message.length} characters`);
  });
});
