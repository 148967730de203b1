import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeCellTags } from '@cellflow/vscode';

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
