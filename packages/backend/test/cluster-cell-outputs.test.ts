/**
 * A failed cluster step's cells' outputs come from its log (`cellflow-cell-outputs: inline:...`),
 * which anything in the step could have printed: what cannot be read is refused with a message
 * naming the step's log, a compression bomb stops at the bound, entries of the wrong shape are
 * left out.
 */
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { BackendError, readInlineCellOutputs } from '@cellflow/backend';

const pack = (value: unknown): string =>
  deflateSync(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64');
const where = 'The log of step fail';

describe("a failed cluster step's inline cell outputs", () => {
  it('reads what the runtime writes, leaving out entries of the wrong shape', () => {
    const cell = { cell: 6, outputs: [{ output_type: 'stream', name: 'stderr', text: 'x\n' }] };
    assert.deepEqual(readInlineCellOutputs(pack({ cells: [cell] }), where), [cell]);
    assert.deepEqual(
      readInlineCellOutputs(pack({ cells: [null, { cell: '6' }, { cell: 1 }, cell] }), where),
      [cell],
    );
  });

  it('refuses what is not compressed JSON of cell outputs, naming the step’s log', () => {
    const refused = (data: string, message: RegExp): void =>
      assert.throws(
        () => readInlineCellOutputs(data, where),
        (e: unknown) => e instanceof BackendError && message.test(e.message),
      );
    refused('bm90IHpsaWI=', /^The log of step fail carries cell outputs that cannot be read/);
    refused(pack('{"cells": [1, 2'), /^The log of step fail carries cell outputs that cannot be/);
    refused(pack({ outputs: [] }), /^The log of step fail holds no cell outputs/);
    // 100 MiB of spaces compress to ~100 KiB: inflating stops at the bound instead.
    const bomb = deflateSync(Buffer.alloc(100 << 20, 0x20)).toString('base64');
    assert.ok(bomb.length < 1 << 20);
    refused(bomb, /cannot be read \(.*(buffer|length|larger)/i);
  });
});
