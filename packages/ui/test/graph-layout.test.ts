import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { analyzeNotebook } from '@cellflow/core';
import { layoutPipelineGraph } from '@cellflow/ui';

describe('pipeline graph layout', () => {
  const { graph } = analyzeNotebook(
    readFileSync(new URL('../../../examples/digits.ipynb', import.meta.url)),
    { fileName: 'digits.ipynb' },
  );
  assert.ok(graph);
  const layout = layoutPipelineGraph(graph);

  it('has a box per step and a line per dependency, with the variables it carries', () => {
    assert.deepEqual(
      layout.nodes.map((n) => n.name),
      graph.steps.map((s) => s.name),
    );
    assert.equal(layout.edges.length, graph.steps.flatMap((s) => s.after).length);
    const split = layout.edges.find((e) => e.from === 'load_data' && e.to === 'split');
    assert.deepEqual(split?.variables, ['X', 'y']);
    for (const e of layout.edges) assert.ok(e.points.length >= 2, `${e.from} -> ${e.to}`);
  });

  it('lays steps out left to right without overlaps, inside the drawing', () => {
    const at = new Map(layout.nodes.map((n) => [n.name, n]));
    assert.ok(at.get('load_data')!.x < at.get('split')!.x);
    assert.ok(at.get('split')!.x < at.get('train_svm')!.x);
    assert.ok(at.get('train_svm')!.x < at.get('pick_best')!.x);
    for (const a of layout.nodes) {
      assert.ok(a.x - a.width / 2 >= 0 && a.x + a.width / 2 <= layout.width);
      assert.ok(a.y - a.height / 2 >= 0 && a.y + a.height / 2 <= layout.height);
      for (const b of layout.nodes) {
        if (a === b) continue;
        const apart =
          Math.abs(a.x - b.x) >= (a.width + b.width) / 2 ||
          Math.abs(a.y - b.y) >= (a.height + b.height) / 2;
        assert.ok(apart, `${a.name} and ${b.name} overlap`);
      }
    }
  });
});
