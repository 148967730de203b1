import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatCellTags, normalizeCellTags, parseCellTags } from '@cellflow/core';

describe('cell tags', () => {
  it('reads Kale tags, including the older block: alias', () => {
    const { tags, problems } = parseCellTags([
      'block:load',
      'prev:a',
      'prev:b',
      'limit:nvidia.com/gpu:2',
      'label:team:vision',
      'annotation:note:a:b:c',
    ]);
    assert.deepEqual(problems, []);
    assert.deepEqual(tags.role, { kind: 'step', name: 'load' });
    assert.deepEqual(tags.prev, ['a', 'b']);
    assert.deepEqual(tags.gpu, { count: 2 });
    assert.equal(tags.gpuVendor, 'nvidia');
    assert.deepEqual(tags.labels, { team: 'vision' });
    assert.deepEqual(tags.annotations, { note: 'a:b:c' }, 'colons in annotation values are kept');
  });

  it('keeps colons in image references and reads GPU products', () => {
    const { tags } = parseCellTags([
      'step:train',
      'image:python:3.11-slim',
      'gpu:2:NVIDIA-A100-SXM4-80GB',
      'gpu-vendor:amd',
    ]);
    assert.equal(tags.image, 'python:3.11-slim');
    assert.deepEqual(tags.gpu, { count: 2, product: 'NVIDIA-A100-SXM4-80GB' });
    assert.equal(tags.gpuVendor, 'amd');
  });

  it('treats papermill parameters as pipeline-parameters', () => {
    assert.deepEqual(parseCellTags(['parameters']).tags.role, { kind: 'parameters' });
  });

  it('reports bad values with a fix and keeps the tag verbatim', () => {
    const { tags, problems } = parseCellTags([
      'step:Load Data',
      'gpu:0',
      'cpu:lots',
      'timeout:soon',
      'secret:bad',
    ]);
    assert.deepEqual(
      problems.map((p) => p.code),
      ['bad-step-name', 'bad-gpu-count', 'bad-quantity', 'bad-timeout', 'bad-secret'],
    );
    assert.equal(problems[0]?.replacement, 'step:load_data');
    assert.deepEqual(tags.foreign, [
      'step:Load Data',
      'gpu:0',
      'cpu:lots',
      'timeout:soon',
      'secret:bad',
    ]);
  });

  it('suggests the closest tag for a typo and ignores other tools’ tags', () => {
    const { problems, tags } = parseCellTags(['setp:train', 'hide-input']);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]?.code, 'unknown-tag');
    assert.equal(problems[0]?.replacement, 'step:train');
    assert.deepEqual(tags.foreign, ['setp:train', 'hide-input']);
  });

  it('flags two roles on one cell', () => {
    assert.equal(parseCellTags(['imports', 'step:a']).problems[0]?.code, 'conflicting-role');
  });

  it('formats canonically and round-trips', () => {
    const raw = [
      'label:a:b',
      'memory:4Gi',
      'prev:load',
      'gpu:1',
      'step:train',
      'env:MODE=fast=1',
      'my-own-tag',
      'cpu:500m',
      'image:python:3.11',
    ];
    const formatted = normalizeCellTags(raw);
    assert.deepEqual(formatted, [
      'step:train',
      'prev:load',
      'image:python:3.11',
      'gpu:1',
      'cpu:500m',
      'memory:4Gi',
      'env:MODE=fast=1',
      'label:a:b',
      'my-own-tag',
    ]);
    assert.deepEqual(normalizeCellTags(formatted), formatted);
    assert.deepEqual(formatCellTags(parseCellTags(['limit:amd.com/gpu:1']).tags), [
      'gpu:1',
      'gpu-vendor:amd',
    ]);
  });
});
