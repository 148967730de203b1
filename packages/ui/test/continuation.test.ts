import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeNotebook, type CellRole } from '@cellflow/core';
import { continuedStep, describeContinuation, joinedRole } from '@cellflow/ui';

describe('what a cell without a role tag continues', () => {
  it('names the step it runs in, else the role of the tagged cell above', () => {
    assert.equal(describeContinuation('train', undefined)?.text, '↳ continues train');
    const parameters = describeContinuation(undefined, 'parameters');
    assert.equal(parameters?.text, '↳ continues parameters');
    assert.match(parameters?.tooltip ?? '', /its variables become pipeline parameters/);
    assert.equal(describeContinuation(undefined, 'imports')?.text, '↳ continues imports');
    assert.equal(describeContinuation(undefined, undefined), undefined);
    assert.equal(describeContinuation(undefined, 'continue'), undefined);
  });

  it('a scratch cell under the parameters cell continues it, though its code runs in a step', () => {
    const code = (source: string, tags: string[]) => ({
      cell_type: 'code',
      metadata: { tags },
      source,
      outputs: [],
      execution_count: null,
    });
    const { graph } = analyzeNotebook(
      JSON.stringify({
        nbformat: 4,
        nbformat_minor: 5,
        metadata: {},
        cells: [
          code('N = 3', ['pipeline-parameters']),
          code('scratch = N * 2', []),
          code('x = N', ['step:make']),
          code('y = x + 1', []),
        ],
      }),
    );
    // The scratch cell's code runs in `make` (its cells list it), but it is the parameters block's.
    assert.ok(graph?.steps.find((s) => s.name === 'make')?.cells.includes(1));
    assert.equal(continuedStep(graph, 1), undefined);
    assert.equal(continuedStep(graph, 3), 'make');
  });

  it('finds the nearest cell above with a role tag, past markdown and untagged cells', () => {
    const roles: (CellRole['kind'] | undefined)[] = [
      'parameters',
      undefined,
      'continue',
      'continue',
    ];
    assert.equal(
      joinedRole(3, (i) => roles[i]),
      'parameters',
    );
    assert.equal(
      joinedRole(0, (i) => roles[i]),
      undefined,
    );
  });
});
