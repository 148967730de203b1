import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withDependency, withGpu, withoutDependency, withRole, withSetting } from '@cellflow/core';

describe('tag edits go through the tag formatter', () => {
  it('sets a role, keeping other tags and tags that are not Cellflow\u2019s', () => {
    assert.deepEqual(withRole(['hide-input', 'prev:a', 'skip'], { kind: 'step', name: 'train' }), [
      'step:train',
      'prev:a',
      'hide-input',
    ]);
    assert.deepEqual(withRole(['step:train', 'cpu:1'], { kind: 'continue' }), ['cpu:1']);
  });

  it('adds a dependency once and removes it', () => {
    const once = withDependency(['step:b'], 'a');
    assert.deepEqual(withDependency(once, 'a'), ['step:b', 'prev:a']);
    assert.deepEqual(withoutDependency(once, 'a'), ['step:b']);
  });

  it('sets and removes GPU, image and quantities', () => {
    const gpu = withGpu(['step:t'], { count: 2, product: 'NVIDIA-A100-SXM4-80GB' });
    assert.deepEqual(gpu, ['step:t', 'gpu:2:NVIDIA-A100-SXM4-80GB']);
    assert.deepEqual(withGpu(gpu, undefined), ['step:t']);
    const amd = withGpu(['step:t'], { count: 1 }, 'amd');
    assert.deepEqual(amd, ['step:t', 'gpu:1', 'gpu-vendor:amd']);
    assert.deepEqual(withGpu(amd, { count: 2 }), ['step:t', 'gpu:2', 'gpu-vendor:amd']);
    assert.deepEqual(withGpu(amd, { count: 2 }, 'nvidia'), ['step:t', 'gpu:2']);
    assert.deepEqual(withGpu(amd, undefined), ['step:t'], 'no GPU, no vendor');
    const image = withSetting(['step:t'], 'image', ' python:3.11 ');
    assert.deepEqual(image, ['step:t', 'image:python:3.11']);
    assert.deepEqual(withSetting(image, 'image', ''), ['step:t']);
    assert.deepEqual(withSetting(withSetting(['step:t'], 'memory', '4Gi'), 'cpu', '500m'), [
      'step:t',
      'cpu:500m',
      'memory:4Gi',
    ]);
  });
});
