import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeNotebook, checkGpuRequests, type GpuPool } from '@cellflow/core';

function graphWith(tags: string[]) {
  const text = JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [
      {
        cell_type: 'code',
        metadata: { tags: ['step:train', ...tags] },
        source: 'x = 1',
        outputs: [],
        execution_count: null,
      },
    ],
  });
  return analyzeNotebook(text).graph!;
}

const pools: GpuPool[] = [
  {
    node: 'gpu-a',
    resource: 'nvidia.com/gpu',
    product: 'NVIDIA-A100-SXM4-80GB',
    allocatable: 4,
    free: 1,
  },
  { node: 'gpu-b', resource: 'nvidia.com/gpu', product: 'Tesla-T4', allocatable: 2, free: 2 },
];

describe('GPU requests against capacity', () => {
  it('accepts what exists and is free', () => {
    assert.deepEqual(checkGpuRequests(graphWith(['gpu:2']), pools, 'cluster x'), []);
    assert.deepEqual(
      checkGpuRequests(graphWith(['gpu:1:NVIDIA-A100-SXM4-80GB']), pools, 'cluster x'),
      [],
    );
  });

  it('refuses a product no node has, listing what exists', () => {
    const [d] = checkGpuRequests(graphWith(['gpu:1:NVIDIA-H100']), pools, 'cluster x');
    assert.equal(d?.code, 'gpu-unavailable');
    assert.equal(d?.severity, 'error');
    assert.match(d.message, /no node with that product/);
    assert.match(
      d.message,
      /4 × NVIDIA-A100-SXM4-80GB on gpu-a \(1 free\); 2 × Tesla-T4 on gpu-b \(2 free\)/,
    );
  });

  it('refuses more GPUs than one node holds, and warns when they are busy', () => {
    assert.match(
      checkGpuRequests(graphWith(['gpu:8']), pools, 'cluster x')[0]!.message,
      /largest matching node .* has 4/,
    );
    const [busy] = checkGpuRequests(graphWith(['gpu:3:NVIDIA-A100-SXM4-80GB']), pools, 'cluster x');
    assert.equal(busy?.severity, 'warning');
    assert.equal(busy?.code, 'gpu-busy');
  });

  it('a machine without GPUs, and AMD requests on NVIDIA nodes', () => {
    assert.match(
      checkGpuRequests(graphWith(['gpu:1']), [], 'this machine')[0]!.message,
      /this machine has no `nvidia.com\/gpu` GPUs.*remove the `gpu:` tag/,
    );
    assert.match(
      checkGpuRequests(graphWith(['limit:amd.com/gpu:1']), pools, 'cluster x')[0]!.message,
      /no `amd.com\/gpu` GPUs/,
    );
  });
});
