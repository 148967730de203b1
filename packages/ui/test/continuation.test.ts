import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CellRole } from '@cellflow/core';
import { describeContinuation, joinedRole } from '@cellflow/ui';

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
