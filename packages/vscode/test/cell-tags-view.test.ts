import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  describeCellTags,
  withDependency,
  withGpu,
  withoutDependency,
  withRole,
  withSetting,
} from '@cellflow/vscode';

describe('cell status text from tags', () => {
  it('shows role, dependencies, GPU, image and resources in that order', () => {
    const items = describeCellTags([
      'memory:4Gi',
      'gpu:1:NVIDIA-A100-SXM4-80GB',
      'prev:load',
      'step:train',
      'image:python:3.11-slim',
      'cpu:2',
    ]);
    assert.deepEqual(
      items.map((i) => [i.text, i.action]),
      [
        ['step: train', 'role'],
        ['after: load', 'dependency'],
        ['GPU 1 × A100', 'gpu'],
        ['image: python:3.11-slim', 'image'],
        ['cpu 2 · mem 4Gi', 'resources'],
      ],
    );
  });

  it('names the roles without a value and counts tag problems', () => {
    assert.deepEqual(
      describeCellTags(['imports']).map((i) => i.text),
      ['imports'],
    );
    assert.deepEqual(
      describeCellTags(['skip']).map((i) => i.text),
      ['skip'],
    );
    assert.deepEqual(
      describeCellTags(['pipeline-parameters']).map((i) => i.text),
      ['parameters'],
    );
    assert.deepEqual(describeCellTags([]), []);
    const bad = describeCellTags(['step:train', 'gpu:lots']);
    assert.equal(bad.at(-1)?.text, '$(warning) 1 tag problem');
    assert.equal(bad.at(-1)?.action, 'problems');
  });
});

describe('tag edits go through core formatter', () => {
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
