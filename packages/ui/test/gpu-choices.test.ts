import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compile, parseCellTags, type GpuPool, type PipelineGraph } from '@cellflow/core';
import {
  gpuChoicesOf,
  gpuFitOf,
  gpuTagCellOf,
  parseGpuCount,
  suggestedGpuCount,
  withGpuChoice,
  type GpuChoice,
} from '@cellflow/ui';
import { notebookJson } from '../../../test/support/notebook-json.js';

const pools: GpuPool[] = [
  {
    node: 'a1',
    resource: 'nvidia.com/gpu',
    product: 'NVIDIA-A100-SXM4-80GB',
    allocatable: 8,
    free: 3,
  },
  {
    node: 'a2',
    resource: 'nvidia.com/gpu',
    product: 'NVIDIA-A100-SXM4-80GB',
    allocatable: 8,
    free: 0,
  },
  { node: 't4', resource: 'nvidia.com/gpu', product: 'Tesla-T4', allocatable: 1, free: 1 },
  { node: 'anon', resource: 'nvidia.com/gpu', product: null, allocatable: 2, free: 2 },
  { node: 'mi', resource: 'amd.com/gpu', product: 'AMD_Instinct_MI250X', allocatable: 4, free: 4 },
];

function graphOf(cells: readonly (readonly [readonly string[], string])[]): PipelineGraph {
  const result = compile(notebookJson(cells, { cellflow: { name: 'gpu' } }));
  assert.ok(result.graph !== undefined, JSON.stringify(result.diagnostics));
  return result.graph;
}

function choice(id: string): GpuChoice {
  const found = gpuChoicesOf(pools).find((c) => c.id === id);
  assert.ok(found !== undefined, `a choice ${id}`);
  return found;
}

describe("Deploy's GPU choices, the same in both editors (issue 15)", () => {
  it('offers each named product with its free and total counts, then any GPU, then none', () => {
    assert.deepEqual(
      gpuChoicesOf(pools).map((c) => [c.id, c.label, c.description]),
      [
        ['product:NVIDIA-A100-SXM4-80GB', 'NVIDIA-A100-SXM4-80GB', '3 of 16 free'],
        ['product:Tesla-T4', 'Tesla-T4', '1 of 1 free'],
        ['product:AMD_Instinct_MI250X', 'AMD_Instinct_MI250X', '4 of 4 free'],
        ['any', 'Any GPU', 'no product constraint'],
        ['none', 'No GPU', 'run this step on CPUs'],
      ],
    );
    // A node that does not name its product offers no product to ask for.
    assert.ok(gpuChoicesOf(pools).every((c) => !c.label.includes('nvidia.com/gpu')));
    assert.deepEqual(
      gpuChoicesOf([]).map((c) => c.id),
      ['any', 'none'],
    );
  });

  it('rewrites the gpu: tag as chosen, keeping the other tags; AMD products say their vendor', () => {
    const tags = ['step:huge', 'prev:fit', 'gpu:64', 'hide-input'];
    assert.deepEqual(withGpuChoice(tags, choice('product:Tesla-T4'), 1), [
      'step:huge',
      'prev:fit',
      'gpu:1:Tesla-T4',
      'hide-input',
    ]);
    const amd = withGpuChoice(tags, choice('product:AMD_Instinct_MI250X'), 2);
    assert.deepEqual(parseCellTags(amd).tags.gpu, { count: 2, product: 'AMD_Instinct_MI250X' });
    assert.equal(parseCellTags(amd).tags.gpuVendor, 'amd');
    // Back to an NVIDIA product drops the vendor; No GPU drops the request and the vendor.
    assert.equal(parseCellTags(withGpuChoice(amd, choice('any'), 2)).tags.gpuVendor, undefined);
    assert.deepEqual(withGpuChoice(amd, choice('none'), 0), [
      'step:huge',
      'prev:fit',
      'hide-input',
    ]);
  });

  it('suggests the step’s own count, at most what is free; reads a typed count', () => {
    const [step] = graphOf([[['step:train', 'gpu:4'], 'x = 1']]).steps;
    assert.ok(step !== undefined);
    assert.equal(suggestedGpuCount(step, choice('product:NVIDIA-A100-SXM4-80GB')), 3);
    assert.equal(suggestedGpuCount(step, choice('product:Tesla-T4')), 1);
    assert.equal(suggestedGpuCount(step, choice('any')), 4);
    assert.equal(parseGpuCount(' 2 '), 2);
    for (const bad of ['0', '-1', '1.5', 'two', '', '1e3'])
      assert.equal(parseGpuCount(bad), undefined);
  });

  it('checks each GPU step against the pools and finds the cell that carries its gpu: tag', () => {
    const graph = graphOf([
      [['step:fit', 'gpu:2:NVIDIA-A100-SXM4-80GB'], 'x = 1'],
      [['step:huge', 'prev:fit'], 'y = x'],
      [['gpu:64'], 'z = y'],
      [['step:cpu', 'prev:huge'], 'w = z'],
    ]);
    const fits = gpuFitOf(graph, pools, 'cluster context `admin`');
    assert.deepEqual(
      fits.map((f) => [f.step.name, f.request, f.severity]),
      [
        ['fit', '2 × NVIDIA-A100-SXM4-80GB', 'fits'],
        ['huge', '64 × nvidia.com/gpu', 'error'],
      ],
    );
    const huge = graph.steps.find((s) => s.name === 'huge');
    assert.ok(huge !== undefined);
    const tags = [['step:fit'], ['step:huge', 'prev:fit'], ['gpu:64'], ['step:cpu']];
    assert.equal(
      gpuTagCellOf(huge, (i) => parseCellTags(tags[i] ?? []).tags.gpu !== undefined),
      2,
    );
    assert.equal(
      gpuTagCellOf(huge, () => false),
      1,
      'a step without a gpu: tag gets it on its first cell',
    );
  });
});
